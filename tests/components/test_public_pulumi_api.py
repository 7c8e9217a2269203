"""The components use Pulumi's public API only: every private part the package needs lives in
policies/pulumi_internals.py, with a contract test each."""

import ast
import inspect
from pathlib import Path

import pulumi

from tests.support.python_source import parse

COMPONENTS = Path(__file__).resolve().parents[2] / "components"


def private_resource_attributes() -> set[str]:
    """The private attributes Pulumi's resource classes set on themselves (`self._name`, ...)."""
    tree = parse(inspect.getsource(inspect.getmodule(pulumi.Resource)))
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
        and isinstance(node.ctx, ast.Store)
    }


def test_no_component_reads_a_private_attribute_of_pulumi_s_resources() -> None:
    private = private_resource_attributes()
    assert {"_name", "_type"} <= private
    uses = [
        f"{path.name}:{node.lineno} .{node.attr}"
        for path in sorted(COMPONENTS.glob("*.py"))
        for node in ast.walk(parse(path.read_text()))
        if isinstance(node, ast.Attribute) and node.attr in private
    ]
    assert not uses, f"Pulumi's private resource attributes (use the public ones): {uses}"
