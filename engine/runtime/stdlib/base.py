"""What a library function is, and the argument checks every module shares."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from approvals.engine.runtime.errors import TYPE_ERROR, WorkflowError
from approvals.engine.runtime.values import is_number, type_name


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


# NamedTuples, not frozen dataclasses, for the CLI's start (see `parser`).


class Param(NamedTuple):
    name: str
    default: Any = REQUIRED

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


class Function(NamedTuple):
    """A standard library function.

    `blocking` functions have no `impl`: the interpreter turns a call into an
    effect. `step_only` marks non-blocking functions that Google still refuses
    inside expressions (sys.log). `any_args` is for connectors, whose
    arguments are the API method's own.
    """

    name: str
    params: tuple[Param, ...]
    impl: Callable[..., Any] | None
    blocking: bool = False
    step_only: bool = False
    any_args: bool = False

    @property
    def in_expressions(self) -> bool:
        # "only non-blocking functions can be used inside an expression. For example,
        # HTTP calls, sys.sleep, and sys.log cannot be used inside an expression" -- stdlib overview.
        return not (self.blocking or self.step_only)


def pure(name: str, impl: Callable[..., Any], *params: Param, step_only: bool = False) -> Function:
    return Function(name, tuple(params), impl, step_only=step_only)


def blocking(name: str, *params: Param) -> Function:
    return Function(name, tuple(params), None, blocking=True)


def type_error(function: str, arg: str, expected: str, value: Any) -> WorkflowError:
    return WorkflowError.tagged(
        TYPE_ERROR, f"{function}: argument '{arg}' must be {expected}, got {type_name(value)}"
    )


def want(function: str, arg: str, value: Any, kind: type | tuple[type, ...], expected: str) -> Any:
    """`value` if it is of `kind` (a bool is never accepted as a number), else a TypeError."""
    if isinstance(value, kind) and not (isinstance(value, bool) and bool not in _as_tuple(kind)):
        return value
    raise type_error(function, arg, expected, value)


def want_number(function: str, arg: str, value: Any) -> int | float:
    if not is_number(value):
        raise type_error(function, arg, "a number", value)
    return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)
