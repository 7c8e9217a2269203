"""Expression helpers without a namespace: default, keys, len, int, double, string, get_type, if.

Per "Expression helpers" (reference/stdlib/expression-helpers).
"""

from __future__ import annotations

import math
import re
from typing import Any

from approvals.engine.runtime.effects import Host
from approvals.engine.runtime.errors import VALUE_ERROR, WorkflowError
from approvals.engine.runtime.stdlib.base import Param, pure, type_error, want
from approvals.engine.runtime.values import INT64_MAX, check_int, is_number, stringify, type_name

_INTEGER = re.compile(r"\s*[+-]?\d+\s*")


def _default(host: Host, val: Any, defaultVal: Any) -> Any:  # noqa: N803 -- the documented name
    # "If not null, val is returned. If val is null, defaultVal is returned."
    return defaultVal if val is None else val


def _keys(host: Host, map: Any) -> list[str]:
    return list(want("keys", "map", map, dict, "a map"))


def _len(host: Host, value: Any) -> int:
    # "Accepts an attribute of type list, map, or string and returns an integer."
    if isinstance(value, str | list | dict):
        return len(value)
    raise type_error("len", "value", "a list, map or string", value)


def _int(host: Host, value: Any) -> int:
    # "Accepts an attribute of type string or double and returns an integer."
    if isinstance(value, bool):
        raise type_error("int", "value", "a string or a number", value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise WorkflowError.tagged(VALUE_ERROR, f"int: cannot convert {value} to an integer")
        return check_int(int(value))  # truncates toward zero
    if isinstance(value, str):
        if not _INTEGER.fullmatch(value):
            raise WorkflowError.tagged(VALUE_ERROR, f"int: {value!r} is not an integer")
        text = value.strip()
        sign = "-" if text.startswith("-") else ""
        digits = text.lstrip("+-").lstrip("0") or "0"
        # Read without leading zeros, as Python refuses text of more than 4,300 digits; a
        # number of more digits than 2**63 has is past 64 bits whatever they are.
        if len(digits) > len(str(INT64_MAX)):
            raise WorkflowError.tagged(VALUE_ERROR, f"int: {text[:24]}... is outside the 64-bit signed range")
        return check_int(int(sign + digits))
    raise type_error("int", "value", "a string or a number", value)


def _double(host: Host, value: Any) -> float:
    # "Accepts an attribute of type string or integer and returns a double."
    if is_number(value):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise WorkflowError.tagged(VALUE_ERROR, f"double: {value!r} is not a number") from None
    raise type_error("double", "value", "a string or a number", value)


def _string(host: Host, value: Any) -> str:
    return stringify(value)


def _get_type(host: Host, value: Any) -> str:
    return type_name(value)


def _if(host: Host, condition: Any, ifTrue: Any, ifFalse: Any) -> Any:  # noqa: N803 -- documented names
    # "If condition evaluates to true, ifTrue is returned. If condition evaluates to false or
    # null, ifFalse is returned."
    if condition is None:
        return ifFalse
    return ifTrue if want("if", "condition", condition, bool, "a boolean") else ifFalse


FUNCTIONS = (
    pure("default", _default, Param("val"), Param("defaultVal")),
    pure("keys", _keys, Param("map")),
    pure("len", _len, Param("value")),
    pure("int", _int, Param("value")),
    pure("double", _double, Param("value")),
    pure("string", _string, Param("value")),
    pure("get_type", _get_type, Param("value")),
    pure("if", _if, Param("condition"), Param("ifTrue"), Param("ifFalse")),
)
