"""Checks on a composed YAML document before any value is built from it.

A workflow source comes from anyone, so its YAML must not make the reader do more than
the text's size warrants. Anchors and aliases let a few lines name a value of billions of
items ("billion laughs") or a value that contains itself; tags (`!!python/...`, `!!set`,
`!!binary`) build values no workflow can hold. The checks here walk the node graph once,
each node once however many aliases reach it, and name the offending node.
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml

# Past this many values (counting each map key and each value), or past as many as the
# document writes out, whichever is more, a value built with aliases is refused: no source
# within Google's 128 KB limit writes out as many.
MAX_EXPANDED_VALUES = 100_000
# How deeply maps and lists may nest, steps included: the reader and the expression
# evaluator recurse once per level, and a real workflow nests a few dozen levels at most.
MAX_DEPTH = 100

_CORE = "tag:yaml.org,2002:"
# The tags of the Workflows data types ("Data types": null, boolean, integer, double,
# string, list, map); `!!timestamp` reads as its text, `<<` merges a map into a map.
_SCALAR_TAGS = frozenset(_CORE + name for name in ("null", "bool", "int", "float", "str", "timestamp"))
_MERGE_TAG = _CORE + "merge"


class DocumentError(Exception):
    """A document the engine refuses to build values from; `node` is where."""

    def __init__(self, message: str, node: yaml.Node) -> None:
        super().__init__(message)
        self.node = node


def check_document(root: yaml.Node) -> None:
    """Refuse unknown tags, non-scalar keys, recursive aliases, and a value too big or too deep."""
    expanded: dict[int, tuple[int, int]] = {}  # id(node) -> (values, depth) once walked
    on_path: set[int] = set()  # the nodes being walked: meeting one again is a cycle
    pending: list[tuple[yaml.Node, bool]] = [(root, False)]
    while pending:
        node, walked = pending.pop()
        key = id(node)
        if walked:
            on_path.discard(key)
            expanded[key] = _measure(node, expanded)
            continue
        if key in expanded:
            continue
        if key in on_path:
            raise DocumentError("a YAML alias refers to a value that contains it", node)
        _check_node(node)
        on_path.add(key)
        pending.append((node, True))
        pending.extend((child, False) for child in _children(node))
    # Each node walked once: `expanded` counts the values the text writes out.
    _check_expansion(root, expanded, max(MAX_EXPANDED_VALUES, len(expanded)))


def _measure(node: yaml.Node, expanded: dict[int, tuple[int, int]]) -> tuple[int, int]:
    """(values, depth) of `node` written out, its children already measured."""
    sizes = [expanded[id(child)] for child in _children(node)]
    values = 1 + sum(size for size, _ in sizes)
    depth = 1 + max((depth for _, depth in sizes), default=0)
    if depth > MAX_DEPTH:
        # Named at the innermost value, where the nesting shows, not at the outermost map.
        children = list(_children(node))
        while children:
            node = max(children, key=lambda child: expanded[id(child)][1])
            children = list(_children(node))
        raise DocumentError(f"maps and lists nest more than {MAX_DEPTH} levels deep here", node)
    return values, depth


def _check_expansion(root: yaml.Node, expanded: dict[int, tuple[int, int]], limit: int) -> None:
    """Refuse a document whose aliases write out more than `limit` values, at the innermost
    value that does (where the aliases that blow it up are)."""
    if expanded[id(root)][0] <= limit:
        return
    node = root
    while True:
        bigger = next((child for child in _children(node) if expanded[id(child)][0] > limit), None)
        if bigger is None:
            raise DocumentError(
                f"this value holds more than {limit} values once its YAML aliases are written out", node
            )
        node = bigger


def _check_node(node: yaml.Node) -> None:
    if isinstance(node, yaml.ScalarNode):
        allowed = node.tag in _SCALAR_TAGS
    elif isinstance(node, yaml.SequenceNode):
        allowed = node.tag == _CORE + "seq"
    else:
        allowed = node.tag == _CORE + "map"
    if not allowed:
        tag = node.tag.replace(_CORE, "!!")
        raise DocumentError(
            f"the YAML tag {tag} is not a Workflows data type "
            "(null, boolean, integer, double, string, list or map)",
            node,
        )
    if isinstance(node, yaml.MappingNode):
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise DocumentError("a map key must be a string, not a list or a map", key)


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        yield from node.value
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            # A merge key's value is a map (or a list of maps) whose entries join this map.
            if key.tag != _MERGE_TAG:
                yield key
            yield value
