"""The approval site's HTTP API as a pipeline or a service calls it: start a request, read its status.

Standard library HTTP, so that asking costs a pipeline no dependency; google-auth only
when a Google identity signs the calls (`approvals[cli]`).
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# The status API answers a long poll within this many seconds (Firebase Hosting's limit is 60).
LONGEST_WAIT_SECONDS = 50
# Connection failures and 5xx answers are retried this many times, the pause doubling from 1 s.
RETRIES = 5


class ApiError(RuntimeError):
    """The site refused the call, or could not be reached; the message says why."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Site:
    """One approval site (its origin) and how calls to it are signed."""

    url: str
    token: Callable[[], str]
    """A fresh bearer token for each call: ID tokens last an hour, a wait may last a day."""

    def start(self, workflow: str, given: Mapping[str, Any]) -> dict[str, Any]:
        """Start `workflow` with input `given`: start's answer (request_id, execution...)."""
        return self._call("POST", "/api/start", {"workflow": workflow, "input": dict(given)})

    def status(self, request_id: str, wait: int = 0, since: str | None = None) -> dict[str, Any]:
        """The request's status; with `wait`, once it differs from `since` or after `wait` seconds."""
        query = {"wait": str(wait), **({"since": since} if since else {})}
        path = f"/api/requests/{urllib.parse.quote(request_id)}?{urllib.parse.urlencode(query)}"
        return self._call("GET", path, None, timeout=wait + 30)

    def _call(self, method: str, path: str, body: Any, timeout: float = 30) -> dict[str, Any]:
        # A start sent again after its answer was lost would start a second request: only reads retry.
        retries = RETRIES if method == "GET" else 0
        pause = 1.0
        for attempt in range(retries + 1):
            try:
                return _exchange(method, f"{self.url}{path}", body, self.token(), timeout)
            except ApiError as error:
                retry = error.status is None or error.status >= 500
                if not retry or attempt == retries:
                    raise
            time.sleep(pause)
            pause *= 2
        raise AssertionError("unreachable")


def _exchange(method: str, url: str, body: Any, token: str, timeout: float) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}", **({"Content-Type": "application/json"} if data else {})}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        raise ApiError(f"{method} {url}: {error.code} {_reason(error)}", error.code) from error
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise ApiError(f"{method} {url}: {getattr(error, 'reason', error)}") from error


def _reason(error: urllib.error.HTTPError) -> str:
    """The site's JSON reason (and details), or the HTTP reason phrase."""
    try:
        body = json.loads(error.read() or b"{}")
    except ValueError:
        return str(error.reason)
    details = body.get("details") if isinstance(body, dict) else None
    reason = body.get("error", error.reason) if isinstance(body, dict) else error.reason
    return f"{reason} ({'; '.join(map(str, details))})" if details else str(reason)


def local_sign_in(url: str, email: str) -> Callable[[str], str]:
    """A local stack's sign-in for `email` (tests and demos): its ID token, for any audience."""
    token = _exchange("POST", f"{url}/local/sign-in", {"email": email}, "", 30)["idToken"]
    return lambda _audience: token


def token_from_env(name: str) -> Callable[[str], str]:
    """A token minted by someone else (a CI step's output), read from the environment variable `name`."""
    if not os.environ.get(name):
        raise ApiError(f"the environment variable {name} holds no token")
    return lambda _audience: os.environ[name]


def google_identity(impersonate: str | None = None) -> Callable[[str], str]:
    """Google-signed ID tokens with the e-mail claim: Application Default Credentials (a service
    account key, or the metadata server of Cloud Build, Cloud Run or GCE), or, impersonated,
    `impersonate`'s (for people and Workload Identity Federation, which mint no ID tokens)."""
    try:
        import google.auth
        import google.auth.transport.requests
        from google.auth import impersonated_credentials
        from google.oauth2 import id_token
    except ImportError as error:
        raise ApiError('Google identities need google-auth: pip install "approvals[cli]"') from error
    transport = google.auth.transport.requests.Request()
    cache: dict[str, Any] = {}

    def token(audience: str) -> str:
        credentials = cache.get(audience)
        if credentials is None:
            if impersonate:
                source, _ = google.auth.default()
                target = impersonated_credentials.Credentials(
                    source, impersonate, ["https://www.googleapis.com/auth/cloud-platform"]
                )
                credentials = impersonated_credentials.IDTokenCredentials(
                    target, target_audience=audience, include_email=True
                )
            else:
                credentials = id_token.fetch_id_token_credentials(audience, request=transport)
            cache[audience] = credentials
        if not credentials.valid:
            credentials.refresh(transport)
        return str(credentials.token)

    return token
