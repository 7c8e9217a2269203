"""Verification of the ID token sent as ``Authorization: Bearer``.

People send a Firebase ID token; pipelines and services send a Google-signed
OIDC ID token of a service account, minted for start's URL. Each kind is
verified against its own issuer's keys.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

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
# "The value of iss in the ID token is equal to accounts.google.com or https://accounts.google.com"
# (https://developers.google.com/identity/gsi/web/guides/verify-google-id-token).
GOOGLE_ISSUERS = frozenset({"https://accounts.google.com", "accounts.google.com"})
# Google's ID tokens last an hour: a longer-lived one was not minted by Google.
GOOGLE_TOKEN_LIFETIME_SECONDS = 3600
SERVICE_ACCOUNT_SUFFIX = ".gserviceaccount.com"


@dataclass(frozen=True)
class Caller:
    """An authenticated person or service account. Groups are not in the token: see common.memberships."""

    uid: str
    email: str
    source: Literal["firebase", "google"] = "firebase"


class _Certificates:
    """The signing certificates, cached for as long as Cache-Control allows."""

    def __init__(self, url: Callable[[], str]) -> None:
        self._configured_url = url
        self._lock = threading.Lock()
        self._url = ""
        self._certs: dict[str, str] = {}
        self._expires_at = 0.0
        self._fetched_at = 0.0

    def get(self, kid: str) -> Mapping[str, str]:
        url = self._configured_url()
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


_certificates = _Certificates(config.firebase_certs_url)
_google_certificates = _Certificates(config.google_oidc_certs_url)


def _segment(token: str, index: int) -> dict[str, Any]:
    """One JSON segment of a JWT (0: the header, 1: the claims), NOT verified."""
    parts = token.split(".")
    try:
        segment = parts[index]
        decoded = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (IndexError, ValueError) as exc:
        raise HttpError(401, "malformed token") from exc
    if not isinstance(decoded, dict):
        raise HttpError(401, "malformed token")
    return decoded


def _header(token: str) -> dict[str, Any]:
    return _segment(token, 0)


def _payload(token: str) -> dict[str, Any]:
    """The token's claims, NOT verified: only to pick the verifier, which checks them all again."""
    return _segment(token, 1)


def _decode(token: str, certificates: _Certificates, audience: str | list[str]) -> dict[str, Any]:
    """The claims of ``token`` signed (RS256) by one of ``certificates`` for ``audience``, within its
    lifetime; else a 401."""
    if token.count(".") != 2:
        raise HttpError(401, "malformed token")
    header = _header(token)
    # Google signs with RS256 only; refusing anything else closes the door
    # on algorithm-confusion tricks (and on alg: none).
    if header.get("alg") != "RS256" or not isinstance(header.get("kid"), str):
        raise HttpError(401, "unsupported token algorithm")
    certs = certificates.get(header["kid"])
    if header["kid"] not in certs:
        raise HttpError(401, "unknown token signing key")
    try:
        return jwt.decode(token, certs=certs, audience=audience, clock_skew_in_seconds=CLOCK_SKEW_SECONDS)
    except (auth_exceptions.GoogleAuthError, ValueError) as exc:
        raise HttpError(401, f"invalid token: {exc}") from exc


def verify_id_token(token: str) -> dict[str, Any]:
    """The claims of a valid Firebase ID token, or a 401."""
    project = config.firebase_project_id()
    if not project:
        raise HttpError(500, "FIREBASE_PROJECT_ID is not configured")
    claims = _decode(token, _certificates, project)
    if claims.get("iss") != f"https://securetoken.google.com/{project}":
        raise HttpError(401, "invalid token issuer")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise HttpError(401, "token has no subject")
    return claims


def verify_google_id_token(token: str, audiences: frozenset[str]) -> dict[str, Any]:
    """The claims of a valid Google-signed ID token of a service account for one of ``audiences``,
    or a 401: the checks of https://developers.google.com/identity/gsi/web/guides/verify-google-id-token
    (key, issuer, audience, expiry), and a verified service-account e-mail, which google-auth leaves
    to the caller."""
    if not audiences:
        raise HttpError(401, "service account tokens are not accepted here")
    # google-auth matches an audience list by membership; the aud claim must be one string.
    claims = _decode(token, _google_certificates, sorted(audiences))
    if claims.get("iss") not in GOOGLE_ISSUERS:
        raise HttpError(401, "invalid token issuer")
    if not isinstance(claims.get("aud"), str):
        raise HttpError(401, "token audience must be one start URL")
    if claims["exp"] - claims["iat"] > GOOGLE_TOKEN_LIFETIME_SECONDS:
        raise HttpError(401, "token lives longer than Google's ID tokens")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise HttpError(401, "token has no subject")
    email = claims.get("email")
    if not isinstance(email, str) or not email:
        # A token minted without include_email (GitHub's id_token_include_email: false) has none.
        raise HttpError(401, "token has no e-mail: mint it with the e-mail included")
    if claims.get("email_verified") is not True:
        raise HttpError(401, "e-mail address is not verified")
    if not is_service_account(email):
        raise HttpError(401, "a Google ID token is accepted from service accounts only; people sign in")
    return claims


def is_service_account(email: str) -> bool:
    """Whether ``email`` is a Google service account's address (``...gserviceaccount.com``)."""
    return email.lower().endswith(SERVICE_ACCOUNT_SUFFIX)


def _verified_claims(token: str) -> tuple[dict[str, Any], Literal["firebase", "google"]]:
    """The token's claims verified by its issuer's rules: routed on the unverified ``iss``, which
    each verifier then checks with the rest."""
    if token.count(".") != 2:
        raise HttpError(401, "malformed token")
    issuer = _payload(token).get("iss")
    if issuer in GOOGLE_ISSUERS:
        return verify_google_id_token(token, config.start_audiences()), "google"
    if isinstance(issuer, str) and issuer.startswith("https://securetoken.google.com/"):
        return verify_id_token(token), "firebase"
    raise HttpError(401, "invalid token issuer")


def authenticate(request: flask.Request, *, service_accounts: bool = False) -> Caller:
    """The caller behind the request's bearer token, or a 401.

    ``service_accounts``: also accept a service account's Google ID token for start (start, and
    status, where the pipeline that asked waits with the same token).
    """
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HttpError(401, "missing bearer token")
    token = token.strip()
    claims, source = _verified_claims(token) if service_accounts else (verify_id_token(token), "firebase")
    email = claims.get("email")
    if not isinstance(email, str) or not email:
        raise HttpError(401, "token has no e-mail")
    if claims.get("email_verified") is not True:
        raise HttpError(401, "e-mail address is not verified")
    return Caller(uid=claims["sub"], email=email.lower(), source=source)
