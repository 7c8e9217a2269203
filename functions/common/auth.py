"""Verification of the Firebase ID token sent as ``Authorization: Bearer``."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import flask
from google.auth import exceptions as auth_exceptions
from google.auth import jwt

from common import config
from common.responses import HttpError

CLOCK_SKEW_SECONDS = 30
# Google rotates keys every few hours and publishes the new one in advance, so
# an unknown kid means a rotation we missed (refetch) or a forged token.
_MIN_REFETCH_INTERVAL_SECONDS = 30.0
_MAX_AGE = re.compile(r"max-age=(\d+)")


@dataclass(frozen=True)
class Caller:
    """An authenticated person. Their approver groups are not in the token: see common.memberships."""

    uid: str
    email: str


class _Certificates:
    """The signing certificates, cached for as long as Cache-Control allows."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._url = ""
        self._certs: dict[str, str] = {}
        self._expires_at = 0.0
        self._fetched_at = 0.0

    def get(self, kid: str) -> Mapping[str, str]:
        url = config.firebase_certs_url()
        with self._lock:
            now = time.monotonic()
            stale = url != self._url or now >= self._expires_at
            unknown_kid = kid not in self._certs and (now - self._fetched_at >= _MIN_REFETCH_INTERVAL_SECONDS)
            if stale or unknown_kid:
                self._fetch(url, now)
            return dict(self._certs)

    def _fetch(self, url: str, now: float) -> None:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                certs = json.load(response)
                cache_control = response.headers.get("Cache-Control", "")
        except (OSError, ValueError) as exc:
            raise HttpError(503, "cannot fetch token signing keys") from exc
        if not isinstance(certs, dict):
            raise HttpError(503, "token signing keys are malformed")
        max_age = _MAX_AGE.search(cache_control)
        self._url = url
        self._certs = {str(k): str(v) for k, v in certs.items()}
        self._fetched_at = now
        self._expires_at = now + (int(max_age.group(1)) if max_age else 0)


_certificates = _Certificates()


def _header(token: str) -> dict[str, Any]:
    segment = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except ValueError as exc:
        raise HttpError(401, "malformed token") from exc
    if not isinstance(header, dict):
        raise HttpError(401, "malformed token")
    return header


def verify_id_token(token: str) -> dict[str, Any]:
    """The claims of a valid Firebase ID token, or a 401."""
    if token.count(".") != 2:
        raise HttpError(401, "malformed token")
    header = _header(token)
    # Firebase signs with RS256 only; refusing anything else closes the door
    # on algorithm-confusion tricks.
    if header.get("alg") != "RS256" or not isinstance(header.get("kid"), str):
        raise HttpError(401, "unsupported token algorithm")
    project = config.firebase_project_id()
    if not project:
        raise HttpError(500, "FIREBASE_PROJECT_ID is not configured")
    certs = _certificates.get(header["kid"])
    if header["kid"] not in certs:
        raise HttpError(401, "unknown token signing key")
    try:
        claims = jwt.decode(
            token,
            certs=certs,
            audience=project,
            clock_skew_in_seconds=CLOCK_SKEW_SECONDS,
        )
    except (auth_exceptions.GoogleAuthError, ValueError) as exc:
        raise HttpError(401, f"invalid token: {exc}") from exc
    if claims.get("iss") != f"https://securetoken.google.com/{project}":
        raise HttpError(401, "invalid token issuer")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise HttpError(401, "token has no subject")
    return claims


def authenticate(request: flask.Request) -> Caller:
    """The caller behind the request's bearer token, or a 401."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HttpError(401, "missing bearer token")
    claims = verify_id_token(token.strip())
    email = claims.get("email")
    if not isinstance(email, str) or not email:
        raise HttpError(401, "token has no e-mail")
    if claims.get("email_verified") is not True:
        raise HttpError(401, "e-mail address is not verified")
    return Caller(uid=claims["sub"], email=email.lower())
