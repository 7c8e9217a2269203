"""map: safe lookup, delete and merge. Results are new maps; inputs are left as they were."""

from __future__ import annotations

from typing import Any

from approvals.engine.runtime.effects import Host
from approvals.engine.runtime.stdlib.base import Param, pure, type_error, want
from approvals.engine.runtime.values import copy_value


def _get(host: Host, map: Any, keys: Any) -> Any:
    # "If the input is not a map or if the map does not contain the key, returns null";
    # a list of keys drills down. "TypeError If the key is not a string or a list of strings."
    path = keys if isinstance(keys, list) else [keys]
    if not path or not all(isinstance(k, str) for k in path):
        raise type_error("map.get", "keys", "a string or a list of strings", keys)
    value = map
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _delete(host: Host, map: Any, key: Any) -> dict[str, Any]:
    result = copy_value(want("map.delete", "map", map, dict, "a map"))
    result.pop(want("map.delete", "key", key, str, "a string"), None)
    return result


def _merge(host: Host, first: Any, second: Any) -> dict[str, Any]:
    # Keys of `second` win.
    a = want("map.merge", "first", first, dict, "a map")
    b = want("map.merge", "second", second, dict, "a map")
    return copy_value({**a, **b})


def merge_nested(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    result = copy_value(a)
    for key, value in b.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge_nested(result[key], value)
        else:
            result[key] = copy_value(value)
    return result


def _merge_nested(host: Host, first: Any, second: Any) -> dict[str, Any]:
    a = want("map.merge_nested", "first", first, dict, "a map")
    b = want("map.merge_nested", "second", second, dict, "a map")
    return merge_nested(a, b)


FUNCTIONS = (
    pure("map.get", _get, Param("map"), Param("keys")),
    pure("map.delete", _delete, Param("map"), Param("key")),
    pure("map.merge", _merge, Param("first"), Param("second")),
    pure("map.merge_nested", _merge_nested, Param("first"), Param("second")),
)
