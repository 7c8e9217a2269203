"""Workflow YAML -> a validated `Program` whose expressions are compiled once.

Deploying a workflow in Google's service rejects a bad definition before any
execution starts; this module does the same, and every `DefinitionError` names
the file, the line and the step so that the author can find it. Both documented
source forms are accepted: a map of subworkflows (one named `main`) or a plain
list of steps, which is then `main` ("Syntax overview": "They contain only one
main workflow. They might contain subworkflows.").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal, NamedTuple

import yaml

from approvals.engine.language.document import DocumentError, check_document
from approvals.engine.language.parser import (
    Compiled,
    Const,
    Expression,
    Name,
    Target,
    calls_in,
    compile_value,
    dotted_name,
    parse_target,
    references,
)
from approvals.engine.runtime import stdlib
from approvals.engine.runtime.errors import DefinitionError, WorkflowError
from approvals.engine.runtime.values import FunctionRef

# libyaml keeps the same line marks and is several times faster.
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BOOL_TAG = "tag:yaml.org,2002:bool"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_VALUE_TAG = "tag:yaml.org,2002:value"


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """A YAML reader whose plain values are the Workflows data types ("Data types" page).

    Only "`true`/`false`, `True`/`False`, `TRUE`/`FALSE`" are booleans: YAML 1.1's `yes`,
    `no`, `on` and `off` stay text (a list of country codes keeps Norway's `NO`). There
    is no date type: `2024-01-01` is the string as written, not a date no value can hold.
    A lone `=` is text too, not YAML 1.1's "value key", which no Workflows value is.
    """


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, pattern) for tag, pattern in resolvers if tag not in (_BOOL_TAG, _TIMESTAMP_TAG, _VALUE_TAG)
    ]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)\Z"), list("tTfF"))
# An explicit `!!timestamp` too: its text, since no Workflows value is a date.
_Loader.add_constructor(_TIMESTAMP_TAG, _BaseLoader.construct_yaml_str)

# Documented limits (JSON schema of the syntax and "Quotas and limits").
MAX_ASSIGNMENTS = 50  # "assign": maxItems 50
MAX_CONDITIONS = 50  # "switch": maxItems 50
MAX_BRANCHES = 10  # "branches": minItems 2, maxItems 10
MAX_SUBWORKFLOW_PARAMS = 10  # subworkflow "params": maxItems 10
# A revision's user env vars: "Keys can't be an empty string", "can't contain the prefix
# GOOGLE_" or "WORKFLOWS_" (Use environment variables); "This map has a maximum length of 20"
# (Workflow.userEnvVars in the REST reference).
RESERVED_ENV_PREFIXES = ("GOOGLE_", "WORKFLOWS_")
MAX_USER_ENV_VARS = 20

# `next` targets that are not step names ("Jumps": end, break, continue).
END, BREAK, CONTINUE = "end", "break", "continue"

_ACTIONS = ("assign", "call", "switch", "for", "parallel", "raise", "try", "return", "steps")
# What may accompany each action in the same step (besides `next`).
_COMPANIONS = {"call": {"args", "result"}, "try": {"retry", "except"}}
_STEP_KEYS = frozenset({*_ACTIONS, "args", "result", "retry", "except", "next"})
# `raise` leaves the step, so a `next` beside it could never run. A `next` beside `return` is
# accepted and never followed: Google deploys it (workflows-demos' workflows-bigquery-load ends
# its return steps with `next: end`).
_NO_NEXT = frozenset({"raise"})
# Standard library functions that start executions of other deployed workflows, which the
# local engine cannot do.
_NOT_PERFORMED = frozenset({"experimental.executions.map", "experimental.executions.run"})


# ---------------------------------------------------------------- program model
#
# NamedTuples, for the CLI's start, as the expression nodes of `parser` (see there): nothing
# compares these nodes with `==`, whose tuple equality ignores the class. Every value a
# workflow writes is `Compiled` (its `${...}` parsed once); code that tells the actions apart
# matches on their class (`match action: case Assign(): ...`).

# How a call step runs: a subworkflow of the program, a pure library function, a blocking
# call (an effect), or, when parsed with `resolve=False`, a name nothing defines here.
CallKind = Literal["subworkflow", "pure", "blocking", "unresolved"]


class Assignment(NamedTuple):
    """One `- target: value` entry of an assign list."""

    target: Target
    text: str
    value: Compiled
    line: int


class Assign(NamedTuple):
    assignments: tuple[Assignment, ...]


class Call(NamedTuple):
    """`call:` a subworkflow, a pure stdlib function or a blocking one (an effect)."""

    function: str
    kind: CallKind
    args: Mapping[str, Compiled] | None  # by name
    result: Target | None
    line: int  # of the `call:` value
    arg_lines: Mapping[str, int]  # the line of each argument's value


class Condition(NamedTuple):
    """One switch entry: when `test` is true, run `action` (may be None) then follow `next`."""

    line: int
    test: Compiled
    action: Action | None
    next: str | None


class Switch(NamedTuple):
    conditions: tuple[Condition, ...]


class Loop(NamedTuple):
    """A `for` block: `items` (a list) or `range` ([start, end]), as `has_items` tells."""

    value: str
    index: str | None
    items: Compiled | None
    range: Compiled | None
    body: Block
    has_items: bool


class Branch(NamedTuple):
    name: str
    line: int
    body: Block


class Parallel(NamedTuple):
    shared: tuple[str, ...]
    concurrency_limit: Compiled | None
    branches: tuple[Branch, ...] | None
    loop: Loop | None


class Backoff(NamedTuple):
    initial_delay: Compiled | None
    max_delay: Compiled | None
    multiplier: Compiled | None


class Retry(NamedTuple):
    """Either a whole policy expression (`${http.default_retry}`) or its parts."""

    policy: Compiled | None  # gives a policy map
    predicate: Compiled | None  # evaluates to a FunctionRef (or names a subworkflow)
    max_retries: Compiled | None
    backoff: Backoff | None


class Except(NamedTuple):
    name: str | None
    body: Block
    line: int  # of the `except:` key


class Try(NamedTuple):
    body: Block
    retry: Retry | None
    handler: Except | None


class Raise(NamedTuple):
    value: Compiled
    line: int


class Return(NamedTuple):
    value: Compiled
    line: int


class Steps(NamedTuple):
    body: Block


Action = Assign | Call | Switch | Loop | Parallel | Try | Raise | Return | Steps


class Step(NamedTuple):
    """A named step; `action` is None for a step that only jumps (`next`)."""

    name: str
    line: int
    action: Action | None
    next: str | None


class Block(NamedTuple):
    """A list of steps, indexed by name for `next` jumps."""

    steps: tuple[Step, ...]
    index: Mapping[str, int]  # derived from `steps`: left out of the repr

    def __repr__(self) -> str:
        return f"Block(steps={self.steps!r})"


class Param(NamedTuple):
    name: str
    required: bool
    default: Compiled | None


class Subworkflow(NamedTuple):
    name: str
    line: int
    params: tuple[Param, ...]
    body: Block


class Program(NamedTuple):
    subworkflows: Mapping[str, Subworkflow]
    source: str  # left out of the repr
    filename: str

    def __repr__(self) -> str:
        return f"Program(subworkflows={self.subworkflows!r})"

    @property
    def main(self) -> Subworkflow:
        return self.subworkflows["main"]


# ---------------------------------------------------------------- parsing


def parse(source: str, filename: str = "<workflow>", *, strict: bool = True) -> Program:
    """Parse and validate a workflow source; raises DefinitionError.

    `strict=False` reads a source that is one part of a workflow (a template whose calls
    reach library subworkflows defined elsewhere) or one this engine need not run (a policy
    reads what Google will run): its structure and expressions are checked, but not the
    functions and subworkflows it names, its jumps or its parallel scopes, nor that it has a main.
    """
    return _Parser(source, filename, strict).program()


def line_of(node: yaml.Node) -> int:
    return node.start_mark.line + 1


class _Parser:
    def __init__(self, source: str, filename: str, strict: bool) -> None:
        self.source = source
        self.filename = filename
        self.strict = strict
        self.loader = _Loader(source)
        self.names: set[str] = set()  # subworkflow names, known before steps are read
        self.params: dict[str, tuple[Param, ...]] = {}
        self.seen_steps: dict[str, int] = {}  # step names of the current subworkflow
        self.keys: dict[int, yaml.Node] = {}  # id(value node) -> its key node, for error lines
        # Map nodes whose keys were checked: building a value merges `<<` keys into its node in
        # place, so a second visit through an alias would see the merged keys as repeated.
        self.checked: set[int] = set()

    def error(self, message: str, node: yaml.Node | int | None, step: str | None = None) -> DefinitionError:
        # An error about a field's value points at the field's name.
        line = node if isinstance(node, int) or node is None else line_of(self.keys.get(id(node), node))
        return DefinitionError(message, line=line, step=step, source=self.filename)

    # -- YAML

    def value(self, node: yaml.Node, step: str | None = None) -> Any:
        """The value a node reads as; `root` has checked the document, so this stays small."""
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as error:
            raise self.yaml_error(error) from error
        except ValueError as error:
            # `!!int abc`, an integer of thousands of digits.
            raise self.error(f"invalid YAML value {_excerpt(node)}: {error}", node, step) from error
        except LookupError as error:
            # `!!bool maybe`: PyYAML looks the text up in its table of booleans.
            raise self.error(f"invalid YAML value {_excerpt(node)} for its tag", node, step) from error

    def root(self) -> yaml.Node:
        try:
            node = self.read()
        except yaml.MarkedYAMLError as error:
            # Google deploys expressions left unquoted inside flow collections, which a YAML 1.1
            # reader refuses (see `_quote_flow_expressions`): read once more with them quoted.
            quoted = _quote_flow_expressions(self.source)
            if quoted == self.source:
                raise self.yaml_error(error) from error
            try:
                self.loader.dispose()
                self.loader = _Loader(quoted)
                node = self.read()
            except yaml.MarkedYAMLError as second:
                # Quoting adds no line, so the second reader's lines are the file's.
                raise self.yaml_error(second) from second
        if node is None:
            raise self.error("the workflow is empty", 1)
        try:
            check_document(node)
        except DocumentError as error:
            raise self.error(str(error), line_of(error.node)) from error
        return node

    def read(self) -> yaml.Node | None:
        """The loader's document; `root` turns a marked YAML error into a definition error."""
        try:
            return self.loader.get_single_node()
        except yaml.MarkedYAMLError:
            raise
        except yaml.reader.ReaderError as error:
            # A character YAML refuses (a control character): its position gives the line.
            line = self.source.count("\n", 0, error.position) + 1
            raise self.error(f"invalid YAML: {error.reason}", line) from error
        except yaml.YAMLError as error:
            raise self.error(f"invalid YAML: {error}", None) from error

    def yaml_error(self, error: yaml.MarkedYAMLError) -> DefinitionError:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "syntax error"
        line = None if mark is None else mark.line + 1
        return self.error(f"invalid YAML: {problem}", line)

    def mapping(self, node: yaml.Node, what: str, step: str | None = None) -> dict[str, yaml.Node]:
        """The entries of a map node by key; duplicate keys are errors (PyYAML keeps the last)."""
        if not isinstance(node, yaml.MappingNode):
            raise self.error(f"{what} must be a map", node, step)
        result: dict[str, yaml.Node] = {}
        for key, value in node.value:
            name = str(key.value)  # a scalar: `check_document` refused any other key
            if name in result:
                raise self.error(f"duplicate key {name!r} in {what}", key, step)
            result[name] = value
            self.keys[id(value)] = key
        return result

    def check_keys(self, node: yaml.Node, step: str | None) -> None:
        """No map in a value repeats a key (PyYAML would keep the last one silently)."""
        pending = [node]
        while pending:
            item = pending.pop()
            if id(item) in self.checked:
                continue
            self.checked.add(id(item))
            if isinstance(item, yaml.MappingNode):
                self.mapping(item, "a map", step)
                pending.extend(value for _, value in item.value)
            elif isinstance(item, yaml.SequenceNode):
                pending.extend(item.value)

    def scalar(self, node: yaml.Node, what: str, step: str | None) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(f"{what} must be a single value", node, step)
        return self.value(node, step)

    def name(self, node: yaml.Node, what: str, step: str | None) -> str:
        # The source text: a step called `yes` or `1` is named "yes" or "1", not true or 1.
        if not isinstance(node, yaml.ScalarNode) or not node.value:
            raise self.error(f"{what} must be a name", node, step)
        return str(node.value)

    def variable(self, node: yaml.Node, what: str, step: str | None, text: str | None = None) -> str:
        """A name a variable gets: "Variable names must start with a letter or underscore, and
        must consist of only letters, digits, and underscores" (Variables).
        """
        name = self.name(node, what, step) if text is None else text
        if not name.isidentifier():
            raise self.error(
                f"{what} {name!r} is not a variable name (a letter or an underscore, then only "
                "letters, digits and underscores)",
                node,
                step,
            )
        return name

    def compile(self, node: yaml.Node, step: str | None) -> Compiled:
        """A value with its `${...}` expressions compiled; checks the functions they call."""
        self.check_keys(node, step)
        raw = self.value(node, step)
        try:
            compiled = compile_value(raw)
        except (WorkflowError, ValueError) as error:
            raise self.error(f"invalid expression: {_message(error)}", node, step) from error
        if self.strict:
            for function in sorted(references(compiled)):
                self.check_expression_call(function, node, step)
            for call in calls_in(compiled):
                if call.name not in self.names:
                    self.check_library_args(call.name, node, step, positional=len(call.args))
        return compiled

    def check_expression_call(self, function: str, node: yaml.Node, step: str | None) -> None:
        if function in self.names:
            return
        found = stdlib.lookup(function)
        if found is None:
            raise self.error(self.unknown_function(function), node, step)
        if not found.in_expressions:
            # "only non-blocking functions can be used inside an expression. For example,
            # HTTP calls, sys.sleep, and sys.log cannot be used inside an expression" (stdlib overview).
            raise self.error(
                f"{function} cannot be used inside an expression; call it in a call step", node, step
            )

    def check_library_args(
        self, function: str, node: yaml.Node, step: str | None, positional: int = 0, named: Iterable[str] = ()
    ) -> None:
        """Arguments that do not fit a library function's parameters are a deployment error, as
        text.substring's page says of its own ("Both start and end arguments are required;
        otherwise, a deployment error occurs"), not a TypeError when the call runs."""
        found = stdlib.lookup(function)
        if found is None or found.any_args:
            return
        try:
            stdlib.bind(found, [None] * positional, dict.fromkeys(named))
        except WorkflowError as error:
            raise self.error(_message(error), node, step) from None

    def unknown_function(self, function: str) -> str:
        if function in _NOT_PERFORMED:
            return (
                f"{function} is not supported by the local engine: it starts executions of other "
                "deployed workflows (experimental.executions.map's page recommends parallel steps instead)"
            )
        return f"unknown function or subworkflow {function!r}{_did_you_mean(function, sorted(self.names))}"

    # -- structure

    def program(self) -> Program:
        try:
            root = self.root()
            definitions = self.subworkflow_nodes(root)
            for name, (key, params_node, _) in definitions.items():
                self.names.add(name)
                self.params[name] = self.parse_params(name, key, params_node)
            subworkflows = {}
            for name, (key, _, steps_node) in definitions.items():
                self.seen_steps = {}
                body = self.block(steps_node, None)
                if self.strict:
                    self.check_jumps(body, (), loop=None)
                    params = {p.name for p in self.params[name]}
                    _ScopeWalk(self.filename, body, params | self.names).block(body, set(params), frozenset())
                    _LocalReads(self.filename, body).block(body, params | self.names)
                subworkflows[name] = Subworkflow(name, line_of(key), self.params[name], body)
        finally:
            self.loader.dispose()
        return Program(subworkflows, self.source, self.filename)

    def subworkflow_nodes(self, root: yaml.Node) -> dict[str, tuple[yaml.Node, yaml.Node | None, yaml.Node]]:
        if isinstance(root, yaml.SequenceNode):
            return {"main": (root, None, root)}
        if not isinstance(root, yaml.MappingNode):
            raise self.error("a workflow is a map of subworkflows (one named main) or a list of steps", root)
        result: dict[str, tuple[yaml.Node, yaml.Node | None, yaml.Node]] = {}
        for name, node in self.mapping(root, "the workflow").items():
            key = next(k for k, v in root.value if v is node)
            parts = self.mapping(node, f"subworkflow {name!r}")
            unknown = sorted(set(parts) - {"params", "steps"})
            if unknown:
                raise self.error(
                    f"subworkflow {name!r} has unknown keys {unknown}; allowed: params, steps", key
                )
            if "steps" not in parts:
                raise self.error(f"subworkflow {name!r} has no steps", key)
            result[name] = (key, parts.get("params"), parts["steps"])
        if "main" not in result and self.strict:
            raise self.error("the workflow has no main subworkflow", root)
        return result

    def parse_params(self, name: str, key: yaml.Node, node: yaml.Node | None) -> tuple[Param, ...]:
        if node is None:
            return ()
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(f"params of {name!r} must be a list", node)
        # "main" receives the execution argument: "params: [ARG]" with one name at most.
        limit = 1 if name == "main" else MAX_SUBWORKFLOW_PARAMS
        if len(node.value) > limit:
            most = "one parameter" if limit == 1 else f"{limit} parameters"
            raise self.error(f"{name} takes at most {most}", node)
        params: list[Param] = []
        for item in node.value:
            if isinstance(item, yaml.MappingNode):
                entries = self.mapping(item, "a parameter with a default")
                if len(entries) != 1:
                    raise self.error("a parameter with a default is a single `name: default` entry", item)
                ((param, default_node),) = entries.items()
                if name == "main":
                    raise self.error("main's parameter cannot have a default", item)
                params.append(
                    Param(
                        self.variable(item, "a parameter", None, param),
                        False,
                        self.compile(default_node, None),
                    )
                )
            else:
                params.append(Param(self.variable(item, "a parameter", None), True, None))
            if [p.name for p in params].count(params[-1].name) > 1:
                raise self.error(f"parameter {params[-1].name!r} is listed twice", item)
        return tuple(params)

    def block(self, node: yaml.Node, parent: str | None) -> Block:
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise self.error("steps must be a non-empty list", node, parent)
        steps: list[Step] = []
        for item in node.value:
            if not isinstance(item, yaml.MappingNode) or len(item.value) != 1:
                raise self.error("each step must be a map with exactly one key, the step name", item, parent)
            name_node, body = item.value[0]
            name = self.name(name_node, "a step name", parent)
            self.claim(name, name_node)
            steps.append(self.step(name, name_node, body))
        return Block(tuple(steps), {step.name: i for i, step in enumerate(steps)})

    def claim(self, name: str, node: yaml.Node) -> None:
        # "Step names must be unique at the subworkflow level" (Steps).
        if name in self.seen_steps:
            raise self.error(f"duplicate step name (first used on line {self.seen_steps[name]})", node, name)
        self.seen_steps[name] = line_of(node)

    def step(self, name: str, name_node: yaml.Node, node: yaml.Node) -> Step:
        fields = self.mapping(node, "a step", name)
        unknown = sorted(set(fields) - _STEP_KEYS)
        if unknown:
            raise self.error(
                f"unknown field {unknown[0]!r}; a step has one of {', '.join(_ACTIONS)} (and next)",
                fields[unknown[0]],
                name,
            )
        action = self.action(fields, node, name)
        next_target = self.next_target(fields, name)
        if action is None and next_target is None:
            raise self.error("the step does nothing: give it an action or a next", name_node, name)
        return Step(name, line_of(name_node), action, next_target)

    def next_target(self, fields: dict[str, yaml.Node], step: str) -> str | None:
        if "next" not in fields:
            return None
        return self.name(fields["next"], "next", step)

    def action(self, fields: dict[str, yaml.Node], node: yaml.Node, step: str) -> Action | None:
        kinds = [kind for kind in _ACTIONS if kind in fields]
        if len(kinds) > 1:
            raise self.error(
                f"a step does one thing, but this one has {' and '.join(kinds)}; split it into steps",
                fields[kinds[1]],
                step,
            )
        kind = kinds[0] if kinds else None
        allowed = _COMPANIONS.get(kind or "", set())
        for companion in ("args", "result", "retry", "except"):
            if companion in fields and companion not in allowed:
                owner = "call" if companion in ("args", "result") else "try"
                raise self.error(f"{companion!r} needs {owner!r} in the same step", fields[companion], step)
        if kind in _NO_NEXT and "next" in fields:
            raise self.error(f"a {kind} step leaves the step; its next would never run", fields["next"], step)
        match kind:
            case None:
                return None
            case "assign":
                return self.parse_assign(fields[kind], step)
            case "call":
                return self.parse_call(fields, fields[kind], step)
            case "switch":
                return self.parse_switch(fields[kind], step)
            case "for":
                return self.parse_for(fields[kind], step)
            case "parallel":
                return self.parse_parallel(fields[kind], step)
            case "try":
                return self.parse_try(fields, fields[kind], step)
            case "raise":
                return Raise(self.compile(fields[kind], step), line_of(fields[kind]))
            case "return":
                return Return(self.compile(fields[kind], step), line_of(fields[kind]))
            case _:
                return Steps(self.block(fields[kind], step))

    # -- actions

    def parse_assign(self, node: yaml.Node, step: str) -> Assign:
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise self.error("assign must be a non-empty list of `- name: value` entries", node, step)
        if len(node.value) > MAX_ASSIGNMENTS:
            raise self.error(f"a step assigns at most {MAX_ASSIGNMENTS} variables", node, step)
        assignments = []
        for item in node.value:
            if not isinstance(item, yaml.MappingNode) or len(item.value) != 1:
                raise self.error("each assignment is a single `name: value` entry", item, step)
            key, value = item.value[0]
            text = self.name(key, "an assignment target", step)
            target = self.target(text, key, step)
            assignments.append(Assignment(target, text, self.compile(value, step), line_of(key)))
        return Assign(tuple(assignments))

    def target(self, text: str, node: yaml.Node, step: str) -> Target:
        try:
            return parse_target(text)
        except (WorkflowError, ValueError) as error:
            raise self.error(f"invalid assignment target {text!r}: {_message(error)}", node, step) from error

    def parse_call(self, fields: dict[str, yaml.Node], node: yaml.Node, step: str) -> Call:
        function = self.name(node, "call", step)
        args_node = fields.get("args")
        args = None
        lines: dict[str, int] = {}
        if args_node is not None:
            entries = self.mapping(args_node, "args", step)
            args = {name: self.compile(value, step) for name, value in entries.items()}
            lines = {name: line_of(value) for name, value in entries.items()}
        result = None
        if "result" in fields:
            result_text = self.name(fields["result"], "result", step)
            result = self.target(result_text, fields["result"], step)
        kind = self.call_kind(function, node, step, args_node, args)
        return Call(function, kind, args, result, line_of(node), lines)

    def call_kind(
        self,
        function: str,
        node: yaml.Node,
        step: str,
        args_node: yaml.Node | None,
        args: dict[str, Compiled] | None,
    ) -> CallKind:
        if function in self.names:
            if self.strict:
                self.check_subworkflow_args(function, node, step, args_node, args or {})
            return "subworkflow"
        if not self.strict:
            found = stdlib.lookup(function)
            if found is None:
                return "unresolved"
            return "blocking" if found.blocking else "pure"
        if function.startswith("googleapis."):
            # Imported for the first connector call only: most workflows make none.
            from approvals.engine.runtime import connectors

            problem = connectors.check_supported(function)
            if problem is not None:
                raise self.error(problem, node, step)
            return "blocking"
        found = stdlib.lookup(function)
        if found is None:
            raise self.error(self.unknown_function(function), node, step)
        self.check_library_args(function, args_node or node, step, named=args or ())
        return "blocking" if found.blocking else "pure"

    def check_subworkflow_args(
        self,
        function: str,
        node: yaml.Node,
        step: str,
        args_node: yaml.Node | None,
        args: dict[str, Compiled],
    ) -> None:
        params = self.params[function]
        names = {param.name for param in params}
        for name in args:
            if name not in names:
                listed = ", ".join(sorted(names)) or "none"
                raise self.error(
                    f"subworkflow {function!r} has no parameter {name!r} (parameters: {listed})",
                    args_node or node,
                    step,
                )
        missing = [param.name for param in params if param.required and param.name not in args]
        if missing:
            raise self.error(
                f"subworkflow {function!r} needs argument{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)}",
                node,
                step,
            )

    def parse_switch(self, node: yaml.Node, step: str) -> Switch:
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise self.error("switch must be a non-empty list of conditions", node, step)
        if len(node.value) > MAX_CONDITIONS:
            raise self.error(f"a switch has at most {MAX_CONDITIONS} conditions", node, step)
        conditions = []
        for item in node.value:
            entries = self.mapping(item, "a switch condition", step)
            if "condition" not in entries:
                raise self.error("each switch entry needs a condition", item, step)
            others = {key: value for key, value in entries.items() if key != "condition"}
            unknown = sorted(set(others) - _STEP_KEYS)
            if unknown:
                raise self.error(
                    f"unknown field {unknown[0]!r} in a switch condition", others[unknown[0]], step
                )
            action = self.action(others, item, step)
            target = self.next_target(others, step)
            if action is None and target is None:
                raise self.error("a condition needs next, steps or an action to run", item, step)
            test = self.compile(entries["condition"], step)
            conditions.append(Condition(line_of(item), test, action, target))
        return Switch(tuple(conditions))

    def parse_for(self, node: yaml.Node, step: str) -> Loop:
        entries = self.mapping(node, "for", step)
        unknown = sorted(set(entries) - {"value", "index", "in", "range", "steps"})
        if unknown:
            raise self.error(
                f"unknown field {unknown[0]!r} in for; allowed: value, index, in, range, steps", node, step
            )
        if "value" not in entries:
            raise self.error("for needs value: the loop variable name", node, step)
        if ("in" in entries) == ("range" in entries):
            raise self.error("for needs exactly one of in (a list) or range ([start, end])", node, step)
        if "steps" not in entries:
            raise self.error("for needs steps", node, step)
        value = self.variable(entries["value"], "the loop variable", step)
        index = self.variable(entries["index"], "the index variable", step) if "index" in entries else None
        if index == value:
            raise self.error("the loop variable and the index variable need different names", node, step)
        items = self.compile(entries["in"], step) if "in" in entries else None
        bounds = None
        if "range" in entries:
            range_node = entries["range"]
            if isinstance(range_node, yaml.SequenceNode) and len(range_node.value) != 2:
                raise self.error("range is a list of two values: [start, end]", range_node, step)
            if isinstance(range_node, yaml.MappingNode):
                raise self.error("range is a list of two values: [start, end]", range_node, step)
            bounds = self.compile(range_node, step)
        body = self.block(entries["steps"], step)
        return Loop(value, index, items, bounds, body, "in" in entries)

    def parse_parallel(self, node: yaml.Node, step: str) -> Parallel:
        entries = self.mapping(node, "parallel", step)
        allowed = {"exception_policy", "shared", "concurrency_limit", "branches", "for"}
        unknown = sorted(set(entries) - allowed)
        if unknown:
            raise self.error(
                f"unknown field {unknown[0]!r} in parallel; allowed: {', '.join(sorted(allowed))}", node, step
            )
        # "continueAll is the only policy currently supported" (Parallel steps).
        if "exception_policy" in entries:
            policy = self.scalar(entries["exception_policy"], "exception_policy", step)
            if policy != "continueAll":
                raise self.error(
                    f"exception_policy {policy!r} is not supported; the only policy is continueAll",
                    entries["exception_policy"],
                    step,
                )
        if ("branches" in entries) == ("for" in entries):
            raise self.error("parallel needs exactly one of branches or for", node, step)
        shared: tuple[str, ...] = ()
        if "shared" in entries:
            shared_node = entries["shared"]
            if not isinstance(shared_node, yaml.SequenceNode):
                raise self.error("shared must be a list of variable names", shared_node, step)
            shared = tuple(self.variable(item, "a shared variable", step) for item in shared_node.value)
            if len(set(shared)) != len(shared):
                raise self.error("shared lists a variable twice", shared_node, step)
        limit = self.compile(entries["concurrency_limit"], step) if "concurrency_limit" in entries else None
        # "Must be a positive integer, and can be either a literal value or an expression"
        # (Parallel steps): a literal is checked here, an expression's value when the step runs.
        if isinstance(limit, Const) and not (
            isinstance(limit.value, int) and not isinstance(limit.value, bool) and limit.value >= 1
        ):
            raise self.error(
                "concurrency_limit must be a positive integer", entries["concurrency_limit"], step
            )
        if "for" in entries:
            loop = self.parse_for(entries["for"], step)
            return Parallel(shared, limit, None, loop)
        return Parallel(shared, limit, self.branches(entries["branches"], step), None)

    def branches(self, node: yaml.Node, step: str) -> tuple[Branch, ...]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.error("branches must be a list of `- name: {steps: [...]}` entries", node, step)
        if not 2 <= len(node.value) <= MAX_BRANCHES:
            raise self.error(f"a parallel step has 2 to {MAX_BRANCHES} branches", node, step)
        result = []
        for item in node.value:
            if not isinstance(item, yaml.MappingNode) or len(item.value) != 1:
                raise self.error("each branch is a map with one key, the branch name", item, step)
            name_node, body = item.value[0]
            name = self.name(name_node, "a branch name", step)
            self.claim(name, name_node)
            parts = self.mapping(body, f"branch {name!r}", name)
            if set(parts) != {"steps"}:
                raise self.error("a branch has steps and nothing else", body, name)
            result.append(Branch(name, line_of(name_node), self.block(parts["steps"], name)))
        return tuple(result)

    def parse_try(self, fields: dict[str, yaml.Node], node: yaml.Node, step: str) -> Try:
        if isinstance(node, yaml.MappingNode):
            inner = self.mapping(node, "try", step)
            if set(inner) == {"steps"}:
                body = self.block(inner["steps"], step)
            else:
                # `try:` holding a single step body (call/assign/...) without a name of its own.
                unknown = sorted(set(inner) - _STEP_KEYS)
                if unknown:
                    raise self.error(f"unknown field {unknown[0]!r} in try", inner[unknown[0]], step)
                if "for" in inner:
                    # Google refuses it at deploy (Known issues: "Placement of for directly after try").
                    raise self.error(
                        "loop step name should not be empty: a for loop cannot sit directly in try; "
                        "put it in a named step under try's steps",
                        inner["for"],
                        step,
                    )
                action = self.action(inner, node, step)
                body = Block((Step(step, line_of(node), action, self.next_target(inner, step)),), {})
        else:
            body = self.block(node, step)
        retry = self.retry(fields["retry"], step) if "retry" in fields else None
        handler = self.handler(fields["except"], step) if "except" in fields else None
        if retry is None and handler is None:
            raise self.error("try needs retry or except", node, step)
        return Try(body, retry, handler)

    def retry(self, node: yaml.Node, step: str) -> Retry:
        if isinstance(node, yaml.ScalarNode):
            # A default policy: "${http.default_retry}" or a variable holding a policy map.
            return Retry(self.compile(node, step), None, None, None)
        entries = self.mapping(node, "retry", step)
        unknown = sorted(set(entries) - {"predicate", "max_retries", "backoff"})
        if unknown:
            raise self.error(
                f"unknown field {unknown[0]!r} in retry; allowed: predicate, max_retries, backoff", node, step
            )
        for required in ("predicate", "max_retries"):
            if required not in entries:
                raise self.error(f"retry needs {required}", node, step)
        backoff = None
        if "backoff" in entries:
            parts = self.mapping(entries["backoff"], "backoff", step)
            keys = {"initial_delay", "max_delay", "multiplier"}
            if set(parts) - keys:
                extra = sorted(set(parts) - keys)[0]
                raise self.error(
                    f"unknown field {extra!r} in backoff; allowed: {', '.join(sorted(keys))}",
                    entries["backoff"],
                    step,
                )
            backoff = Backoff(*(self.compile(parts[k], step) if k in parts else None for k in sorted(keys)))
        return Retry(
            None,
            self.predicate(entries["predicate"], step),
            self.compile(entries["max_retries"], step),
            backoff,
        )

    def predicate(self, node: yaml.Node, step: str) -> Compiled:
        """`${my_predicate}` names a subworkflow ("a custom predicate defined as a subworkflow",
        Retry steps); it is not a variable, so it compiles to the function itself.
        """
        compiled = self.compile(node, step)
        name = dotted_name(compiled.expr) if isinstance(compiled, Expression) else None
        if name is not None and name in self.names:
            return Const(FunctionRef(name))
        return compiled

    def handler(self, node: yaml.Node, step: str) -> Except:
        entries = self.mapping(node, "except", step)
        unknown = sorted(set(entries) - {"as", "steps"})
        if unknown:
            raise self.error(f"unknown field {unknown[0]!r} in except; allowed: as, steps", node, step)
        if "steps" not in entries:
            raise self.error("except needs steps", node, step)
        name = self.variable(entries["as"], "except's as", step) if "as" in entries else None
        return Except(name, self.block(entries["steps"], step), line_of(self.keys.get(id(node), node)))

    # -- jumps

    def check_jumps(self, block: Block, outer: tuple[Block, ...], loop: str | None) -> None:
        """`next` may name a step of the same list or of an enclosing one, but not leave a loop
        body or a parallel branch (their iterations and branches run apart), and `break` and
        `continue` only work inside a for loop ("Jumps"; "Iteration": break/continue).
        """
        scopes = (block, *outer)
        for step in block.steps:
            self.check_target(step.next, step, scopes, loop)
            for target in _jumps_of(step.action):
                self.check_target(target, step, scopes, loop)
            for child, boundary, child_loop in children(step.action):
                if boundary:
                    self.check_jumps(child, (), child_loop)
                else:
                    self.check_jumps(child, scopes, loop)

    def check_target(
        self, target: str | None, step: Step, scopes: tuple[Block, ...], loop: str | None
    ) -> None:
        if target is None or target == END:
            return
        if target in (BREAK, CONTINUE):
            if loop is None:
                raise self.error(f"next: {target} is only allowed inside a for loop", step.line, step.name)
            if loop == "parallel" and target == BREAK:
                raise self.error("next: break is not allowed in a parallel for loop", step.line, step.name)
            return
        if any(target in scope.index for scope in scopes):
            return
        where = "in this subworkflow" if target not in self.seen_steps else "reachable from here"
        visible = sorted({name for scope in scopes for name in scope.index})
        hint = _did_you_mean(target, visible)
        raise self.error(f"next: {target!r} is not a step {where}{hint}", step.line, step.name)


def _did_you_mean(word: str, candidates: list[str]) -> str:
    """`; did you mean 'x'?` with the closest of `candidates`, or "" when none is close."""
    # Imported by the errors that need it: a valid workflow's run does not load difflib.
    import difflib

    guesses = difflib.get_close_matches(word, candidates, n=1)
    return f"; did you mean {guesses[0]!r}?" if guesses else ""


def _jumps_of(action: Action | None) -> Iterator[str | None]:
    match action:
        case Switch(conditions=conditions):
            for condition in conditions:
                yield condition.next


def children(action: Action | None) -> Iterator[tuple[Block, bool, str | None]]:
    """Nested blocks of an action: (block, is it a jump boundary, loop kind inside it)."""
    match action:
        case Steps(body=body):
            yield body, False, None
        case Loop(body=body):
            yield body, True, "for"
        case Parallel(branches=branches, loop=loop):
            if loop is not None:
                yield loop.body, True, "parallel"
            for branch in branches or ():
                yield branch.body, True, None
        case Try(body=body, handler=handler):
            yield body, False, None
            if handler is not None:
                yield handler.body, False, None
        case Switch(conditions=conditions):
            for condition in conditions:
                yield from children(condition.action)


# -- parallel writes
#
# "shared: a list of writable variables with parent scope that allow assignments within the
# parallel step" (Parallel steps); Google's sample marks `- input: 5` in a branch as a
# "deployment error, defined in the parent scope but not marked shared", while a branch's own
# variables (`temp`, a call's `result`) are local to it. The walk follows document order, the
# way variables come into being: a name is a parent variable once a parameter or a step before
# the parallel step declares it. A loop's variables and what its body creates stay inside the
# loop ("any variable created in a loop does not exist outside of that loop", Iteration).


class _ScopeWalk:
    """Raises DefinitionError at the first branch step assigning an unshared parent variable, or
    reading a variable that is not defined in it."""

    def __init__(self, filename: str, body: Block, known: set[str]) -> None:
        self.filename = filename
        self.body = body  # the subworkflow's steps
        self.known = known  # its parameters and the subworkflows' names

    def block(self, block: Block, declared: set[str], forbidden: frozenset[str]) -> None:
        """Walk `block`, adding what it declares to `declared`; `forbidden` may not be written."""
        for step in block.steps:
            self.action(step.action, step.name, step.line, declared, forbidden)

    def action(
        self, action: Action | None, step: str, line: int, declared: set[str], forbidden: frozenset[str]
    ) -> None:
        match action:
            case Assign(assignments=assignments):
                for assignment in assignments:
                    self.write(assignment.target.name, step, assignment.line, declared, forbidden)
            case Call(result=result) if result is not None:
                self.write(result.name, step, line, declared, forbidden)
            case Switch(conditions=conditions):
                for condition in conditions:
                    self.action(condition.action, step, condition.line, declared, forbidden)
            case Steps(body=body):
                self.block(body, declared, forbidden)
            case Try(body=body, handler=handler):
                self.block(body, declared, forbidden)
                if handler is not None:
                    # What an except block creates is its own, like a loop body's (Variables).
                    own = {handler.name} if handler.name is not None else set()
                    self.block(handler.body, declared | own, forbidden - own)
            case Loop():
                self.loop(action, set(declared), forbidden)
            case Parallel():
                self.parallel(action, step, line, declared, forbidden)

    def loop(self, loop: Loop, declared: set[str], forbidden: frozenset[str]) -> None:
        own = _loop_variables(loop)
        self.block(loop.body, declared | own, forbidden - own)

    def parallel(
        self, action: Parallel, step: str, line: int, declared: set[str], forbidden: frozenset[str]
    ) -> None:
        # The shared variables are written by the branches, so by this step in its own scope.
        for name in action.shared:
            self.write(name, step, line, declared, forbidden)
        inside = frozenset(declared - set(action.shared))
        # A branch reads the parent's variables and its own; what only a sibling branch assigns
        # is "not defined in this branch" (Google's sample marks reading it a deployment error).
        # So that no valid workflow is refused, a name assigned anywhere outside this parallel
        # step counts as defined too (a `next` may jump back over the step).
        outside = _assigned(self.body, skip=action)
        readable = declared | outside | self.known
        if action.loop is not None:
            own = _loop_variables(action.loop)
            self.check_reads(action.loop.body, readable | own | _assigned(action.loop.body))
            self.loop(action.loop, set(declared), inside)
        for branch in action.branches or ():
            self.check_reads(branch.body, readable | _assigned(branch.body))
            self.block(branch.body, set(declared), inside)

    def check_reads(self, block: Block, readable: set[str]) -> None:
        for step in block.steps:
            for name in sorted(_read(step.action) - readable):
                raise DefinitionError(
                    f"reads {name!r}, which is not defined in this branch of the parallel step: "
                    "neither the scope around the step nor this branch assigns it",
                    line=step.line,
                    step=step.name,
                    source=self.filename,
                )
            for child, _, _ in children(step.action):
                self.check_reads(child, readable)

    def write(self, name: str, step: str, line: int, declared: set[str], forbidden: frozenset[str]) -> None:
        if name in forbidden:
            raise DefinitionError(
                f"assigns {name!r}, a variable of the scope around the parallel step; "
                "list it in the parallel step's shared to write it",
                line=line,
                step=step,
                source=self.filename,
            )
        declared.add(name)


# -- reads of a loop's or an except block's variables
#
# "A variable created inside a for loop belongs to the local scope of that loop ... accessing
# it outside of the loop will raise an error when deploying the workflow. This local scoping
# also applies to any variable created inside an except block" (Variables). A read outside
# such a block of a name only such blocks create is refused; a name the enclosing scopes also
# assign, anywhere in document order, is not (a `next` may jump back to a later assignment).


class _LocalReads:
    """Raises DefinitionError at the first step that reads, outside it, a variable that only a
    loop body or an except block creates."""

    def __init__(self, filename: str, body: Block) -> None:
        self.filename = filename
        self.local = _block_locals(body)

    def block(self, block: Block, visible: set[str]) -> None:
        """Check `block`, a scope or a part of one, where the names `visible` exist."""
        visible = visible | _scope_names(block)
        for step in block.steps:
            for name in sorted((_read(step.action) & self.local) - visible):
                raise DefinitionError(
                    f"reads {name!r}, which exists only inside the for loops or except blocks that create it",
                    line=step.line,
                    step=step.name,
                    source=self.filename,
                )
            for nested in _nested_scopes(step.action):
                self.block(nested.block, visible | nested.binds)


class _Nested(NamedTuple):
    """A block nested in an action: the names it binds on entry (a loop's value and index,
    except's as), and whether it is a scope of its own (a loop body or an except block)."""

    block: Block
    binds: set[str]
    scope: bool


def _nested_scopes(action: Action | None) -> Iterator[_Nested]:
    """The blocks nested in `action`, a switch condition's action's included."""
    match action:
        case Loop() as loop:
            yield _Nested(loop.body, _loop_variables(loop), True)
        case Parallel(loop=Loop() as loop):
            yield _Nested(loop.body, _loop_variables(loop), True)
        case Try(body=body, handler=handler):
            yield _Nested(body, set(), False)
            if handler is not None:
                yield _Nested(handler.body, {handler.name} if handler.name is not None else set(), True)
        case Switch(conditions=conditions):
            for condition in conditions:
                yield from _nested_scopes(condition.action)
        case _:
            for child, _, _ in children(action):
                yield _Nested(child, set(), False)


def _scope_names(block: Block) -> set[str]:
    """What the steps of `block` assign in its scope: nested steps, switch conditions and try
    bodies included, loop bodies, except blocks and parallel branches (save `shared`) not."""
    found: set[str] = set()
    for step in block.steps:
        found |= _action_names(step.action)
    return found


def _action_names(action: Action | None) -> set[str]:
    match action:
        case Assign(assignments=assignments):
            return {assignment.target.name for assignment in assignments}
        case Call(result=result) if result is not None:
            return {result.name}
        case Steps(body=body) | Try(body=body):
            return _scope_names(body)
        case Switch(conditions=conditions):
            return set().union(*(_action_names(condition.action) for condition in conditions))
        case Parallel(shared=shared):
            return set(shared)
    return set()


def _block_locals(body: Block) -> set[str]:
    """Every name a loop body or an except block in `body` binds or creates, at any depth."""
    found: set[str] = set()
    pending: list[tuple[Block, bool]] = [(body, False)]
    while pending:
        block, inside = pending.pop()
        if inside:
            found |= _scope_names(block)
        for step in block.steps:
            for nested in _nested_scopes(step.action):
                found |= nested.binds
                pending.append((nested.block, inside or nested.scope))
    return found


def _quote_flow_expressions(source: str) -> str:
    """`source` with each `${...}` that begins a node of a flow collection in double quotes.

    Google deploys expressions left unquoted inside flow collections (`fieldPaths: [${key}]`,
    in its callback-event tutorial and state-management demo); a YAML 1.1 reader ends the
    plain scalar `$` at the `{` there and refuses the file. One pass, for a file the reader
    refused: it follows flow depth, quoted scalars, comments and block scalars, and quotes an
    expression only where a node starts (after `[`, `{`, `,` or `:` in a flow collection),
    when it closes on its line. Anything else, such as `{text: Hello ${name}}`, is left as it
    was. No line is added, so the lines of a later error are the file's.
    """
    out: list[str] = []
    copied = 0  # source[:copied] is in `out`
    depth = 0  # flow collections open here
    start = True  # a node may start here
    line_start = 0
    fresh = True  # nothing but blanks yet on this line
    line_end = -1  # the end of the line of the last expression, found once a line
    index = 0
    size = len(source)
    while index < size:
        char = source[index]
        after = source[index + 1 : index + 2]
        skipped = index
        if char == "\n":
            index += 1
            line_start, fresh = index, True  # the line goes on as the last one ended
            continue
        if char in _BLANK:
            index += 1
            continue
        if char == "#" and (index == 0 or source[index - 1] in _BLANK + "\n"):
            index = _line_end(source, index)
            continue
        first, fresh = fresh, False
        if start and char in "\"'":
            index, start = _quoted_end(source, index), False
        elif start and char in "!&":  # a tag or an anchor: the node follows it
            while index < size and source[index] not in _BLANK + "\n,[]{}":
                index += 1
        elif depth == 0:
            index, start, depth = _block_context(source, index, start, first, line_start)
        elif char in "[{":
            depth, start, index = depth + 1, True, index + 1
        elif char in "]}":
            depth, start, index = depth - 1, False, index + 1
        elif char == "$" and start and after == "{":
            if line_end < index:
                line_end = _line_end(source, index)
            end = _expression_end(source, index + 1, line_end)
            if end is None:
                # Left unquoted, it fails the reader again wherever the rest is quoted.
                break
            text = source[index:end].replace("\\", "\\\\").replace('"', '\\"')
            out += [source[copied:index], '"', text, '"']
            copied, index, start = end, end, False
        else:
            # `,` and a `:` that ends a key start a node; anything else is a plain scalar.
            key_end = char == ":" and (
                after in (*_BREAK, ",", "[", "]", "{", "}") or source[index - 1] in "\"'"
            )
            start, index = char == "," or key_end, index + 1
        newline = source.rfind("\n", skipped, index)
        if newline >= 0:
            line_start = newline + 1
    out.append(source[copied:])
    return "".join(out)


def _block_context(
    source: str, index: int, start: bool, first: bool, line_start: int
) -> tuple[int, bool, int]:
    """Past the token at `index` outside flow collections: (index, may a node start, flow depth)."""
    char, after = source[index], source[index + 1 : index + 2]
    if char in "-?" and after in _BREAK and (start or first):
        return index + 1, True, 0  # a `- ` entry or a `? ` key starts a node
    if index == line_start and source.startswith("---", index) and source[index + 3 : index + 4] in _BREAK:
        return index + 3, True, 0  # a document
    if start and char in "|>":
        return _block_scalar_end(source, index, line_start), False, 0
    if start and char in "[{":
        return index + 1, True, 1
    # `key: value`: a node starts after the `:`; anything else is a plain scalar.
    return index + 1, char == ":" and after in _BREAK, 0


_BLANK = " \t\r"
_BREAK = ("", " ", "\t", "\r", "\n")


def _line_end(source: str, index: int) -> int:
    end = source.find("\n", index)
    return len(source) if end < 0 else end


def _quoted_end(source: str, index: int) -> int:
    """The index just past the quoted scalar opening at `index` ('' and backslash escapes)."""
    quote = source[index]
    position = index + 1
    while position < len(source):
        char = source[position]
        if char == quote and quote == "'" and source[position + 1 : position + 2] == "'":
            position += 2
        elif char == quote:
            return position + 1
        else:
            position += 2 if char == "\\" and quote == '"' else 1
    return len(source)


def _block_scalar_end(source: str, index: int, line_start: int) -> int:
    """The end of the last line of the block scalar whose `|` or `>` is at `index`.

    Its lines are the blank ones and those indented past the collection around it: past the
    column of its key (`key: |`), of the `-` it follows (`- |`), or else left of the `|`.
    """
    line = source[line_start:index]
    column = len(line) - len(line.lstrip(" "))
    dash = -1
    while line[column : column + 1] == "-" and line[column + 1 : column + 2] in (" ", "\t"):
        dash = column
        column = len(line) - len(line[column + 1 :].lstrip(" \t"))
    if line[column:].strip():
        indent = column  # `key: |`
    elif dash >= 0:
        indent = dash  # `- |`
    else:
        indent = len(line) - 1  # `|` alone on its line
    end = _line_end(source, index)
    while end < len(source):
        following = _line_end(source, end + 1)
        text = source[end + 1 : following]
        if text.strip() and len(text) - len(text.lstrip(" ")) <= indent:
            break
        end = following
    return end


def _expression_end(source: str, index: int, stop: int) -> int | None:
    """The index just past the `}` closing the `{` at `index` before `stop`, skipping strings."""
    depth = 0
    quote = None
    position = index
    while position < stop:
        char = source[position]
        if quote is not None:
            if char == "\\":
                position += 1
            elif char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return position + 1
        position += 1
    return None


def _read(node: object) -> set[str]:
    """The variables a step's own expressions read (not those of the blocks nested in it).

    `http` in `${http.default_retry}` is the library, not a variable, whatever a loop is called.
    """
    found: set[str] = set()
    pending = [node]
    while pending:
        match pending.pop():
            case Block():
                continue
            case Name(name=name):
                if not _library_name(name):
                    found.add(name)
            case tuple() as item:
                pending.extend(item)
            case Mapping() as entries:
                pending.extend(entries.values())
    return found


def _assigned(block: Block, skip: Action | None = None) -> set[str]:
    """Every variable a step in `block`, at any depth, assigns or declares; `skip`'s left out."""
    found: set[str] = set()
    pending: list[object] = [block]
    while pending:
        item = pending.pop()
        if item is skip:
            continue
        match item:
            case Assignment(target=target):
                found.add(target.name)
            case Call(result=result):
                if result is not None:
                    found.add(result.name)
            case Loop(body=body):
                found |= _loop_variables(item)
                pending.append(body)
            case Except(name=name, body=body):
                if name is not None:
                    found.add(name)
                pending.append(body)
            case tuple():
                pending.extend(item)
    return found


def _loop_variables(loop: Loop) -> set[str]:
    """The names a `for` binds in its body: its value, and its index if it has one."""
    return {loop.value} | ({loop.index} if loop.index else set())


def _library_name(name: str) -> bool:
    """`http` in `http.default_retry`, or a library name used as a value."""
    if name in stdlib.NAMESPACES:
        return True
    try:
        stdlib.global_value(name)
    except LookupError:
        return False
    return True


def _excerpt(node: yaml.Node) -> str:
    """A scalar's text, cut short, to name it in an error."""
    text = str(node.value) if isinstance(node, yaml.ScalarNode) else ""
    return repr(text if len(text) <= 40 else text[:40] + "...")


def _message(error: Exception) -> str:
    if isinstance(error, WorkflowError) and isinstance(error.value, dict):
        return str(error.value.get("message", error))
    return str(error)
