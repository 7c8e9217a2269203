"""The function's own service-account access token, from the metadata server."""

from __future__ import annotations

import json
import threading
import time
import urllib.request

from common import config

_TOKEN_PATH = "/computeMetadata/v1/instance/service-accounts/default/token"
# Renew a little early so a token never expires on its way to the callee.
_EXPIRY_MARGIN_SECONDS = 60


class MetadataError(RuntimeError):
    """The metadata server did not hand out a token."""


class _TokenCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._token = ""
        self._expires_at = 0.0

    def get(self) -> str:
        with self._lock:
            if not self._token or time.monotonic() >= self._expires_at:
                self._token, lifetime = self._fetch()
                self._expires_at = time.monotonic() + lifetime - _EXPIRY_MARGIN_SECONDS
            return self._token

    @staticmethod
    def _fetch() -> tuple[str, float]:
        request = urllib.request.Request(
            f"http://{config.metadata_host()}{_TOKEN_PATH}",
            headers={"Metadata-Flavor": "Google"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                body = json.load(response)
            return str(body["access_token"]), float(body.get("expires_in", 0))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise MetadataError(f"cannot get an access token: {exc}") from exc


_cache = _TokenCache()


def access_token() -> str:
    """A cached OAuth access token of the default service account."""
    return _cache.get()
