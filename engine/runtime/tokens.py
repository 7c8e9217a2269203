"""Where `auth: {type: OAuth2 | OIDC}` gets its bearer tokens from.

On Google Cloud, Workflows mints tokens for the workflow's service account
("Workflows uses a token in the authorization header based on the credentials
of the service account attached to the workflow", Make authenticated requests).
Locally a `TokenSource` stands in: fixed strings for tests, or the local
metadata server (emulator.metadata) for the local stack.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import NamedTuple, Protocol

# The GCE metadata server's path for the default service account's tokens: the path the
# local stand-in (emulator.metadata) serves, as Google's does.
METADATA_ACCOUNT_PATH = "/computeMetadata/v1/instance/service-accounts/default"


class TokenError(RuntimeError):
    """A token could not be obtained; http.* reports it as an AuthError."""


class TokenSource(Protocol):
    """Mints the workflow service account's tokens."""

    def access_token(self, scopes: Sequence[str]) -> str:
        """An OAuth2 access token for ``scopes``."""

    def id_token(self, audience: str) -> str:
        """An OIDC identity token whose ``aud`` is ``audience``."""


class StaticTokens(NamedTuple):
    """The same two tokens whatever is asked: for tests and offline runs."""

    # A NamedTuple, not a frozen dataclass, for the CLI's start (see `parser`).

    access: str = "local-access-token"
    identity: str = "local-identity-token"

    def access_token(self, scopes: Sequence[str]) -> str:
        return self.access

    def id_token(self, audience: str) -> str:
        return self.identity


class MetadataTokens:
    """Fetches tokens from a metadata server at ``host`` (``GCE_METADATA_HOST`` form).

    Every call asks the server: the local one answers at once, and not caching
    keeps an execution's tokens as fresh as the server's.
    """

    def __init__(self, host: str, timeout: float = 10.0) -> None:
        self.host = host
        self.timeout = timeout

    def access_token(self, scopes: Sequence[str]) -> str:
        import urllib.parse  # not with the module: StaticTokens' runs need none (engine.random_uuid)

        query = urllib.parse.urlencode({"scopes": ",".join(scopes)}) if scopes else ""
        body = self._get("token", query)
        try:
            return json.loads(body)["access_token"]
        except (ValueError, KeyError, TypeError) as error:
            raise TokenError(
                f"metadata server at {self.host} sent no access_token: {body[:200]!r}"
            ) from error

    def id_token(self, audience: str) -> str:
        import urllib.parse

        return self._get("identity", urllib.parse.urlencode({"audience": audience, "format": "full"}))

    def _get(self, what: str, query: str) -> str:
        # Imported here: urllib.request costs a plain `python -m
        # emulator run`, whose tokens are StaticTokens, time it need not spend.
        import urllib.error
        import urllib.request

        url = f"http://{self.host}{METADATA_ACCOUNT_PATH}/{what}" + (f"?{query}" if query else "")
        request = urllib.request.Request(url, headers={"Metadata-Flavor": "Google"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.read().decode()
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")[:200]
            raise TokenError(
                f"metadata server at {self.host} answered {error.code} for {what}: {detail}"
            ) from error
        except OSError as error:
            raise TokenError(f"metadata server at {self.host} unreachable: {error}") from error
