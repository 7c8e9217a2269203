"""Workflows runtime values as Python objects, and the rules every module shares.

A Workflows value is None (null), bool, int, float (double), str, bytes, list
or dict (map with string keys), plus `FunctionRef` for a function used as a
value (a retry predicate). Python's own rules differ in ways a workflow would
notice (True == 1, unbounded ints, "a" + 1 errors differently), so equality,
ordering, integer bounds and string conversion live here, once.
"""

from __future__ import annotations

import json
import math
from typing import Any

from approvals.engine.runtime.errors import (
    TYPE_ERROR,
    VALUE_ERROR,
    ResourceLimitError,
    WorkflowError,
    describe,
)

# "Integer (64 bit, signed)" -- Workflows data types (reference/syntax/datatypes).
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
# A string holds at most 256 KB ("Quotas and limits", https://cloud.google.com/workflows/quotas;
# "unicode <= 256 KB length", Syntax cheat sheet), counted in UTF-8.
MAX_STRING_BYTES = 256 * 1024


class FunctionRef:
    """A standard library function or a subworkflow named as a value.

    `predicate: ${http.default_retry_predicate}` evaluates to one of these; the
    interpreter calls it through `Context.call(name, [error])`.

    Written out rather than a frozen dataclass, whose creation the CLI's start would pay
    for (see `parser`), and not a NamedTuple: a Workflows value must not be a tuple, which
    the JSON encoders would take for a list.
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "name", name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"FunctionRef is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"FunctionRef is immutable: cannot delete {name!r}")

    def __eq__(self, other: object) -> bool:
        return other.name == self.name if type(other) is FunctionRef else NotImplemented

    def __hash__(self) -> int:
        return hash((self.name,))

    def __repr__(self) -> str:
        return f"FunctionRef(name={self.name!r})"


def check_int(n: int) -> int:
    """`n` if it fits in a signed 64-bit integer, else a ValueError-tagged error."""
    if INT64_MIN <= n <= INT64_MAX:
        return n
    raise WorkflowError.tagged(VALUE_ERROR, f"integer overflow: {n} is outside the 64-bit signed range")


def is_number(v: Any) -> bool:
    """int or float, but not bool (a Python bool is an int; a Workflows boolean is not a number)."""
    return isinstance(v, int | float) and not isinstance(v, bool)


def type_name(v: Any) -> str:
    """The name get_type() returns for `v`."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "double"
    if isinstance(v, str):
        return "string"
    if isinstance(v, bytes):
        return "bytes"
    if isinstance(v, list):
        return "list"
    if isinstance(v, dict):
        return "map"
    if isinstance(v, FunctionRef):
        return "function"
    raise TypeError(f"not a Workflows value: {v!r}")


