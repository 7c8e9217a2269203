"""Google-signed ID tokens, locally: one signer for the stack, and the checks a receiver makes.

In the cloud, the ID tokens of service accounts (from the metadata server, or
minted by Pub/Sub for a push subscription's ``oidcToken`` account) are RS256
JWTs signed with Google's keys, and Cloud Run's front end verifies them before
a private service sees the request. Locally the stack holds one RSA key that
plays Google's: the metadata servers and the pusher sign with it, the local
front ends verify with it, and no other key, no ``alg: none``, no expired token
and no token for another audience gets through. A :class:`GoogleCertsServer`
publishes its certificate as Google publishes its own, for the start function,
which verifies service accounts' tokens itself.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import math
import secrets
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from approvals.emulator.jwt import b64url_decode, self_signed_certificate, sign_rs256
from approvals.engine.api.local_server import LocalServer, QuietHandler

# "The value of iss in the ID token is equal to https://accounts.google.com or
# accounts.google.com" (OpenID Connect, Validating an ID token:
# https://developers.google.com/identity/openid-connect/openid-connect#validatinganidtoken).
ISSUER = "https://accounts.google.com"
ACCEPTED_ISSUERS = frozenset({ISSUER, "accounts.google.com"})
# Google's ID tokens last an hour (the Pub/Sub push token of "JWT format" has exp = iat + 3600:
# https://cloud.google.com/pubsub/docs/authenticate-push-subscriptions).
LIFETIME_SECONDS = 3600
# Clocks on one machine agree; a little leeway, as verifying libraries allow, and no more.
CLOCK_SKEW_SECONDS = 10


class InvalidTokenError(Exception):
    """The token is not a valid Google-signed ID token for the audience: a 401 at a front end."""


def account_id(email: str) -> str:
    """A stable numeric id for ``email``, standing in for the account's unique id (``sub``, ``azp``)."""
    digest = hashlib.sha256(email.lower().encode()).digest()
    return str(10**20 + int.from_bytes(digest[:8], "big") % (9 * 10**20))


class GoogleTokenSigner:
    """The stack's stand-in for Google's token signing key.

    :meth:`id_token` mints what the metadata server and Pub/Sub mint for a
    service account; :meth:`verifier` checks tokens the way a Google front end
    does, against this key only.
    """

    def __init__(self, kid: str | None = None) -> None:
        self.kid = kid or secrets.token_hex(20)
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.certificate_pem = self_signed_certificate(self._key, "local-google-token-signer")

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        """What verifies this signer's tokens."""
        return self._key.public_key()

    def claims(self, email: str, audience: str, *, expires_in: int = LIFETIME_SECONDS) -> dict[str, Any]:
        """The claims of a service account's ID token, as in the Pub/Sub push token's example."""
        now = int(time.time())
        subject = account_id(email)
        return {
            "aud": audience,
            "azp": subject,
            "email": email,
            "email_verified": True,
            "exp": now + expires_in,
            "iat": now,
            "iss": ISSUER,
            "sub": subject,
        }

    def sign(self, claims: Mapping[str, Any], headers: Mapping[str, Any] | None = None) -> str:
        """``claims`` as an RS256 JWT under this key's ``kid`` (``headers`` may override it)."""
        return sign_rs256(self._key, self.kid, claims, headers)

    def id_token(self, email: str, audience: str, *, expires_in: int = LIFETIME_SECONDS) -> str:
        """A valid ID token of ``email`` for ``audience`` (negative ``expires_in``: an expired one)."""
        return self.sign(self.claims(email, audience, expires_in=expires_in))

    def verifier(self) -> IdTokenVerifier:
        """A verifier that trusts this signer's key and nothing else."""
        return IdTokenVerifier({self.kid: self.public_key})


