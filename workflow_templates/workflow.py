"""A Workflows source split into subworkflows, with what each one calls and reads."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import TemplateError
from .source import YamlDocument, line_of

# A sys.get_env call with a literal name; group 3 tells whether a default follows.
_GET_ENV = re.compile(r"""sys\.get_env\(\s*(?:"([^"]*)"|'([^']*)')\s*([,)])""")
# A bare function call in an expression (not a dotted stdlib one like map.get).
_FUNCTION_CALL = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\s*\(")
# A retry predicate naming a subworkflow, `${name}`: a reference without a call.
_PREDICATE = re.compile(r"\$\{\s*([A-Za-z_]\w*)\s*\}")

_SUBWORKFLOW_KEYS = frozenset({"params", "steps"})


@dataclass(frozen=True)
class Use:
    """Something a subworkflow uses, and where: a call target or an expression.

    For a call, args is the value of the `args` beside it (None without one).
    """

    text: str
    line: int
    step: str | None
    args: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class EnvRead:
    """A sys.get_env call with a literal name."""

    name: str
    has_default: bool
    line: int
    step: str | None


@dataclass(frozen=True)
class Subworkflow:
    """One subworkflow of a source file, as data plus what its steps use."""

    name: str
    path: Path
    line: int
    data: dict[str, Any]
    calls: tuple[Use, ...] = field(default=())
    expressions: tuple[Use, ...] = field(default=())
    predicates: tuple[Use, ...] = field(default=())

    def env_reads(self) -> Iterator[EnvRead]:
        """Every sys.get_env call with a literal variable name."""
        for expression in self.expressions:
            for match in _GET_ENV.finditer(expression.text):
                name = match.group(1) if match.group(1) is not None else match.group(2)
                yield EnvRead(name, match.group(3) == ",", expression.line, expression.step)

    def referenced_names(self) -> set[str]:
        """Names this subworkflow may invoke as subworkflows (calls, retry predicates, expressions)."""
        names = {call.text for call in self.calls if "." not in call.text}
        names.update(predicate.text for predicate in self.predicates)
        for expression in self.expressions:
            names.update(_FUNCTION_CALL.findall(expression.text))
        return names


def subworkflows(document: YamlDocument) -> dict[str, Subworkflow]:
    """Split a parsed source into subworkflows; a plain list of steps is `main`."""
    node, path = document.node, document.path
    if isinstance(node, yaml.SequenceNode):
        return {"main": _subworkflow(path, "main", node, None, node, {"steps": document.data})}
    if not isinstance(node, yaml.MappingNode) or not node.value:
        raise TemplateError(
            path,
            "a workflow is a map of subworkflows (one named main) or a list of steps",
            line=None if node is None else line_of(node),
        )
    result: dict[str, Subworkflow] = {}
    for key, value in node.value:
        name = str(key.value)
        if not isinstance(value, yaml.MappingNode):
            raise TemplateError(path, f"subworkflow {name!r} must be a map with steps", line=line_of(key))
        parts = {str(part.value): part_value for part, part_value in value.value}
        unknown = sorted(set(parts) - _SUBWORKFLOW_KEYS)
        if unknown:
            raise TemplateError(
                path,
                f"subworkflow {name!r} has unknown keys {unknown}; allowed: params, steps",
                line=line_of(key),
            )
        if "steps" not in parts:
            raise TemplateError(path, f"subworkflow {name!r} has no steps", line=line_of(key))
        result[name] = _subworkflow(path, name, key, parts.get("params"), parts["steps"], document.data[name])
    return result


def _subworkflow(
    path: Path,
    name: str,
    key: yaml.Node,
    params: yaml.Node | None,
    steps: yaml.Node,
    data: dict[str, Any],
) -> Subworkflow:
    if params is not None and not isinstance(params, yaml.SequenceNode):
        raise TemplateError(path, f"params of {name!r} must be a list", line=line_of(params))
    # main receives the execution argument, one value at most.
    if name == "main" and params is not None and len(params.value) > 1:
        raise TemplateError(path, "main takes at most one parameter", line=line_of(params))
    walker = _StepWalker(path)
    walker.steps(steps)
    return Subworkflow(
        name,
        path,
        line_of(key),
        data,
        tuple(walker.calls),
        tuple(walker.expressions),
        tuple(walker.predicates),
    )


def _value_of(node: yaml.Node | None) -> Any:
    """The Python value of a composed node, as parse_yaml builds it."""
    return None if node is None else yaml.constructor.SafeConstructor().construct_document(node)


class _StepWalker:
    """Collects call targets and expressions, each with its line and step name."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.calls: list[Use] = []
        self.expressions: list[Use] = []
        self.predicates: list[Use] = []

    def steps(self, node: yaml.Node) -> None:
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise TemplateError(self.path, "steps must be a non-empty list", line=line_of(node))
        for item in node.value:
            if not isinstance(item, yaml.MappingNode) or len(item.value) != 1:
                raise TemplateError(
                    self.path,
                    "each step must be a map with exactly one key, the step name",
                    line=line_of(item),
                )
            name_node, body = item.value[0]
            name = str(name_node.value)
            if not isinstance(body, yaml.MappingNode):
                raise TemplateError(
                    self.path,
                    "a step must be a map (call, assign, switch, return, ...)",
                    line=line_of(name_node),
                    step=name,
                )
            self.body(body, name)

    def body(self, node: yaml.MappingNode, step: str) -> None:
        for key, value in node.value:
            kind = key.value
            if kind == "call" and isinstance(value, yaml.ScalarNode):
                args = next((v for k, v in node.value if k.value == "args"), None)
                self.calls.append(Use(str(value.value), line_of(value), step, _value_of(args)))
            elif kind == "retry" and isinstance(value, yaml.MappingNode):
                self.retry(value, step)
            elif kind in ("steps", "branches") or (kind == "try" and isinstance(value, yaml.SequenceNode)):
                self.steps(value)
            elif kind in ("try", "for", "parallel", "except") and isinstance(value, yaml.MappingNode):
                self.body(value, step)
            elif kind == "switch" and isinstance(value, yaml.SequenceNode):
                for condition in value.value:
                    if isinstance(condition, yaml.MappingNode):
                        self.body(condition, step)
                    else:
                        self.scalars(condition, step)
            else:
                self.scalars(value, step)

    def retry(self, node: yaml.MappingNode, step: str) -> None:
        for key, value in node.value:
            if key.value == "predicate" and isinstance(value, yaml.ScalarNode):
                match = _PREDICATE.fullmatch(str(value.value).strip())
                if match:
                    self.predicates.append(Use(match.group(1), line_of(value), step))
        self.scalars(node, step)

    def scalars(self, node: yaml.Node, step: str) -> None:
        if isinstance(node, yaml.ScalarNode):
            if "${" in str(node.value):
                self.expressions.append(Use(str(node.value), line_of(node), step))
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                self.scalars(item, step)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                self.scalars(key, step)
                self.scalars(value, step)
