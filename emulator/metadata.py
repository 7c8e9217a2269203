"""A local stand-in for the GCE metadata server's service-account token endpoints.

It answers google-auth's ping too, so that Application Default Credentials use it: point
``GCE_METADATA_HOST`` and ``GCE_METADATA_IP`` at :attr:`MetadataServer.host` before google-auth
is imported (it reads them then).
"""

from __future__ import annotations

import json
import threading
import urllib.parse

from approvals.emulator.google_tokens import GoogleTokenSigner
from approvals.engine.api.local_server import LocalServer, QuietHandler
from approvals.engine.runtime.tokens import METADATA_ACCOUNT_PATH as ACCOUNT_PATH

TOKEN_PATH = f"{ACCOUNT_PATH}/token"
IDENTITY_PATH = f"{ACCOUNT_PATH}/identity"
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


class _Handler(QuietHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        owner: MetadataServer = self.server.owner  # type: ignore[attr-defined]
        # Like the real server: refuse requests that lack the header, which
        # is what protects the token from being fetched through SSRF.
        if self.headers.get("Metadata-Flavor") != "Google":
            self.reply(403, b"Missing Metadata-Flavor:Google header.", "text/plain")
            return
        path, _, query = self.path.partition("?")
        if path == "/":
            # google-auth's ping: ADC (fetch_id_token, say) uses the server only once its root
            # answers 200 with this header.
            self.reply(200, b"", "text/plain", headers={"Metadata-Flavor": "Google"})
        elif path == f"{ACCOUNT_PATH}/":
            # The account's description, which google-auth's compute_engine credentials read first.
            self._account(owner)
        elif path == TOKEN_PATH:
            self._access_token(owner)
        elif path == IDENTITY_PATH:
            self._identity_token(owner, urllib.parse.parse_qs(query).get("audience", [""])[0])
        else:
            self.reply(404, b"Not Found", "text/plain")

    def _account(self, owner: MetadataServer) -> None:
        body = {"aliases": ["default"], "email": owner.service_account, "scopes": [CLOUD_PLATFORM_SCOPE]}
        self.reply(200, json.dumps(body).encode(), headers={"Metadata-Flavor": "Google"})

    def _access_token(self, owner: MetadataServer) -> None:
        owner._count()
        body = {
            "access_token": owner.access_token,
            "expires_in": owner.expires_in,
            "token_type": "Bearer",
        }
        self.reply(200, json.dumps(body).encode(), headers={"Metadata-Flavor": "Google"})

    def _identity_token(self, owner: MetadataServer, audience: str) -> None:
        # The real endpoint answers 400 without an audience and the bare JWT as text.
        if not audience:
            self.reply(400, b"non-empty audience parameter required", "text/plain")
            return
        token = owner.identity_token(audience)
        self.reply(200, token.encode(), "text/plain", headers={"Metadata-Flavor": "Google"})


class MetadataServer(LocalServer):
    """Answers the default service account's token requests with local tokens.

    The access token is a fixed string. The identity token is a real RS256 ID
    token of :attr:`service_account`, signed by ``signer`` (the local stack's
    stand-in for Google's key, so that its front ends accept it as the
    account's identity, and only for the audience it names); without one, the
    server signs with a key of its own. Point ``GCE_METADATA_HOST`` at :attr:`host`.
    """

    handler_class = _Handler

    def __init__(
        self,
        access_token: str = "local-access-token",
        expires_in: int = 3599,
        service_account: str = "workflows@local.iam.gserviceaccount.com",
        signer: GoogleTokenSigner | None = None,
    ) -> None:
        super().__init__()
        self.access_token = access_token
        self.expires_in = expires_in
        self.service_account = service_account
        self.signer = signer or GoogleTokenSigner()
        self._lock = threading.Lock()
        self._tokens_served = 0

    @property
    def tokens_served(self) -> int:
        """How many access tokens were handed out so far."""
        with self._lock:
            return self._tokens_served

    def _count(self) -> None:
        with self._lock:
            self._tokens_served += 1

    def identity_token(self, audience: str) -> str:
        """A signed ID token for ``audience``, issued to :attr:`service_account` (valid for an hour)."""
        return self.signer.id_token(self.service_account, audience)
