"""Questions about a parsed workflow, answered from its step AST rather than from its YAML.

The template renderer's checks, the policy pack and the tests ask the same few things of a
workflow: which functions and subworkflows it calls and with what, which env vars it reads,
where it waits for a callback and which `except` blocks guard a step. Each is answered here
by one walk over the AST `definition` builds, so they cannot drift from what the engine runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from approvals.engine.language.definition import (
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
from approvals.engine.language.parser import (
    Attribute,
    Binary,
    Compiled,
    Const,
    Expression,
    Literal,
    Name,
    dotted_name,
    expressions_in,
    operands,
    subexpressions,
)
from approvals.engine.language.parser import Call as FunctionCall
from approvals.engine.runtime.values import FunctionRef

AWAIT_CALLBACK = "events.await_callback"
GET_ENV = "sys.get_env"


class Handler(NamedTuple):
    """An `except` block guarding a step, and the error tags it tests (`"TimeoutError" in e.tags`)."""

    handler: Except
    tags: frozenset[str]


class Site(NamedTuple):
    """One action where it sits: its subworkflow, its step, and the handlers around it.

    A switch condition's inline action is a site of its own, under its step's name.
    `handlers` are the `except` blocks of the `try` steps around it, innermost first.
    """

    subworkflow: str
    step: str
    line: int
    action: Action | None
    handlers: tuple[Handler, ...]
    node: Step | None  # the step, None for a condition's inline action


class CallSite(NamedTuple):
    """A call step: what it calls, with which arguments, and where."""

    subworkflow: str
    step: str
    call: Call
    handlers: tuple[Handler, ...]

    @property
    def line(self) -> int:
        return self.call.line


class Located(NamedTuple):
    """A `${...}` expression of the workflow and the step and line it is written at."""

    subworkflow: str
    step: str | None  # None for a parameter's default
    line: int
    expression: Expression


class EnvRead(NamedTuple):
    """A `sys.get_env` call; `name` is None when it is not a constant string."""

    name: str | None
    has_default: bool
    subworkflow: str
    step: str | None
    line: int


def subworkflows_of(of: Program | Subworkflow) -> tuple[Subworkflow, ...]:
    return tuple(of.subworkflows.values()) if isinstance(of, Program) else (of,)


def sites(of: Program | Subworkflow) -> Iterator[Site]:
    """Every action, nested ones included, depth first in source order."""
    for subworkflow in subworkflows_of(of):
        yield from sites_in(subworkflow.body, subworkflow.name)


def sites_in(block: Block, subworkflow: str = "", handlers: tuple[Handler, ...] = ()) -> Iterator[Site]:
    """Every action of `block` (an `except` block's steps, a branch), nested ones included."""
    yield from _block_sites(subworkflow, block, handlers)


def _block_sites(subworkflow: str, block: Block, handlers: tuple[Handler, ...]) -> Iterator[Site]:
    for step in block.steps:
        yield Site(subworkflow, step.name, step.line, step.action, handlers, step)
        yield from _nested_sites(subworkflow, step, step.action, handlers)


def _nested_sites(
    subworkflow: str, step: Step, action: Action | None, handlers: tuple[Handler, ...]
) -> Iterator[Site]:
    match action:
        case Try(body=body, handler=handler):
            inside = handlers if handler is None else (Handler(handler, handled_tags(handler)), *handlers)
            yield from _block_sites(subworkflow, body, inside)
            if handler is not None:
                yield from _block_sites(subworkflow, handler.body, handlers)
        case Switch(conditions=conditions):
            for condition in conditions:
                if condition.action is not None:
                    yield Site(subworkflow, step.name, condition.line, condition.action, handlers, None)
                    yield from _nested_sites(subworkflow, step, condition.action, handlers)
        case Steps(body=body) | Loop(body=body):
            yield from _block_sites(subworkflow, body, handlers)
        case Parallel(branches=branches, loop=loop):
            if loop is not None:
                yield from _block_sites(subworkflow, loop.body, handlers)
            for branch in branches or ():
                yield from _block_sites(subworkflow, branch.body, handlers)


def calls(of: Program | Subworkflow) -> Iterator[CallSite]:
    """Every call step, with its arguments as compiled values."""
    for site in sites(of):
        if isinstance(site.action, Call):
            yield CallSite(site.subworkflow, site.step, site.action, site.handlers)


def awaits(of: Program | Subworkflow) -> Iterator[CallSite]:
    """Every `events.await_callback` call step."""
    return (site for site in calls(of) if site.call.function == AWAIT_CALLBACK)


def handlers_of(program: Program, step: Step) -> tuple[Handler, ...]:
    """The `except` blocks guarding `step` (a step of `program`), innermost first."""
    for site in sites(program):
        if site.node is step:
            return site.handlers
    raise ValueError(f"step {step.name!r} is not a step of this program")


def handled_tags(handler: Except) -> frozenset[str]:
    """The error tags an `except` block tests: each `"Tag" in e.tags` it evaluates."""
    tags: set[str] = set()
    for site in sites_in(handler.body):
        for located in _action_expressions(site.action):
            for node in subexpressions(located.expr):
                match node:
                    case Binary(op="in", left=Literal(value=str() as tag), right=Attribute(name="tags")):
                        tags.add(tag)
    return frozenset(tags)


def expressions(of: Program | Subworkflow) -> Iterator[Located]:
    """Every `${...}` of the workflow: in steps, conditions, retries and parameter defaults."""
    for subworkflow in subworkflows_of(of):
        for param in subworkflow.params:
            if param.default is not None:
                for expression in expressions_in(param.default):
                    yield Located(subworkflow.name, None, subworkflow.line, expression)
    for site in sites(of):
        for line, expression in _lined_expressions(site):
            yield Located(site.subworkflow, site.step, line, expression)


def _lined_expressions(site: Site) -> Iterator[tuple[int, Expression]]:
    """The expressions of one site's own action, each with the line nearest to it."""
    match site.action:
        case Assign(assignments=assignments):
            for assignment in assignments:
                yield from ((assignment.line, e) for e in expressions_in(assignment.value))
        case Call(args=args, arg_lines=lines):
            for name, value in (args or {}).items():
                yield from ((lines[name], e) for e in expressions_in(value))
        case Raise(value=value, line=line) | Return(value=value, line=line):
            yield from ((line, e) for e in expressions_in(value))
        case Switch(conditions=conditions):
            for condition in conditions:
                yield from ((condition.line, e) for e in expressions_in(condition.test))
        case _:
            yield from ((site.line, e) for e in _action_expressions(site.action))


def _action_expressions(action: Action | None) -> Iterator[Expression]:
    """The expressions an action holds itself, not those of the blocks nested in it."""
    for value in values_of(action):
        yield from expressions_in(value)


def values_of(action: Action | None) -> Iterator[Compiled]:
    """The values an action holds itself (arguments, assigned values, conditions, retry
    settings...), not those of the blocks nested in it."""
    match action:
        case Assign(assignments=assignments):
            yield from (assignment.value for assignment in assignments)
        case Call(args=args):
            yield from (args or {}).values()
        case Raise(value=value) | Return(value=value):
            yield value
        case Switch(conditions=conditions):
            yield from (condition.test for condition in conditions)
        case Loop():
            yield from _loop_values(action)
        case Parallel(concurrency_limit=limit, loop=loop):
            if limit is not None:
                yield limit
            if loop is not None:
                yield from _loop_values(loop)
        case Try(retry=retry) if retry is not None:
            yield from _retry_values(retry)


def _loop_values(loop: Loop) -> Iterator[Compiled]:
    yield from (value for value in (loop.items, loop.range) if value is not None)


def _retry_values(retry: Retry) -> Iterator[Compiled]:
    backoff = retry.backoff or ()
    yield from (v for v in (retry.policy, retry.predicate, retry.max_retries, *backoff) if v is not None)


def env_reads(of: Program | Subworkflow) -> Iterator[EnvRead]:
    """Every `sys.get_env` call; one whose name is not a constant string has `name` None."""
    for located in expressions(of):
        for node in subexpressions(located.expression.expr):
            if isinstance(node, FunctionCall) and node.name == GET_ENV and node.args:
                first = node.args[0]
                name = first.value if isinstance(first, Literal) and isinstance(first.value, str) else None
                yield EnvRead(name, len(node.args) > 1, located.subworkflow, located.step, located.line)


def referenced_names(of: Program | Subworkflow) -> set[str]:
    """Names the workflow may invoke as subworkflows: call steps, calls in expressions, and
    retry predicates naming one (`predicate: ${my_predicate}`)."""
    names = {site.call.function for site in calls(of) if "." not in site.call.function}
    for located in expressions(of):
        for node in subexpressions(located.expression.expr):
            if isinstance(node, FunctionCall) and "." not in node.name:
                names.add(node.name)
    for site in sites(of):
        match site.action:
            case Try(retry=Retry(predicate=Expression(expr=Name(name=name)))):
                names.add(name)
            case Try(retry=Retry(predicate=Const(value=FunctionRef(name=name)))):
                # A subworkflow of the same source, which the parser resolved.
                names.add(name)
    return names


def action_reads(action: Action | None) -> set[str]:
    """The dotted names an action's own values read (see `reads`)."""
    return {name for value in values_of(action) for name in reads(value)}


def reads(compiled: Compiled) -> set[str]:
    """The dotted names a value's expressions read (`callback.url`, `url`), longest form."""
    found: set[str] = set()
    for expression in expressions_in(compiled):
        pending = [expression.expr]
        while pending:
            node = pending.pop()
            name = dotted_name(node) if isinstance(node, Name | Attribute) else None
            if name is not None:
                found.add(name)
            else:
                pending.extend(operands(node))
    return found
