"""The JWT encoding the local token issuers share (RFC 7515 compact serialization)."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any


def b64url(data: bytes) -> str:
    """Base64url without padding, as JWT segments are written."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def signing_input(header: Mapping[str, Any], claims: Mapping[str, Any]) -> str:
    """`header.claims`: what a signature covers (and, with an empty signature, an unsigned JWT)."""
    return ".".join(
        b64url(json.dumps(dict(part), separators=(",", ":")).encode()) for part in (header, claims)
    )