class _CertsHandler(QuietHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        signer: GoogleTokenSigner = self.server.owner.signer  # type: ignore[attr-defined]
        body = json.dumps({signer.kid: signer.certificate_pem}).encode()
        self.reply(200, body, headers={"Cache-Control": "public, max-age=3600"})


class GoogleCertsServer(LocalServer):
    """Serves ``signer``'s certificate as https://www.googleapis.com/oauth2/v1/certs serves Google's:
    a kid -> x509 PEM map. Point ``GOOGLE_OIDC_CERTS_URL`` at :attr:`certs_url`."""

    handler_class = _CertsHandler

    def __init__(self, signer: GoogleTokenSigner) -> None:
        super().__init__()
        self.signer = signer

    @property
    def certs_url(self) -> str:
        """Where the kid -> PEM map is served."""
        return f"{self.url}/oauth2/v1/certs"


def _segment(part: str) -> Any:
    """One base64url JSON segment of a JWT, or InvalidTokenError."""
    try:
        return json.loads(b64url_decode(part))
    except (ValueError, binascii.Error) as error:
        raise InvalidTokenError("the token is not a JWT") from error


class IdTokenVerifier:
    """Checks ID tokens as Google's front ends do: RS256 under a known key, issuer, expiry, audience."""

    def __init__(self, keys: Mapping[str, rsa.RSAPublicKey], clock: Callable[[], float] = time.time) -> None:
        self.keys = dict(keys)
        self.clock = clock

    def verify(self, token: str, audiences: Collection[str]) -> dict[str, Any]:
        """The claims of ``token`` if it is valid for one of ``audiences``; else InvalidTokenError."""
        parts = token.split(".")
        if len(parts) != 3 or not all(parts):
            raise InvalidTokenError("the token is not a signed JWT")
        header, claims = _segment(parts[0]), _segment(parts[1])
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise InvalidTokenError("the token is not a JWT")
        # RS256 only: an unsigned ("none") or HMAC token is never Google's (RFC 8725, 3.1: use an
        # allowlist of algorithms).
        if header.get("alg") != "RS256":
            raise InvalidTokenError(f"unsupported algorithm {header.get('alg')!r}")
        kid = header.get("kid")
        key = self.keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidTokenError("the token is signed with an unknown key")
        try:
            signature = b64url_decode(parts[2])
            key.verify(
                signature, f"{parts[0]}.{parts[1]}".encode("ascii"), padding.PKCS1v15(), hashes.SHA256()
            )
        except (InvalidSignature, ValueError, binascii.Error) as error:
            raise InvalidTokenError("the token's signature is not valid") from error
        self._check_claims(claims, audiences)
        return claims

    def _check_claims(self, claims: Mapping[str, Any], audiences: Collection[str]) -> None:
        now = self.clock()
        if claims.get("iss") not in ACCEPTED_ISSUERS:
            raise InvalidTokenError(f"the token's issuer {claims.get('iss')!r} is not Google")
        expires, issued = claims.get("exp"), claims.get("iat")
        if not _is_time(expires) or not _is_time(issued):
            raise InvalidTokenError("the token has no exp or iat")
        # Google's ID tokens last an hour: a longer-lived one was not minted by Google.
        if expires - issued > LIFETIME_SECONDS:
            raise InvalidTokenError("the token lives longer than an hour")
        if expires + CLOCK_SKEW_SECONDS < now:
            raise InvalidTokenError("the token has expired")
        if issued - CLOCK_SKEW_SECONDS > now:
            raise InvalidTokenError("the token is issued in the future")
        # One audience, a string: the only form Google's ID tokens take (Pub/Sub: "Having multiple
        # values (array) for the audience field is not supported").
        if not isinstance(claims.get("aud"), str) or claims["aud"] not in audiences:
            raise InvalidTokenError(f"the token is for another audience ({claims.get('aud')!r})")
        if not isinstance(claims.get("email"), str) or not claims["email"]:
            raise InvalidTokenError("the token names no identity (email)")


def _is_time(value: object) -> bool:
    """A finite number of seconds (JSON's NaN and Infinity, which json.loads accepts, are not)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
