"""A local stand-in for the GCE metadata server's service-account token endpoint."""

from __future__ import annotations

import json
import threading

from emulator.local_server import LocalServer, QuietHandler

TOKEN_PATH = "/computeMetadata/v1/instance/service-accounts/default/token"


class _Handler(QuietHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        owner: MetadataServer = self.server.owner  # type: ignore[attr-defined]
        # Like the real server: refuse requests that lack the header, which
        # is what protects the token from being fetched through SSRF.
        if self.headers.get("Metadata-Flavor") != "Google":
            self.reply(403, b"Missing Metadata-Flavor:Google header.", "text/plain")
            return
        if self.path.split("?", 1)[0] != TOKEN_PATH:
            self.reply(404, b"Not Found", "text/plain")
            return
        owner._count()
        body = {
            "access_token": owner.access_token,
            "expires_in": owner.expires_in,
            "token_type": "Bearer",
        }
        self.reply(200, json.dumps(body).encode(), headers={"Metadata-Flavor": "Google"})


class MetadataServer(LocalServer):
    """Answers the default service account's token request with a fixed token.

    Point ``GCE_METADATA_HOST`` at :attr:`host`.
    """

    handler_class = _Handler

    def __init__(self, access_token: str = "local-access-token", expires_in: int = 3599) -> None:
        super().__init__()
        self.access_token = access_token
        self.expires_in = expires_in
        self._lock = threading.Lock()
        self._tokens_served = 0

    @property
    def tokens_served(self) -> int:
        """How many tokens were handed out so far."""
        with self._lock:
            return self._tokens_served

    def _count(self) -> None:
        with self._lock:
            self._tokens_served += 1
