"""math: abs, floor, max, min on integers and doubles."""

from __future__ import annotations

import math
from typing import Any

from approvals.engine.runtime.effects import Host
from approvals.engine.runtime.stdlib.base import Param, pure, want_number
from approvals.engine.runtime.values import check_int


def _abs(host: Host, x: Any) -> int | float:
    value = want_number("math.abs", "x", x)
    return check_int(abs(value)) if isinstance(value, int) else abs(value)


def _floor(host: Host, x: Any) -> int:
    # The largest integer not greater than x, as an integer.
    value = want_number("math.floor", "x", x)
    return check_int(math.floor(value))


def _max(host: Host, x: Any, y: Any) -> int | float:
    return _typed(max(want_number("math.max", "x", x), want_number("math.max", "y", y)), x, y)


def _min(host: Host, x: Any, y: Any) -> int | float:
    return _typed(min(want_number("math.min", "x", x), want_number("math.min", "y", y)), x, y)


def _typed(result: int | float, x: Any, y: Any) -> int | float:
    # math.max, math.min: "If both numbers are integers, returns an integer; otherwise, a
    # floating-point number."
    return result if isinstance(x, int) and isinstance(y, int) else float(result)


FUNCTIONS = (
    pure("math.abs", _abs, Param("x")),
    pure("math.floor", _floor, Param("x")),
    pure("math.max", _max, Param("x"), Param("y")),
    pure("math.min", _min, Param("x"), Param("y")),
)
