"""Reading YAML files while keeping the line of every node, for error messages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import TemplateError

# libyaml keeps the same line marks and parses templates several times faster.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class YamlDocument:
    """A parsed YAML file: its text, its composed node tree (lines) and its Python value."""

    path: Path
    text: str
    node: yaml.Node | None
    data: Any


def line_of(node: yaml.Node) -> int:
    """The 1-based line a node starts on."""
    return node.start_mark.line + 1


def parse_yaml(path: Path) -> YamlDocument:
    """Parse one YAML file; syntax errors and duplicate keys become TemplateErrors."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise TemplateError(path, f"cannot read the file: {error.strerror or error}") from error
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _reject_duplicate_keys(path, node)
        data = None if node is None else loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "syntax error"
        raise TemplateError(
            path,
            f"invalid YAML: {problem}",
            line=None if mark is None else mark.line + 1,
        ) from error
    except yaml.YAMLError as error:
        raise TemplateError(path, f"invalid YAML: {error}") from error
    finally:
        loader.dispose()
    return YamlDocument(path, text, node, data)


def _reject_duplicate_keys(path: Path, node: yaml.Node) -> None:
    # PyYAML keeps the last of two equal keys without a word; a second step
    # or subworkflow of the same name would silently replace the first.
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    raise TemplateError(path, f"duplicate key {key.value!r}", line=line_of(key))
                seen.add(key.value)
            _reject_duplicate_keys(path, value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _reject_duplicate_keys(path, item)
