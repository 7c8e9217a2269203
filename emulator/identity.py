"""A local identity provider that mints Firebase-style ID tokens.

It serves its signing certificate in the format of Google's securetoken
endpoint (a JSON map of key id to x509 PEM), so the functions verify its
tokens with exactly the code they use in production.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Mapping
from typing import Any, TypedDict, Unpack

from cryptography.hazmat.primitives.asymmetric import rsa

from approvals.emulator.jwt import self_signed_certificate, sign_rs256
from approvals.engine.api.local_server import LocalServer, QuietHandler

# Enough to refuse what cannot be an address; deliverability is not the point locally.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class TokenOptions(TypedDict, total=False):
    """The options of :meth:`IdentityProvider.claims`, written once so that ``mint`` can pass them on."""

    email_verified: bool
    expires_in: int
    uid: str | None


class _Handler(QuietHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        owner: IdentityProvider = self.server.owner  # type: ignore[attr-defined]
        body = json.dumps({owner.kid: owner.certificate_pem}).encode()
        self.reply(200, body, headers={"Cache-Control": "public, max-age=3600"})


class IdentityProvider(LocalServer):
    """Signs ID tokens for ``project_id`` and serves the matching certificate.

    Point ``FIREBASE_AUTH_CERTS_URL`` at :attr:`certs_url`. Tests that need a
    bad token change the claims given to :meth:`sign`, or sign with another
    provider's key.
    """

    handler_class = _Handler

    def __init__(self, project_id: str, kid: str | None = None) -> None:
        super().__init__()
        self.project_id = project_id
        self.kid = kid or secrets.token_hex(20)
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.certificate_pem = self_signed_certificate(self._key, "local-identity-provider")

    @property
    def certs_url(self) -> str:
        """Where the kid -> PEM map is served."""
        return f"{self.url}/certs"

    @property
    def issuer(self) -> str:
        """The ``iss`` claim Firebase uses for this project."""
        return f"https://securetoken.google.com/{self.project_id}"

    def claims(
        self,
        email: str,
        *,
        email_verified: bool = True,
        expires_in: int = 3600,
        uid: str | None = None,
    ) -> dict[str, Any]:
        """The claims of a Firebase ID token for ``email``: like Google sign-in's, with no groups."""
        now = int(time.time())
        return {
            "iss": self.issuer,
            "aud": self.project_id,
            "auth_time": now,
            "user_id": uid or email,
            "sub": uid or email,
            "iat": now,
            "exp": now + expires_in,
            "email": email,
            "email_verified": email_verified,
            "firebase": {"identities": {"email": [email]}, "sign_in_provider": "password"},
        }

    def sign(self, claims: Mapping[str, Any], headers: Mapping[str, Any] | None = None) -> str:
        """Sign ``claims`` as an RS256 JWT with this provider's key."""
        return sign_rs256(self._key, self.kid, claims, headers)

    def mint(self, email: str, **options: Unpack[TokenOptions]) -> str:
        """A valid ID token for ``email`` and ``options`` (negative ``expires_in`` -> expired)."""
        return self.sign(self.claims(email, **options))

    def sign_in(self, email: str, expires_in: int = 3600) -> dict[str, Any]:
        """Sign ``email`` in as a verified user: the body Firebase Auth's sign-in answers.

        ``{"idToken", "email", "localId", "expiresIn"}`` (``expiresIn`` is text, as
        Firebase sends it). ValueError for an address that is not one.
        """
        if not isinstance(email, str) or not _EMAIL.fullmatch(email):
            raise ValueError(f"not an e-mail address: {email!r}")
        token = self.mint(email, expires_in=expires_in)
        return {"idToken": token, "email": email, "localId": email, "expiresIn": str(expires_in)}
