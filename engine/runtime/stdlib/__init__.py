"""The Workflows standard library: a registry of functions and named values.

Functions are looked up by their full dotted name (`text.split`, `len`).
Each namespace is the module of that name (`text.split` in `text`, names
without a dot in `core`), imported on its first lookup: a workflow loads only
the modules it names, which keeps `python -m emulator run` quick to start.
Blocking ones (`http.*`, `sys.sleep`, `events.*`, any `googleapis.*`
connector) carry no implementation: the interpreter turns a call into an
effect. Named values are library objects used without a call, such as
`${http.default_retry}` or a function used as a retry predicate.
"""

from __future__ import annotations

import importlib
from typing import Any

from approvals.engine.runtime.effects import Host
from approvals.engine.runtime.errors import TYPE_ERROR, WorkflowError
from approvals.engine.runtime.stdlib.base import REQUIRED, Function, Param
from approvals.engine.runtime.values import FunctionRef, check_string, copy_value

__all__ = ["REQUIRED", "Function", "Param", "bind", "call_pure", "function_names", "global_value", "lookup"]

# The dotted namespaces, each the module of that name; a name without a dot is in CORE.
NAMESPACES = frozenset(
    [
        "base64",
        "events",
        "hash",
        "http",
        "json",
        "list",
        "map",
        "math",
        "retry",
        "sys",
        "text",
        "time",
        "uuid",
    ]
)
CORE = "core"
CONNECTOR_PREFIX = "googleapis."

# Filled a module at a time, as its names are first looked up.
_FUNCTIONS: dict[str, Function] = {}
_VALUES: dict[str, Any] = {}
_LOADED: set[str] = set()


def _load(name: str) -> None:
    """Import the library module that would hold `name`, once; nothing for an unknown namespace."""
    namespace, dot, _ = name.partition(".")
    if not dot:
        _load_module(CORE)
    elif namespace in NAMESPACES:
        _load_module(namespace)


def _load_module(module_name: str) -> None:
    if module_name in _LOADED:
        return
    module = importlib.import_module(f"{__name__}.{module_name}")
    _FUNCTIONS.update((f.name, f) for f in module.FUNCTIONS)
    _VALUES.update(getattr(module, "VALUES", {}))
    # Marked last: a thread that finds the module loaded finds all its names.
    _LOADED.add(module_name)


def function_names() -> frozenset[str]:
    """Every library function's name: for tools and tests that list them, so it loads them all."""
    for module_name in (*NAMESPACES, CORE):
        _load_module(module_name)
    return frozenset(_FUNCTIONS)


def lookup(name: str) -> Function | None:
    """The library function called `name`; any `googleapis.*` name is a blocking connector call."""
    _load(name)
    function = _FUNCTIONS.get(name)
    if function is None and name.startswith(CONNECTOR_PREFIX) and len(name) > len(CONNECTOR_PREFIX):
        return Function(name, (), None, blocking=True, any_args=True)
    return function


def global_value(name: str) -> Any:
    """What a library name means as a value: an object (a fresh copy) or a FunctionRef.

    Raises LookupError if the library has no such name.
    """
    _load(name)
    if name in _VALUES:
        return copy_value(_VALUES[name])
    if name in _FUNCTIONS:
        return FunctionRef(name)
    raise LookupError(name)


def bind(function: Function, positional: Any = None, named: dict[str, Any] | None = None) -> dict[str, Any]:
    """Arguments by parameter name, defaults filled in; a TypeError names the bad argument.

    Optional parameters without a meaningful default are bound to None for pure
    functions; a blocking call leaves them out, so its effect carries only what
    the workflow passed plus real defaults (http.get's timeout of 300 s).
    """
    positional = positional or []
    named = dict(named or {})
    if function.any_args:
        if positional:
            raise _bind_error(function, "takes named arguments only")
        return named
    if len(positional) > len(function.params):
        raise _bind_error(function, f"takes at most {len(function.params)} arguments, got {len(positional)}")
    bound = {p.name: v for p, v in zip(function.params, positional, strict=False)}
    known = {p.name for p in function.params}
    for name, value in named.items():
        if name not in known:
            raise _bind_error(function, f"got an unexpected argument '{name}'")
        if name in bound:
            raise _bind_error(function, f"got argument '{name}' twice")
        bound[name] = value
    for param in function.params:
        if param.name not in bound:
            if param.required:
                raise _bind_error(function, f"missing required argument '{param.name}'")
            if param.default is not None or not function.blocking:
                bound[param.name] = param.default
    return {p.name: bound[p.name] for p in function.params if p.name in bound}


def call_pure(function: Function, host: Host, args: dict[str, Any]) -> Any:
    """Run a non-blocking function with bound arguments."""
    if function.impl is None:
        raise WorkflowError.tagged(TYPE_ERROR, f"{function.name} is a blocking call; use it in a call step")
    result = function.impl(host, **args)
    return check_string(result) if isinstance(result, str) else result


def _bind_error(function: Function, problem: str) -> WorkflowError:
    return WorkflowError.tagged(TYPE_ERROR, f"{function.name}: {problem}")
