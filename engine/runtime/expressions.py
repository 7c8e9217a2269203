"""Evaluates parsed expressions and compiled YAML values; performs assignments.

Every runtime error is a tagged WorkflowError (KeyError, IndexError, TypeError,
ValueError, ZeroDivisionError) so that a workflow's `except` sees what Google's
engine would raise. Function calls go through `Context.call`: the interpreter
decides which functions an expression may call and resolves subworkflows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from approvals.engine.language.parser import (
    Attribute,
    Binary,
    Call,
    Compiled,
    Const,
    Expr,
    Expression,
    Index,
    ListLiteral,
    ListValue,
    Literal,
    MapLiteral,
    MapValue,
    Name,
    Target,
    Unary,
    dotted_name,
)
from approvals.engine.runtime import stdlib
from approvals.engine.runtime.effects import Host
from approvals.engine.runtime.errors import (
    INDEX_ERROR,
    KEY_ERROR,
    TYPE_ERROR,
    ZERO_DIVISION_ERROR,
    WorkflowError,
)
from approvals.engine.runtime.values import (
    check_int,
    check_string,
    compare,
    copy_value,
    equals,
    is_number,
    stringify,
    type_name,
)


class Variables(Protocol):
    """The variables an expression reads and an assignment writes (a dict will do)."""

    def __getitem__(self, name: str, /) -> Any: ...

    def __contains__(self, name: object, /) -> bool: ...

    def __setitem__(self, name: str, value: Any, /) -> None: ...


class Context(Protocol):
    """What evaluation needs from the running branch."""

    host: Host

    @property
    def variables(self) -> Variables:
        """The variables in scope."""

    def call(self, name: str, args: list[Any]) -> Any:
        """Call a library function or subworkflow with positional arguments."""


def evaluate_value(compiled: Compiled, ctx: Context) -> Any:
    """The value of a compiled YAML value: literals are fresh copies, expressions are evaluated."""
    match compiled:
        case Const(value=value):
            return value
        case Expression(expr=expr):
            return evaluate(expr, ctx)
        case ListValue(items=items):
            return [evaluate_value(item, ctx) for item in items]
        case MapValue(entries=entries):
            return {_map_key(evaluate_value(k, ctx)): evaluate_value(v, ctx) for k, v in entries}
    raise TypeError(f"not a compiled value: {compiled!r}")


def evaluate(expr: Expr, ctx: Context) -> Any:
    """The value of an expression."""
    match expr:
        case Literal(value=value):
            return value
        case Name(name=name):
            return _variable(name, ctx)
        case Attribute(target=target, name=name):
            library_name = _library_name(expr, ctx)
            if library_name is not None:
                return stdlib.global_value(library_name)
            return _get(evaluate(target, ctx), name)
        case Index(target=target, index=index):
            return _get(evaluate(target, ctx), evaluate(index, ctx))
        case Call(name=name, args=args):
            return ctx.call(name, [evaluate(arg, ctx) for arg in args])
        case Unary(op="not", operand=operand):
            return not _boolean(evaluate(operand, ctx), "not")
        case Unary(op="-", operand=operand):
            return _negate(evaluate(operand, ctx))
        case Binary(op="and", left=left, right=right):
            # Short-circuit: the right side is not evaluated when the left decides.
            return _boolean(evaluate(left, ctx), "and") and _boolean(evaluate(right, ctx), "and")
        case Binary(op="or", left=left, right=right):
            return _boolean(evaluate(left, ctx), "or") or _boolean(evaluate(right, ctx), "or")
        case Binary(op=op, left=left, right=right):
            return _BINARY[op](evaluate(left, ctx), evaluate(right, ctx))
        case ListLiteral(items=items):
            return [evaluate(item, ctx) for item in items]
        case MapLiteral(entries=entries):
            return {_map_key(evaluate(k, ctx)): evaluate(v, ctx) for k, v in entries}
    raise TypeError(f"not an expression: {expr!r}")


def assign(target: Target, value: Any, ctx: Context) -> None:
    """`name: value` in an assign step; the value is copied so variables never alias.

    A path (`a.b[0]: v`) is refused here: it is written through `locate`, whose slot the
    interpreter stores with the memory the write adds counted (`_Scope.store`).
    """
    if target.path:
        raise ValueError(f"assign writes a variable, not a path into {target.name!r}: use locate")
    ctx.variables[target.name] = copy_value(value)


class Slot(NamedTuple):
    """Where a path assignment writes, found without changing anything: `container[key] = value`."""

    container: dict[str, Any] | list[Any]
    key: Any  # a str for a map, an int index for a list
    value: Any

    def store(self) -> None:
        self.container[self.key] = self.value


def locate(target: Target, value: Any, ctx: Context) -> Slot:
    """Where `target: value` (a target with a path) writes; nothing changes until `store`.

    A missing map key along the path becomes part of what is written, so `a.b.c: 1` on
    `a: {}` writes `{c: 1}` at `a.b` (missing keys are created as maps); a list index must
    exist ("Subscripts ... must evaluate to an integer", Lists). An error leaves the
    variable as it was.
    """
    container = _variable(target.name, ctx)
    *steps, last = [evaluate(part, ctx) for part in target.path]
    for depth, key in enumerate(steps):
        if isinstance(container, dict) and isinstance(key, str) and key not in container:
            for missing in reversed([*steps[depth + 1 :], last]):
                value = {_map_key(missing): value}
            return Slot(container, key, value)
        container = _get(container, key)
    if isinstance(container, dict):
        return Slot(container, _map_key(last), value)
    if isinstance(container, list):
        return Slot(container, _list_index(container, last), value)
    raise WorkflowError.tagged(TYPE_ERROR, f"cannot assign into a {type_name(container)} value")


# ---- lookups ----------------------------------------------------------------


def _variable(name: str, ctx: Context) -> Any:
    if name in ctx.variables:
        return ctx.variables[name]
    try:
        return stdlib.global_value(name)
    except LookupError:
        raise WorkflowError.tagged(KEY_ERROR, f"variable '{name}' is not defined") from None


def _library_name(expr: Attribute, ctx: Context) -> str | None:
    """`http.default_retry` names a library value when `http` is not a variable."""
    name = dotted_name(expr)
    if name is None or name.split(".", 1)[0] in ctx.variables:
        return None
    try:
        stdlib.global_value(name)
    except LookupError:
        return None
    return name


def _get(container: Any, key: Any) -> Any:
    if isinstance(container, dict):
        k = _map_key(key)
        if k not in container:
            raise WorkflowError.tagged(KEY_ERROR, f"key '{k}' not found in map")
        return container[k]
    if isinstance(container, list):
        return container[_list_index(container, key)]
    raise WorkflowError.tagged(TYPE_ERROR, f"cannot index a {type_name(container)} value with {key!r}")


def _map_key(key: Any) -> str:
    if not isinstance(key, str):
        raise WorkflowError.tagged(TYPE_ERROR, f"map keys must be strings, got {type_name(key)}")
    return key


def _list_index(items: list[Any], index: Any) -> int:
    if not isinstance(index, int) or isinstance(index, bool):
        raise WorkflowError.tagged(TYPE_ERROR, f"list index must be an integer, got {type_name(index)}")
    if not 0 <= index < len(items):
        raise WorkflowError.tagged(INDEX_ERROR, f"list index {index} out of range (length {len(items)})")
    return index


# ---- operators --------------------------------------------------------------


def _boolean(v: Any, op: str) -> bool:
    # "Logical operators can be used only on boolean values" -- data types.
    if not isinstance(v, bool):
        raise WorkflowError.tagged(TYPE_ERROR, f"'{op}' needs boolean operands, got {type_name(v)}")
    return v


def _negate(v: Any) -> Any:
    if not is_number(v):
        raise WorkflowError.tagged(TYPE_ERROR, f"unary '-' needs a number, got {type_name(v)}")
    return check_int(-v) if isinstance(v, int) else -v


def _numbers(op: str, a: Any, b: Any) -> None:
    if not (is_number(a) and is_number(b)):
        raise WorkflowError.tagged(
            TYPE_ERROR, f"unsupported operand types for '{op}': {type_name(a)} and {type_name(b)}"
        )


def _arithmetic(op: str, fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """int op int stays an integer (within 64 bits); any double makes the result a double."""

    def apply(a: Any, b: Any) -> Any:
        _numbers(op, a, b)
        result = fn(a, b)
        return check_int(result) if isinstance(result, int) else result

    return apply


def _add(a: Any, b: Any) -> Any:
    # The "+ operator" table of "Implicit data type conversions" (data types page): a
    # string on either side makes the result a string, so integers, doubles and booleans
    # are written as string() writes them; a boolean with a number, and null, a list, a
    # map or bytes with anything, are errors.
    if (isinstance(a, str) or isinstance(b, str)) and _concatenable(a) and _concatenable(b):
        return check_string(stringify(a) + stringify(b))
    return _arithmetic("+", lambda x, y: x + y)(a, b)


def _concatenable(v: Any) -> bool:
    return isinstance(v, str | bool) or is_number(v)


def _divide(a: Any, b: Any) -> float:
    # "/ : float division" -- Expressions: the result is always a double.
    _numbers("/", a, b)
    _nonzero(b)
    return a / b


def _floor_divide(a: Any, b: Any) -> Any:
    _numbers("//", a, b)
    _nonzero(b)
    result = a // b
    return check_int(result) if isinstance(result, int) else float(result)


def _remainder(a: Any, b: Any) -> Any:
    # Floor semantics (the sign follows the divisor), consistent with `//`.
    _numbers("%", a, b)
    _nonzero(b)
    return a % b


def _nonzero(b: Any) -> None:
    if b == 0:
        raise WorkflowError.tagged(ZERO_DIVISION_ERROR, "division by zero")


def _contains(item: Any, container: Any) -> bool:
    # "in() Checks whether a given key is present in a list or map" -- expression helpers.
    if isinstance(container, list):
        return any(equals(item, x) for x in container)
    if isinstance(container, dict):
        return _map_key(item) in container
    raise WorkflowError.tagged(
        TYPE_ERROR, f"'in' needs a list or map on the right, got {type_name(container)}"
    )


def _ordering(test: Callable[[int], bool]) -> Callable[[Any, Any], bool]:
    return lambda a, b: test(compare(a, b))


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": _add,
    "-": _arithmetic("-", lambda x, y: x - y),
    "*": _arithmetic("*", lambda x, y: x * y),
    "/": _divide,
    "//": _floor_divide,
    "%": _remainder,
    "==": equals,
    "!=": lambda a, b: not equals(a, b),
    "<": _ordering(lambda c: c < 0),
    "<=": _ordering(lambda c: c <= 0),
    ">": _ordering(lambda c: c > 0),
    ">=": _ordering(lambda c: c >= 0),
    "in": _contains,
}
