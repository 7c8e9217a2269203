"""The input validator of the start function, directly."""

from __future__ import annotations

from typing import Any

import pytest

from functions.common import schema

SCHEMA = {
    "type": "object",
    "required": ["n"],
    "properties": {
        "n": {"type": "integer", "minimum": 0},
        "x": {"type": "number", "maximum": 1.5},
        "flag": {"type": "boolean"},
        "url": {"type": "string", "format": "uri"},
    },
}


@pytest.mark.parametrize(
    ("instance", "problems"),
    [
        ({"n": 1}, []),
        ({"n": 2.0}, []),
        ({"n": 1.5}, ["n: must be of type integer"]),
        ({"n": True}, ["n: must be of type integer"]),
        ({"n": -1}, ["n: must be at least 0"]),
        ({"n": 0, "x": True}, ["x: must be of type number"]),
        ({"n": 0, "x": 2}, ["x: must be at most 1.5"]),
        ({"n": 0, "flag": 0}, ["flag: must be of type boolean"]),
        ({"n": 0, "other": 1}, []),
        ({}, ["n: is required"]),
        ([], ["input: must be an object"]),
    ],
)
def test_validate(instance: Any, problems: list[str]) -> None:
    assert schema.validate(instance, SCHEMA) == problems


@pytest.mark.parametrize(
    ("url", "valid"),
    [
        ("https://example.com/a?b=c", True),
        ("gs://bucket/object", True),
        ("mailto:someone@example.com", True),
        ("example.com/path", False),
        ("https://exa mple.com", False),
        ("https:", False),
        ("", False),
    ],
)
def test_uri_format(url: str, valid: bool) -> None:
    assert (schema.validate({"n": 0, "url": url}, SCHEMA) == []) is valid


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "array"},
        {"type": "object", "oneOf": []},
        {"type": "object", "properties": {"a": {"type": "array"}}},
        {"type": "object", "properties": {"a": {"type": "string", "pattern": "x"}}},
        {"type": "object", "properties": {"a": {"type": "string", "format": "email"}}},
        {"type": "object", "required": "a"},
        {"type": "object", "additionalProperties": {"type": "string"}},
    ],
)
def test_unsupported_schema_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(schema.SchemaError):
        schema.validate({}, bad)
