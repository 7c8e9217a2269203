"""Signed decision links: an e-mailed approver decides without signing in.

A token names one request, one approver, the payload digest it was issued for,
an expiry and a nonce (the link's single use is recorded under it). It is
HMAC-SHA256 signed with ``APPROVALS_LINK_KEY``, so only the functions can issue one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Relative, so the unit tests can import functions.common.links as well.
from . import config

MIN_KEY_BYTES = 32
# Far above a real token (~300 characters); bounds the work a forged one causes.
MAX_TOKEN_LENGTH = 2048


class LinkError(Exception):
    """The token cannot be used."""


class InvalidLinkError(LinkError):
    """Malformed, or not signed with our key: treat as forged."""


class ExpiredLinkError(LinkError):
    """Genuine, but past its expiry."""


class LinkSettingsError(RuntimeError):
    """APPROVALS_LINK_KEY or APPROVALS_SITE_URL is missing or unusable."""


@dataclass(frozen=True)
class Link:
    """What a verified token grants."""

    request_id: str
    approver: str
    digest: str
    expires_at: int
    nonce: str


def digest(subject: Any, payload: Any) -> str:
    """The SHA-256 of what the approver is shown, independent of key order."""
    text = json.dumps(
        {"subject": subject, "payload": payload}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _key() -> bytes:
    key = config.link_key().encode()
    if len(key) < MIN_KEY_BYTES:
        raise LinkSettingsError(f"APPROVALS_LINK_KEY must be at least {MIN_KEY_BYTES} bytes")
    return key


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, body: str) -> str:
    return _encode(hmac.new(key, body.encode(), hashlib.sha256).digest())


def sign(request_id: str, approver: str, payload_digest: str, expires_at: datetime) -> str:
    """A token for ``approver`` to decide ``request_id`` once, until ``expires_at``."""
    claims = {
        "r": request_id,
        "a": approver.lower(),
        "d": payload_digest,
        "e": int(expires_at.timestamp()),
        "n": secrets.token_urlsafe(16),
    }
    body = _encode(json.dumps(claims, separators=(",", ":")).encode())
    return f"{body}.{_mac(_key(), body)}"


def verify(token: str, now: datetime) -> Link:
    """The link ``token`` grants; InvalidLinkError when forged, ExpiredLinkError when too late."""
    key = _key()
    body, dot, signature = token.partition(".")
    if len(token) > MAX_TOKEN_LENGTH or not dot or not body.isascii() or not signature.isascii():
        raise InvalidLinkError("the link is malformed")
    # Constant time, so the signature cannot be guessed byte by byte.
    if not hmac.compare_digest(_mac(key, body), signature):
        raise InvalidLinkError("the link's signature is not valid")
    try:
        claims = json.loads(_decode(body))
    except ValueError as exc:  # binascii.Error and UnicodeDecodeError too
        raise InvalidLinkError("the link is malformed") from exc
    fields = {"r": str, "a": str, "d": str, "e": int, "n": str}
    if not isinstance(claims, dict) or any(type(claims.get(k)) is not t for k, t in fields.items()):
        raise InvalidLinkError("the link is malformed")
    if claims["e"] <= now.timestamp():
        raise ExpiredLinkError("the link has expired")
    return Link(claims["r"], claims["a"], claims["d"], claims["e"], claims["n"])


def link_url(token: str) -> str:
    """The confirmation page a token opens (APPROVALS_SITE_URL + /link)."""
    site = config.site_url()
    if not site:
        raise LinkSettingsError("APPROVALS_SITE_URL is not set: links would lead nowhere")
    return f"{site}/link?token={token}"
