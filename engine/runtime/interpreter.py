"""Runs a `Program`: a tree-walking interpreter built from Python generators.

Every branch of an execution (main, and each parallel branch or iteration) is
a generator. A step that must wait -- an HTTP call, a connector, a sleep, a
callback -- yields an effect and stays suspended until the engine resolves it,
so a waiting execution holds no thread and no lock. Branches interleave only
at effects, which keeps shared-variable updates atomic and the order of
everything deterministic: the same results delivered in the same order replay
the same execution, effect ids included.

Variables live in a chain of scopes (subworkflow, loop iteration, parallel
branch). A step pays only for the variables it touches: nothing is copied when
a scope is entered, values are copied when assigned or passed as arguments.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from typing import Any, NamedTuple

from approvals.engine.language.definition import (
    BREAK,
    CONTINUE,
    Action,
    Assign,
    Block,
    Call,
    Except,
    Loop,
    Parallel,
    Program,
    Raise,
    Retry,
    Return,
    Step,
    Steps,
    Subworkflow,
    Switch,
    Try,
)
from approvals.engine.language.parser import Target
from approvals.engine.runtime import stdlib
from approvals.engine.runtime.effects import (
    AWAIT_CALLBACK_TIMEOUT,
    AwaitCallbackEffect,
    CallEffect,
    CreateCallbackEffect,
    Effect,
    Host,
    SleepEffect,
)
from approvals.engine.runtime.errors import (
    PARALLEL_NESTING_ERROR,
    RECURSION_ERROR,
    SYSTEM_ERROR,
    TYPE_ERROR,
    UNHANDLED_BRANCH_ERROR,
    VALUE_ERROR,
    ResourceLimitError,
    WorkflowError,
)
from approvals.engine.runtime.expressions import Slot, assign, evaluate_value, locate
from approvals.engine.runtime.values import (
    MAX_STRING_BYTES,
    FunctionRef,
    check_string,
    copy_value,
    is_number,
    memory_size,
    type_name,
)

# "Quotas and limits": subworkflow call stack depth, nesting of parallel steps,
# and the unhandled branch errors one parallel step keeps.
MAX_CALL_DEPTH = 20
MAX_PARALLEL_DEPTH = 2
MAX_BRANCH_ERRORS = 100
# Quotas and limits (https://cloud.google.com/workflows/quotas): "the maximum cumulative size
# of variables, arguments, and events" is 512 KB, measured as the Variables page computes
# memory usage (`memory_size`); an execution runs at most 100,000 steps. (A string's 256 KB:
# values.MAX_STRING_BYTES.)
MEMORY_LIMIT = 512 * 1024
MAX_STEPS = 100_000
# "Maximum is 31536000 (one year)" (sys.sleep,
# https://cloud.google.com/workflows/docs/reference/stdlib/sys/sleep); no retry waits longer.
MAX_SLEEP_SECONDS = 31_536_000


# What a generator of this module yields, receives and returns.
_Gen = Generator[Any, Any, Any]


# ---------------------------------------------------------------- completions
#
# Immutable records are NamedTuples and mutable ones classes with __slots__, not dataclasses:
# the CLI's start would spend more creating dataclasses than running a short workflow (see
# `parser`). Completions are told apart by class: `_Jump("x") == _Return("x")` as tuples.


class _Jump(NamedTuple):
    """Leave the current block for `target`: a step name, end, break or continue."""

    target: str


class _Return(NamedTuple):
    value: Any


# ---------------------------------------------------------------- scopes


class _Memory:
    """What every live variable of one execution holds, in bytes (`memory_size`), against the limit."""

    __slots__ = ("used",)

    def __init__(self) -> None:
        self.used = 0

    def grow(self, delta: int) -> None:
        """Count `delta` more bytes (fewer if negative); growing past the limit is refused."""
        used = self.used + delta
        if delta > 0 and used > MEMORY_LIMIT:
            raise ResourceLimitError(
                f"memory limit exceeded: variables would hold {used} bytes, more than the "
                f"{MEMORY_LIMIT} bytes (512 KB) an execution may hold"
            )
        self.used = used


class _Scope:
    """One level of variables; reads see every enclosing level.

    A write goes to the nearest level that has the variable, but never past a
    parallel branch boundary unless the variable is shared there ("shared: a
    list of writable variables with parent scope", Parallel steps); otherwise
    it creates the variable here, so loop and branch locals vanish with their
    scope ("any variable created in a loop does not exist outside of that
    loop", Iteration). Each level keeps its variables' sizes, so the execution's
    memory changes by what one write changes, whatever else it holds; a write the limits
    refuse changes nothing.
    """

    __slots__ = ("memory", "parent", "shared", "sizes", "vars")

    def __init__(
        self,
        parent: _Scope | None = None,
        shared: frozenset[str] | None = None,
        memory: _Memory | None = None,
    ) -> None:
        self.vars: dict[str, Any] = {}
        self.sizes: dict[str, int] = {}
        self.parent = parent
        self.shared = shared  # None: every parent variable is writable (a loop scope)
        self.memory = parent.memory if parent is not None else memory or _Memory()

    def _owner(self, name: str) -> _Scope | None:
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.vars:
                return scope
            scope = scope.parent
        return None

    def __getitem__(self, name: str) -> Any:
        owner = self._owner(name)
        if owner is None:
            raise KeyError(name)
        return owner.vars[name]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._owner(name) is not None

    def __setitem__(self, name: str, value: Any) -> None:
        scope = self
        while name not in scope.vars:
            if scope.parent is None or (scope.shared is not None and name not in scope.shared):
                self.bind(name, value)
                return
            scope = scope.parent
        scope.bind(name, value)

    def bind(self, name: str, value: Any) -> None:
        """Set `name` at this level, within the memory and string limits."""
        size = _measure(value)
        sizes = self.sizes
        self.memory.grow(size - sizes.get(name, 0))
        sizes[name] = size
        self.vars[name] = value

    def store(self, name: str, slot: Slot) -> None:
        """Write into `name` in place (`a.b: 1`), counting only what the write changes.

        A path assignment then costs what the value written and the one it replaces
        cost, not what the whole variable holds; the limits are checked before the write.
        """
        owner = self._owner(name)
        if owner is not None:  # else a library value, a fresh copy (stdlib.global_value)
            growth = _growth(slot)
            self.memory.grow(growth)
            owner.sizes[name] += growth
        slot.store()

    def release(self) -> None:
        """This level's variables are gone: their bytes no longer count."""
        self.memory.grow(-sum(self.sizes.values()))
        self.sizes.clear()


def _growth(slot: Slot) -> int:
    """How many bytes `slot`'s write adds to its variable's memory size (fewer if negative)."""
    container, key, value = slot
    size = _measure(value)
    if isinstance(container, list) or key in container:
        return size - memory_size(container[key])
    return memory_size(key) + size  # a new map entry: its key counts too


def _measure(value: Any) -> int:
    """`memory_size(value)`, refusing a string past the string limit."""
    size = memory_size(value)
    if size > MAX_STRING_BYTES:
        _check_strings(value)
    return size


def _check_strings(value: Any) -> None:
    # Only a value whose size passes the string limit can hold a string that does. A list
    # grown to the memory limit passes here at each step: its items are looked at in a loop,
    # not a call each, and only a string of a quarter of the limit's characters is measured.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if len(item) * 4 > MAX_STRING_BYTES:
                check_string(item)
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


class _Frame:
    """The `Context` of expressions in one scope, plus the nesting depths limits apply to."""

    __slots__ = ("depth", "parallel_depth", "routine", "run", "variables")

    def __init__(
        self, run: Run, variables: _Scope, depth: int = 1, parallel_depth: int = 0, routine: str = "main"
    ) -> None:
        self.run = run
        self.variables = variables
        self.depth = depth
        self.parallel_depth = parallel_depth
        self.routine = routine  # the subworkflow whose steps run in this frame

    @property
    def host(self) -> Host:
        return self.run.host

    def child(self, shared: frozenset[str] | None = None, parallel: bool = False) -> _Frame:
        return _Frame(
            self.run,
            _Scope(self.variables, shared),
            self.depth,
            self.parallel_depth + (1 if parallel else 0),
            self.routine,
        )

    def call(self, name: str, args: list[Any]) -> Any:
        """A function call inside an expression: a pure library function or a subworkflow."""
        if name in self.run.program.subworkflows:
            return self.run.call_in_expression(name, args, self)
        function = stdlib.lookup(name)
        if function is None or not function.in_expressions:
            raise WorkflowError.tagged(TYPE_ERROR, f"{name} cannot be called in an expression")
        return stdlib.call_pure(function, self.host, stdlib.bind(function, positional=args))


# ---------------------------------------------------------------- scheduling


class _Spawn(NamedTuple):
    """Yielded by a parallel step: run these (branch id, generator) pairs, then resume me."""

    children: tuple[tuple[str, _Gen], ...]
    limit: int


class _Group:
    """The children of one running parallel step."""

    __slots__ = ("error_count", "errors", "parent", "running", "waiting")

    def __init__(self, parent: _Task, waiting: deque[tuple[str, str, _Gen]]) -> None:
        self.parent = parent
        self.waiting = waiting  # (path, branch id, generator) not started yet
        self.running = 0
        self.errors: list[dict[str, Any]] = []
        self.error_count = 0


class _Task:
    __slots__ = ("branch_id", "counter", "gen", "group", "inbox", "path")

    def __init__(self, path: str, gen: _Gen, group: _Group | None = None, branch_id: str = "") -> None:
        self.path = path
        self.gen = gen
        self.group = group
        self.branch_id = branch_id
        self.counter = 0
        self.inbox: tuple[str, Any] = ("send", None)


class Run:
    """One execution of a program, advanced by the engine one batch of work at a time."""

    def __init__(self, program: Program, argument: Any, host: Host) -> None:
        self.program = program
        self.host = host
        self.pending: dict[str, Effect] = {}
        self.done = False
        self.cancelled = False
        self.result: Any = None
        self.error: WorkflowError | None = None
        self.branch = "0"  # the branch running now; the engine's host journals by it
        self.memory = _Memory()
        self.steps = 0
        # (routine, step) of the step that ran last: the Executions API's status.currentSteps.
        self.current_step: tuple[str, str] | None = None
        self._waiting: dict[str, _Task] = {}
        self._tasks: dict[str, _Task] = {}
        self._ready: deque[_Task] = deque()
        self._start(_Task("0", self._main(argument)))

    # -- the engine's side

    def advance(self) -> None:
        """Run every runnable branch until each is done or waits on an effect."""
        while self._ready and not self.done:
            self._step(self._ready.popleft())

    def resolve(self, effect_id: str, result: Any = None, error: WorkflowError | None = None) -> None:
        """Deliver an effect's outcome; the branch resumes on the next advance()."""
        if effect_id not in self.pending:
            raise KeyError(f"no pending effect {effect_id!r}")
        del self.pending[effect_id]
        task = self._waiting.pop(effect_id)
        task.inbox = ("throw", error) if error is not None else ("send", result)
        self._ready.append(task)

    def cancel(self) -> None:
        """End the execution as cancelled; pending effects are dropped."""
        if self.done:
            return
        self._stop()
        self.cancelled = True
        self.done = True

    def _stop(self) -> None:
        """Close every branch still running; their pending effects are dropped."""
        for task in reversed(list(self._tasks.values())):
            task.gen.close()
        self._tasks.clear()
        self._ready.clear()
        self._waiting.clear()
        self.pending.clear()

    # -- tasks

    def _start(self, task: _Task) -> None:
        self._tasks[task.path] = task
        self._ready.append(task)

    def _step(self, task: _Task) -> None:
        self.branch = task.path
        mode, payload = task.inbox
        task.inbox = ("send", None)
        try:
            item = task.gen.throw(payload) if mode == "throw" else task.gen.send(payload)
        except StopIteration as stop:
            self._finish(task, stop.value, None)
        except WorkflowError as error:
            self._finish(task, None, error)
        except RecursionError as error:
            self._finish(task, None, WorkflowError.tagged(RECURSION_ERROR, f"stack too deep: {error}"))
        except Exception as error:  # an engine bug must fail the execution, not the engine
            message = f"internal error: {type(error).__name__}: {error}"
            self._finish(task, None, WorkflowError.tagged(SYSTEM_ERROR, message))
        else:
            if isinstance(item, _Spawn):
                self._spawn(task, item)
            else:
                effect_id = f"{task.path}:{task.counter}"
                task.counter += 1
                self.pending[effect_id] = item
                self._waiting[effect_id] = task

    def _spawn(self, task: _Task, spawn: _Spawn) -> None:
        number = task.counter
        task.counter += 1
        group = _Group(
            task,
            deque(
                (f"{task.path}/p{number}.{i}", branch_id, gen)
                for i, (branch_id, gen) in enumerate(spawn.children)
            ),
        )
        for _ in range(min(spawn.limit, len(group.waiting))):
            self._start_child(group)
        if group.running == 0:
            self._ready.append(task)

    def _start_child(self, group: _Group) -> None:
        path, branch_id, gen = group.waiting.popleft()
        group.running += 1
        self._start(_Task(path, gen, group, branch_id))

    def _finish(self, task: _Task, value: Any, error: WorkflowError | None) -> None:
        del self._tasks[task.path]
        group = task.group
        if group is None or isinstance(error, ResourceLimitError):
            # A limit error in a branch ends the execution at once, whatever the others do.
            self._stop()
            self.done = True
            self.result = value
            self.error = error
            return
        group.running -= 1
        if error is not None:
            group.error_count += 1
            if len(group.errors) < MAX_BRANCH_ERRORS:
                group.errors.append({"id": task.branch_id, "error": error.value})
        if group.waiting:
            self._start_child(group)
        elif group.running == 0:
            parent = group.parent
            if group.error_count:
                parent.inbox = ("throw", _unhandled_branches(group))
            self._ready.append(parent)

    # -- subworkflows

    def _main(self, argument: Any) -> _Gen:
        main = self.program.main
        scope = _Scope(memory=self.memory)
        if main.params:
            scope.bind(main.params[0].name, argument)
        return (yield from self._body(main, _Frame(self, scope)))

    def _body(self, sub: Subworkflow, frame: _Frame) -> _Gen:
        outcome = yield from self._block(sub.body, frame)
        return outcome.value if isinstance(outcome, _Return) else None

    def _enter(self, name: str, args: dict[str, Any], caller: _Frame) -> tuple[Subworkflow, _Frame]:
        """A subworkflow's frame with its parameters bound (arguments are values: copied)."""
        sub = self.program.subworkflows[name]
        if caller.depth >= MAX_CALL_DEPTH:
            raise WorkflowError.tagged(
                RECURSION_ERROR, f"calling {name}: subworkflow calls nest deeper than {MAX_CALL_DEPTH}"
            )
        frame = _Frame(self, _Scope(memory=self.memory), caller.depth + 1, caller.parallel_depth, name)
        try:
            for param in sub.params:
                if param.name in args:
                    frame.variables.bind(param.name, copy_value(args[param.name]))
                elif param.required:
                    raise WorkflowError.tagged(
                        TYPE_ERROR, f"{name}: missing required argument '{param.name}'"
                    )
                else:
                    frame.variables.bind(param.name, evaluate_value(param.default, frame))
        except WorkflowError:
            frame.variables.release()
            raise
        return sub, frame

    def _call_subworkflow(self, name: str, args: dict[str, Any], caller: _Frame) -> _Gen:
        sub, frame = self._enter(name, args, caller)
        try:
            return (yield from self._body(sub, frame))
        finally:
            frame.variables.release()

    def call_in_expression(self, name: str, args: list[Any], caller: _Frame) -> Any:
        """A subworkflow called from an expression runs to completion on the spot; it may not wait."""
        params = self.program.subworkflows[name].params
        if len(args) > len(params):
            raise WorkflowError.tagged(
                TYPE_ERROR, f"{name} takes at most {len(params)} arguments, got {len(args)}"
            )
        sub, frame = self._enter(name, {p.name: a for p, a in zip(params, args, strict=False)}, caller)
        gen = self._body(sub, frame)
        try:
            gen.send(None)
        except StopIteration as stop:
            return stop.value
        finally:
            frame.variables.release()
        gen.close()
        raise WorkflowError.tagged(
            TYPE_ERROR, f"{name} makes a blocking call, so it cannot run inside an expression"
        )

    # -- blocks and steps

    def _block(self, block: Block, frame: _Frame) -> _Gen:
        """Run steps in order; a jump to a step of this block continues here, others go up."""
        steps = block.steps
        i = 0
        while i < len(steps):
            outcome = yield from self._step_of(steps[i], frame)
            if outcome is None:
                i += 1
            elif isinstance(outcome, _Jump) and outcome.target in block.index:
                i = block.index[outcome.target]
            else:
                return outcome
        return None

    def _step_of(self, step: Step, frame: _Frame) -> _Gen:
        self.steps += 1
        self.current_step = (frame.routine, step.name)
        if self.steps > MAX_STEPS:
            raise ResourceLimitError(f"step {step.name}: an execution runs at most {MAX_STEPS} steps")
        outcome = yield from self._action(step.action, step, frame)
        if outcome is None and step.next is not None:
            return _Jump(step.next)
        return outcome

    def _action(self, action: Action | None, step: Step, frame: _Frame) -> _Gen:
        """Run one action; returns None to go on, or a _Jump / _Return."""
        match action:
            case None:
                return None
            case Assign(assignments=assignments):
                for assignment in assignments:
                    _assign(assignment.target, evaluate_value(assignment.value, frame), frame)
                return None
            case Call():
                yield from self._call(action, frame)
                return None
            case Switch():
                return (yield from self._switch(action, step, frame))
            case Loop():
                return (yield from self._loop(action, frame))
            case Parallel():
                yield from self._parallel(action, frame)
                return None
            case Try():
                return (yield from self._try(action, frame))
            case Raise(value=value):
                raise WorkflowError(evaluate_value(value, frame))
            case Return(value=value):
                result = evaluate_value(value, frame)
                _measure(result)  # a result, like a variable, holds no string past the limit
                return _Return(result)
            case Steps(body=body):
                return (yield from self._block(body, frame))

    def _call(self, action: Call, frame: _Frame) -> _Gen:
        args = {name: evaluate_value(value, frame) for name, value in (action.args or {}).items()}
        if action.kind == "subworkflow":
            result = yield from self._call_subworkflow(action.function, args, frame)
        else:
            for value in args.values():  # as a subworkflow's, whose parameters are variables
                _measure(value)
            function = stdlib.lookup(action.function)
            assert function is not None  # checked at definition time
            bound = stdlib.bind(function, named=args)
            if action.kind == "pure":
                result = stdlib.call_pure(function, self.host, bound)
            else:
                result = yield self._effect(action.function, bound)
        if action.result is not None:
            _assign(action.result, result, frame)

    def _effect(self, name: str, args: dict[str, Any]) -> Effect:
        """The effect that performs a blocking call (the engine protocol of the design)."""
        if name == "sys.sleep":
            seconds = args.get("seconds")
            if not is_number(seconds):
                raise WorkflowError.tagged(
                    TYPE_ERROR, f"sys.sleep: seconds must be a number, got {type_name(seconds)}"
                )
            if seconds < 0:
                raise WorkflowError.tagged(VALUE_ERROR, "sys.sleep: seconds must not be negative")
            # Written so that NaN fails too: a timer at NaN or infinity is never due and stalls
            # the engine's loop (infinity overflowed its wait, NaN spun it).
            if not seconds <= MAX_SLEEP_SECONDS:
                raise WorkflowError.tagged(
                    VALUE_ERROR,
                    f"sys.sleep: seconds must be at most {MAX_SLEEP_SECONDS} (one year), got {seconds}",
                )
            return SleepEffect(self.host.now() + seconds)
        if name == "sys.sleep_until":
            # Imported here, like the library's modules (stdlib.lookup): zoneinfo is slow to load.
            from approvals.engine.runtime.stdlib.time import parse_timestamp

            return SleepEffect(parse_timestamp("sys.sleep_until", "time", args.get("time")))
        if name == "events.create_callback_endpoint":
            method = args.get("http_callback_method") or "POST"
            if not isinstance(method, str):
                raise WorkflowError.tagged(
                    TYPE_ERROR,
                    f"events.create_callback_endpoint: http_callback_method must be a string, "
                    f"got {type_name(method)}",
                )
            return CreateCallbackEffect(method)
        if name == "events.await_callback":
            callback = args.get("callback")
            if not isinstance(callback, dict):
                raise WorkflowError.tagged(
                    TYPE_ERROR, f"events.await_callback: callback must be a map, got {type_name(callback)}"
                )
            timeout = args.get("timeout")
            timeout = AWAIT_CALLBACK_TIMEOUT if timeout is None else timeout
            if not is_number(timeout):
                raise WorkflowError.tagged(TYPE_ERROR, "events.await_callback: timeout must be a number")
            if not math.isfinite(timeout):
                raise WorkflowError.tagged(
                    VALUE_ERROR,
                    f"events.await_callback: timeout must be a finite number of seconds, got {timeout}",
                )
            return AwaitCallbackEffect(callback, float(timeout))
        return CallEffect(name, args)

    def _switch(self, action: Switch, step: Step, frame: _Frame) -> _Gen:
        # "The first condition to evaluate as true" runs (Conditions); none: fall through.
        for condition in action.conditions:
            test = evaluate_value(condition.test, frame)
            if not isinstance(test, bool):
                raise WorkflowError.tagged(
                    TYPE_ERROR, f"a switch condition must be a boolean, got {type_name(test)}"
                )
            if test:
                outcome = yield from self._action(condition.action, step, frame)
                if outcome is None and condition.next is not None:
                    return _Jump(condition.next)
                return outcome
        return None

    def _iterations(self, loop: Loop, frame: _Frame) -> Iterable[Any]:
        if loop.has_items:
            items = evaluate_value(loop.items, frame)
            if not isinstance(items, list):
                raise WorkflowError.tagged(TYPE_ERROR, f"for: in must be a list, got {type_name(items)}")
            return items
        bounds = evaluate_value(loop.range, frame)
        if not (isinstance(bounds, list) and len(bounds) == 2 and all(is_number(b) for b in bounds)):
            raise WorkflowError.tagged(TYPE_ERROR, "for: range must be a list of two numbers [start, end]")
        # "both inclusive" ... "must evaluate into incrementable values; that is, integer or double".
        # Counted as the loop goes: `range: [0, 9223372036854775807]` ends at the step limit,
        # where a list of its values would exhaust the machine's memory first.
        return _count(*bounds)

    def _loop(self, loop: Loop, frame: _Frame) -> _Gen:
        for index, value in enumerate(self._iterations(loop, frame)):
            outcome = yield from self._iteration(loop, frame.child(), index, value)
            if outcome is None or (isinstance(outcome, _Jump) and outcome.target == CONTINUE):
                continue
            if isinstance(outcome, _Jump) and outcome.target == BREAK:
                break
            return outcome
        return None

    def _iteration(self, loop: Loop, frame: _Frame, index: int, value: Any) -> _Gen:
        try:
            frame.variables.bind(loop.value, copy_value(value))  # not the list's element itself
            if loop.index is not None:
                frame.variables.bind(loop.index, index)
            return (yield from self._block(loop.body, frame))
        finally:
            frame.variables.release()

    def _parallel(self, action: Parallel, frame: _Frame) -> _Gen:
        if frame.parallel_depth >= MAX_PARALLEL_DEPTH:
            raise WorkflowError.tagged(
                PARALLEL_NESTING_ERROR, f"parallel steps nest deeper than {MAX_PARALLEL_DEPTH} levels"
            )
        shared = frozenset(action.shared)
        children: list[tuple[str, _Gen]] = []
        if action.loop is not None:
            loop = action.loop
            # Each iteration runs a step at least: past MAX_STEPS of them the execution must
            # fail at the step limit, so it does now, before making a branch for each.
            iterations = itertools.islice(self._iterations(loop, frame), MAX_STEPS + 1)
            for index, value in enumerate(iterations):
                if index == MAX_STEPS:
                    raise ResourceLimitError(
                        f"a parallel for loop of more than {MAX_STEPS} iterations "
                        f"runs more than the {MAX_STEPS} steps an execution may run"
                    )
                child = frame.child(shared, parallel=True)
                children.append(
                    (str(index), self._branch(self._iteration(loop, child.child(), index, value), child))
                )
        else:
            for branch in action.branches or ():
                child = frame.child(shared, parallel=True)
                children.append((branch.name, self._branch(self._block(branch.body, child), child)))
        limit = len(children)
        if action.concurrency_limit is not None:
            limit = evaluate_value(action.concurrency_limit, frame)
            if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
                raise WorkflowError.tagged(VALUE_ERROR, "concurrency_limit must be a positive integer")
        yield _Spawn(tuple(children), limit)

    def _branch(self, body: _Gen, frame: _Frame) -> _Gen:
        # A branch or iteration ends at its last step, at return, at next: end or continue.
        try:
            yield from body
        finally:
            frame.variables.release()
        return None

    def _try(self, action: Try, frame: _Frame) -> _Gen:
        retries = 0
        policy: _Policy | None = None
        while True:
            try:
                return (yield from self._block(action.body, frame))
            except ResourceLimitError:
                raise  # not for `except` or `retry` (see ResourceLimitError)
            except WorkflowError as error:
                caught = error
            if action.retry is not None:
                policy = policy or self._policy(action.retry, frame)
                if retries < policy.max_retries and (yield from self._should_retry(policy, caught, frame)):
                    delay = policy.delay(retries)
                    retries += 1
                    if delay > 0:
                        yield SleepEffect(self.host.now() + delay)
                    continue
            if action.handler is None:
                raise caught
            return (yield from self._handle(action.handler, caught, frame.child()))

    def _handle(self, handler: Except, caught: WorkflowError, frame: _Frame) -> _Gen:
        """An except block in a scope of its own, like a loop body: "This local scoping also
        applies to any variable created inside an except block" (Variables), the error
        variable included; variables of the enclosing scope stay writable.
        """
        try:
            if handler.name is not None:
                # A copy: `raise: ${m}` raised the variable m itself.
                frame.variables.bind(handler.name, copy_value(caught.value))
            return (yield from self._block(handler.body, frame))
        finally:
            frame.variables.release()

    def _policy(self, retry: Retry, frame: _Frame) -> _Policy:
        if retry.policy is not None:
            value = evaluate_value(retry.policy, frame)
            if not isinstance(value, dict):
                raise WorkflowError.tagged(TYPE_ERROR, f"retry policy must be a map, got {type_name(value)}")
            return _Policy.of(value)
        backoff = None
        if retry.backoff is not None:
            backoff = {
                name: evaluate_value(part, frame)
                for name, part in retry.backoff._asdict().items()
                if part is not None
            }
        return _Policy.of(
            {
                "predicate": evaluate_value(retry.predicate, frame),
                "max_retries": evaluate_value(retry.max_retries, frame),
                "backoff": backoff,
            }
        )

    def _should_retry(self, policy: _Policy, error: WorkflowError, frame: _Frame) -> _Gen:
        name = policy.predicate.name
        if name in self.program.subworkflows:
            params = self.program.subworkflows[name].params
            args = {params[0].name: error.value} if params else {}
            verdict = yield from self._call_subworkflow(name, args, frame)
        else:
            verdict = frame.call(name, [error.value])
        if not isinstance(verdict, bool):
            raise WorkflowError.tagged(
                TYPE_ERROR, f"retry predicate {name} returned {type_name(verdict)}, not a boolean"
            )
        return verdict


class _Policy(NamedTuple):
    """A retry policy: which errors to retry, how often, and the waits in between (Retry steps)."""

    predicate: FunctionRef
    max_retries: int
    initial_delay: float
    max_delay: float
    multiplier: float

    @classmethod
    def of(cls, value: dict[str, Any]) -> _Policy:
        predicate = value.get("predicate")
        if not isinstance(predicate, FunctionRef):
            raise WorkflowError.tagged(
                TYPE_ERROR, f"retry predicate must be a function or subworkflow, got {type_name(predicate)}"
            )
        max_retries = value.get("max_retries")
        if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
            raise WorkflowError.tagged(TYPE_ERROR, "retry max_retries must be a non-negative integer")
        backoff = value.get("backoff") or {}
        if not isinstance(backoff, dict):
            raise WorkflowError.tagged(TYPE_ERROR, "retry backoff must be a map")
        numbers = []
        for name, default in (("initial_delay", 0), ("max_delay", 0), ("multiplier", 1)):
            number = backoff.get(name, default)
            if number is None:
                number = default
            if not is_number(number) or not 0 <= number < math.inf:
                raise WorkflowError.tagged(
                    TYPE_ERROR, f"retry backoff {name} must be a non-negative finite number"
                )
            numbers.append(number)
        return cls(predicate, max_retries, *numbers)

    def delay(self, retries: int) -> float:
        """The wait before retry number `retries` (0-based): initial_delay * multiplier^n, capped."""
        try:
            growth = float(self.multiplier) ** retries
        except OverflowError:
            growth = math.inf
        delay = self.initial_delay * growth if self.initial_delay else 0
        delay = min(delay, self.max_delay) if self.max_delay else delay
        return min(delay, MAX_SLEEP_SECONDS)


def _count(start: float, end: float) -> Iterator[float]:
    """`start`, `start + 1`, ... up to `end` included, each made when the loop reaches it."""
    current = start
    while current <= end:
        yield current
        current += 1


def _assign(target: Target, value: Any, frame: _Frame) -> None:
    """`assign`, with a path assignment counted by what it changes (`_Scope.store`)."""
    if target.path:
        frame.variables.store(target.name, locate(target, copy_value(value), frame))
    else:
        assign(target, value, frame)


def _unhandled_branches(group: _Group) -> WorkflowError:
    """After every branch ended: "UnhandledBranchError ... one or more branches or iterations
    encountered an unhandled runtime error" (Workflow errors), listing each branch's error.
    """
    count = group.error_count
    return WorkflowError.tagged(
        UNHANDLED_BRANCH_ERROR,
        f"UnhandledBranchError: {count} branches or iterations raised an unhandled error",
        branches=group.errors,
        truncated=count > len(group.errors),
    )
