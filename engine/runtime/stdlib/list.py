"""list: concat and prepend return new lists (a `+` does not concatenate lists)."""

from __future__ import annotations

from typing import Any

from approvals.engine.runtime.effects import Host
from approvals.engine.runtime.stdlib.base import Param, pure, want
from approvals.engine.runtime.values import copy_value


def _concat(host: Host, objs: Any, val: Any) -> list[Any]:
    return copy_value([*want("list.concat", "objs", objs, list, "a list"), val])


def _prepend(host: Host, objs: Any, val: Any) -> list[Any]:
    return copy_value([val, *want("list.prepend", "objs", objs, list, "a list")])


FUNCTIONS = (
    pure("list.concat", _concat, Param("objs"), Param("val")),
    pure("list.prepend", _prepend, Param("objs"), Param("val")),
)