def format_double(x: float) -> str:
    """Shortest text that reads back as `x` (the docs show sys.now() as "1635892223.4459958")."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return repr(x)


def stringify(v: Any) -> str:
    """What string() returns: it accepts "integer, double, or boolean" (expression helpers).

    Strings pass through unchanged; anything else is a TypeError.
    """
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return format_double(v)
    raise WorkflowError.tagged(TYPE_ERROR, f"cannot convert {type_name(v)} to string")


def equals(a: Any, b: Any) -> bool:
    """`==`: numbers compare by value across int and double; other types never equal each other."""
    if is_number(a) and is_number(b):
        return a == b
    if type_name(a) != type_name(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(equals(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(equals(a[k], b[k]) for k in a)
    return bool(a == b)


def compare(a: Any, b: Any) -> int:
    """-1, 0 or 1 for `<`-style operators: numbers with numbers, strings with strings.

    Any other pairing is a TypeError, as comparing incompatible types is in Workflows.
    """
    if (is_number(a) and is_number(b)) or (isinstance(a, str) and isinstance(b, str)):
        return (a > b) - (a < b)
    raise WorkflowError.tagged(TYPE_ERROR, f"cannot compare {type_name(a)} with {type_name(b)}")


def check_string(text: str) -> str:
    """`text`, if it is within the string limit; else ResourceLimitError.

    Every string a workflow makes passes here, a part of an expression too: nested
    `text.replace_all` calls or `(s + s) + (s + s)` would otherwise grow a string tenfold or
    twofold a level, past any memory, before the result were stored.
    """
    check_length(len(text))
    # A character is one to four bytes: only a long string needs encoding to tell.
    if len(text) * 4 > MAX_STRING_BYTES and len(text.encode("utf-8", "surrogatepass")) > MAX_STRING_BYTES:
        raise _string_too_long()
    return text


def check_length(characters: int) -> None:
    """ResourceLimitError for a string of `characters`, if even at a byte each it is too long."""
    if characters > MAX_STRING_BYTES:
        raise _string_too_long()


def _string_too_long() -> ResourceLimitError:
    return ResourceLimitError(f"a string may hold at most {MAX_STRING_BYTES} bytes (256 KB)")


# Values copy_value hands back as they are; testing the type inline spares a call per item.
_IMMUTABLE = frozenset({str, int, float, bool, type(None), bytes})


def copy_value(v: Any) -> Any:
    """A deep copy of lists and maps, so that assigning a value never aliases it.

    A workflow growing a list one item a step copies it each step (list.concat, then the
    assignment): a third of the time a call per item took, to reach the memory limit.
    """
    if isinstance(v, list):
        return [x if type(x) in _IMMUTABLE else copy_value(x) for x in v]
    if isinstance(v, dict):
        return {k: x if type(x) in _IMMUTABLE else copy_value(x) for k, x in v.items()}
    return v


def to_json(v: Any) -> Any:
    """A JSON-serialisable copy of `v`.

    json.encode raises "ValueError If the input contains types that cannot be
    JSON-encoded. Examples of such types include callable and bytes."
    """
    if v is None or isinstance(v, bool | int | str):
        return v
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            raise WorkflowError.tagged(VALUE_ERROR, f"cannot JSON-encode {format_double(v)}")
        return v
    if isinstance(v, list):
        return [to_json(x) for x in v]
    if isinstance(v, dict):
        return {k: to_json(x) for k, x in v.items()}
    raise WorkflowError.tagged(VALUE_ERROR, f"cannot JSON-encode a {type_name(v)} value")


def json_text(value: Any, *, ensure_ascii: bool = True) -> str:
    """A Workflows value as the JSON text the API carries in argument/result/payload.

    ``ensure_ascii=False`` keeps non-ASCII text readable, for a person reading a log line.
    """
    try:
        return json.dumps(to_json(value), ensure_ascii=ensure_ascii)
    except WorkflowError:
        return json.dumps(describe(value), ensure_ascii=ensure_ascii)


def from_json(obj: Any) -> Any:
    """A Workflows value from decoded JSON: integers stay integers, within 64 bits."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, str | float):
        return obj
    if isinstance(obj, int):
        return check_int(obj)
    if isinstance(obj, list):
        return [from_json(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): from_json(x) for k, x in obj.items()}
    raise TypeError(f"not a JSON value: {obj!r}")


# How deeply a JSON text from outside (an execution argument, a callback's body) may nest:
# the engine walks values recursively, and Python's own limit is about 1,000 frames.
MAX_JSON_DEPTH = 100


def parse_json(text: str | bytes) -> Any:
    """A Workflows value from JSON text that arrives from outside a workflow.

    ValueError for what is not JSON (NaN and Infinity included, which Python alone reads)
    or nests deeper than MAX_JSON_DEPTH; WorkflowError for an integer past 64 bits.
    """
    try:
        value = json.loads(text, parse_constant=_not_json)
    except RecursionError:
        raise ValueError(f"the JSON nests more than {MAX_JSON_DEPTH} levels deep") from None
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValueError(f"the JSON nests more than {MAX_JSON_DEPTH} levels deep")
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        pending.extend((child, depth + 1) for child in children)
    return from_json(value)


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def memory_size(v: Any) -> int:
    """The bytes `v` takes in an execution's memory, as the Variables page computes them:
    "Integer, double, boolean: 8 bytes", "String, byte, array: 8 bytes + size of EACH_ELEMENT",
    "Map (dict): 8 bytes + size of EACH_KEY + size of EACH_VALUE", applied recursively.

    A string's elements are its UTF-8 bytes ("a string of 28 bytes" uses 36), a key is a
    string. The page does not list null or a function value: null counts as a scalar and a
    function as the string of its name.
    """
    size = 0
    pending = [v]
    while pending:
        item = pending.pop()
        size += 8
        if isinstance(item, str):
            size += _text_bytes(item)
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                size += 8 + _text_bytes(key)
                pending.append(value)
        elif isinstance(item, bytes):
            size += len(item)
        elif isinstance(item, FunctionRef):
            size += _text_bytes(item.name)
    return size


def _text_bytes(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
