"""json: decode, encode (to bytes) and encode_to_string.

Indentation follows json.encode: `indent` is a boolean or a map with optional
`prefix` (default "") and `indent` (default four spaces); "each JSON element
begins on a new line beginning with prefix and followed by zero or more copies
of indent according to the structural nesting".
"""

from __future__ import annotations

import json
from typing import Any

from approvals.engine.runtime.effects import Host
from approvals.engine.runtime.errors import VALUE_ERROR, WorkflowError
from approvals.engine.runtime.stdlib.base import Param, pure, type_error, want
from approvals.engine.runtime.stdlib.text import decode_text
from approvals.engine.runtime.values import from_json, to_json


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _decode(host: Host, data: Any) -> Any:
    # "If the input is bytes, it is first converted to a string, as if by calling
    # text.decode(data, 'UTF-8')": a byte that is not UTF-8 becomes U+FFFD, not an error.
    if isinstance(data, bytes):
        text = decode_text(data)
    else:
        text = want("json.decode", "data", data, str, "bytes or a string")
    try:
        return from_json(json.loads(text, parse_constant=_reject_constant))
    except ValueError as e:
        raise WorkflowError.tagged(VALUE_ERROR, f"json.decode: {e}") from None


def encode_text(function: str, data: Any, indent: Any) -> str:
    """`data` as JSON text: compact, or indented as json.encode's `indent` asks."""
    value = to_json(data)
    if indent is None or indent is False:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if indent is True:
        indent = {}
    options = want(function, "indent", indent, dict, "a boolean or a map")
    prefix = options.get("prefix", "")
    step = options.get("indent", "    ")
    if not isinstance(prefix, str) or not isinstance(step, str):
        raise type_error(function, "indent", "a map of strings", indent)
    return json.dumps(value, ensure_ascii=False, indent=step).replace("\n", "\n" + prefix)


def _encode(host: Host, data: Any, indent: Any) -> bytes:
    return encode_text("json.encode", data, indent).encode("utf-8")


def _encode_to_string(host: Host, data: Any, indent: Any) -> str:
    return encode_text("json.encode_to_string", data, indent)


FUNCTIONS = (
    pure("json.decode", _decode, Param("data")),
    pure("json.encode", _encode, Param("data"), Param("indent", None)),
    pure("json.encode_to_string", _encode_to_string, Param("data"), Param("indent", None)),
)
