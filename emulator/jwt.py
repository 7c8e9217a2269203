"""The JWT encoding the local token issuers share (RFC 7515 compact serialization)."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def b64url(data: bytes) -> str:
    """Base64url without padding, as JWT segments are written."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str) -> bytes:
    """The bytes of a base64url segment written without padding (ValueError if it is not one)."""
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def signing_input(header: Mapping[str, Any], claims: Mapping[str, Any]) -> str:
    """`header.claims`: what a signature covers (and, with an empty signature, an unsigned JWT)."""
    return ".".join(
        b64url(json.dumps(dict(part), separators=(",", ":")).encode()) for part in (header, claims)
    )


def sign_rs256(
    key: rsa.RSAPrivateKey, kid: str, claims: Mapping[str, Any], headers: Mapping[str, Any] | None = None
) -> str:
    """``claims`` as an RS256 JWT signed by ``key`` under ``kid`` (``headers`` may override the header)."""
    header = {"alg": "RS256", "kid": kid, "typ": "JWT", **(headers or {})}
    signed = signing_input(header, claims)
    signature = key.sign(signed.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return f"{signed}.{b64url(signature)}"
