"""A small JSON-Schema subset for workflow inputs, with every problem reported.

Supported: a top-level ``type: object`` with ``required``, ``properties`` of
type string/number/integer/boolean (``minLength``, ``maxLength``,
``minimum``, ``maximum``, ``enum``, ``format: uri``) and
``additionalProperties: false``. Anything else is a schema error, so a
keyword we do not enforce can never be mistaken for one we do.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

_ANNOTATIONS = {"title", "description", "default", "examples", "$schema", "$id", "$comment"}
_OBJECT_KEYWORDS = _ANNOTATIONS | {"type", "required", "properties", "additionalProperties"}
_PROPERTY_KEYWORDS = _ANNOTATIONS | {
    "type",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "enum",
    "format",
}
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*\Z")


class SchemaError(ValueError):
    """The schema itself uses something this validator does not support."""


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "number": _is_number,
    "integer": _is_integer,
    "boolean": lambda v: isinstance(v, bool),
}


def _is_uri(value: str) -> bool:
    """An absolute URI: a scheme, then something after the colon."""
    scheme, _, rest = value.partition(":")
    if not _SCHEME.match(scheme) or not rest or any(c.isspace() for c in value):
        return False
    parts = urllib.parse.urlsplit(value)
    return bool(parts.netloc or parts.path)


def _check_schema(schema: Mapping[str, Any]) -> None:
    unknown = set(schema) - _OBJECT_KEYWORDS
    if unknown:
        raise SchemaError(f"unsupported keywords: {sorted(unknown)}")
    if schema.get("type") != "object":
        raise SchemaError("the input schema must have type object")
    if not isinstance(schema.get("properties", {}), dict):
        raise SchemaError("properties must be an object")
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise SchemaError("required must be a list of names")
    if schema.get("additionalProperties", True) not in (True, False):
        raise SchemaError("additionalProperties must be true or false")
    for name, prop in schema.get("properties", {}).items():
        if not isinstance(prop, dict):
            raise SchemaError(f"property {name} must be an object")
        unknown = set(prop) - _PROPERTY_KEYWORDS
        if unknown:
            raise SchemaError(f"property {name}: unsupported keywords {sorted(unknown)}")
        if prop.get("type") not in _TYPES:
            raise SchemaError(f"property {name}: type must be one of {sorted(_TYPES)}")
        if "format" in prop and prop["format"] != "uri":
            raise SchemaError(f"property {name}: only format uri is supported")
        if "enum" in prop and not isinstance(prop["enum"], list):
            raise SchemaError(f"property {name}: enum must be a list")


def _property_problems(name: str, value: Any, prop: Mapping[str, Any]) -> list[str]:
    kind = prop["type"]
    if not _TYPES[kind](value):
        return [f"{name}: must be of type {kind}"]
    problems = []
    if "enum" in prop and value not in prop["enum"]:
        problems.append(f"{name}: must be one of {prop['enum']}")
    if kind == "string":
        if "minLength" in prop and len(value) < prop["minLength"]:
            problems.append(f"{name}: must be at least {prop['minLength']} characters")
        if "maxLength" in prop and len(value) > prop["maxLength"]:
            problems.append(f"{name}: must be at most {prop['maxLength']} characters")
        if prop.get("format") == "uri" and not _is_uri(value):
            problems.append(f"{name}: must be an absolute URI")
    elif kind in ("number", "integer"):
        if "minimum" in prop and value < prop["minimum"]:
            problems.append(f"{name}: must be at least {prop['minimum']}")
        if "maximum" in prop and value > prop["maximum"]:
            problems.append(f"{name}: must be at most {prop['maximum']}")
    return problems


def validate(instance: Any, schema: Mapping[str, Any]) -> list[str]:
    """Every way ``instance`` breaks ``schema`` (empty when it is valid).

    Raises SchemaError when ``schema`` is outside the supported subset.
    """
    _check_schema(schema)
    if not isinstance(instance, dict):
        return ["input: must be an object"]
    properties: Mapping[str, Mapping[str, Any]] = schema.get("properties", {})
    problems = [f"{name}: is required" for name in schema.get("required", []) if name not in instance]
    for name, value in instance.items():
        if name in properties:
            problems.extend(_property_problems(name, value, properties[name]))
        elif schema.get("additionalProperties", True) is False:
            problems.append(f"{name}: is not allowed")
    return problems
