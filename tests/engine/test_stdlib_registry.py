"""The library registry imports a namespace's module on its first lookup (`text.split` in
stdlib/text.py, names without a dot in stdlib/core.py): every name must sit in the module
of its namespace, or a workflow calling it would be told the function does not exist."""

from __future__ import annotations

import importlib
from pathlib import Path

from approvals.engine.runtime import stdlib

MODULES = sorted(
    p.stem for p in Path(stdlib.__file__).parent.glob("*.py") if p.stem not in ("__init__", "base")
)


def test_every_library_module_is_a_namespace_the_registry_knows() -> None:
    assert sorted([*stdlib.NAMESPACES, stdlib.CORE]) == MODULES


def test_every_name_is_in_the_module_of_its_namespace_and_is_found() -> None:
    for module_name in MODULES:
        module = importlib.import_module(f"{stdlib.__name__}.{module_name}")
        values = getattr(module, "VALUES", {})
        namespace = "" if module_name == stdlib.CORE else f"{module_name}."
        for name in [f.name for f in module.FUNCTIONS] + list(values):
            assert name.startswith(namespace) and "." not in name.removeprefix(namespace), name
        for function in module.FUNCTIONS:
            assert stdlib.lookup(function.name) is function
        for name in values:
            stdlib.global_value(name)  # a LookupError if the registry cannot find it
