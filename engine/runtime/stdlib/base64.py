"""base64: bytes <-> Base64 text, with optional padding."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from approvals.engine.runtime.effects import Host
from approvals.engine.runtime.errors import VALUE_ERROR, WorkflowError
from approvals.engine.runtime.stdlib.base import Param, pure, want


def _encode(host: Host, data: Any, padding: Any) -> str:
    text = base64.b64encode(want("base64.encode", "data", data, bytes, "bytes")).decode("ascii")
    return text if want("base64.encode", "padding", padding, bool, "a boolean") else text.rstrip("=")


def _decode(host: Host, data: Any, padding: Any) -> bytes:
    # "The carriage return (\r) and newline (\n) characters in the input are ignored"
    # (base64.decode), also when the padding is counted.
    text = want("base64.decode", "data", data, str, "a string").replace("\r", "").replace("\n", "")
    if not want("base64.decode", "padding", padding, bool, "a boolean"):
        text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise WorkflowError.tagged(VALUE_ERROR, f"base64.decode: {e}") from None


FUNCTIONS = (
    pure("base64.encode", _encode, Param("data"), Param("padding", True)),
    pure("base64.decode", _decode, Param("data"), Param("padding", True)),
)
