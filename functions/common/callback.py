"""Delivery of a decision to the workflow's callback endpoint."""

from __future__ import annotations

import email.utils
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from common import config, metadata

_PRODUCTION_HOST = "workflowexecutions.googleapis.com"
_METHODS = {"POST", "PUT", "PATCH"}
# Keeps a misbehaving callee from holding the function past its timeout.
_MAX_RETRY_AFTER_SECONDS = 30.0
_ATTEMPT_TIMEOUT_SECONDS = 30.0

logger = logging.getLogger(__name__)


class CallbackError(RuntimeError):
    """The callback could not be delivered."""


def _check_url(url: str) -> None:
    """Only send our access token to the Workflows API (or its local stand-in)."""
    parts = urllib.parse.urlsplit(url)
    local = config.workflows_emulator_host()
    if parts.scheme == "https" and parts.netloc == _PRODUCTION_HOST:
        return
    if local and parts.scheme == "http" and parts.netloc == local:
        return
    raise CallbackError(f"refusing to call back a non-Workflows URL: {url!r}")


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait according to a Retry-After header (seconds or date)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER_SECONDS)


def _send(url: str, method: str, data: bytes, timeout: float) -> tuple[int, float | None]:
    """One attempt: the status and the Retry-After delay, if any."""
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={
            "Authorization": f"Bearer {metadata.access_token()}",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, None
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, _retry_after(exc.headers.get("Retry-After"))


def deliver(url: str, body: Mapping[str, Any], method: str = "POST") -> None:
    """Send ``body`` as JSON, retrying 429, 5xx and network errors with backoff.

    Raises CallbackError once the attempts are used up or the callee refuses.
    """
    _check_url(url)
    method = method.upper()
    if method not in _METHODS:
        raise CallbackError(f"unsupported callback method {method}")
    data = json.dumps(body).encode()
    attempts = config.callback_max_attempts()
    delay = config.callback_initial_backoff()
    deadline = time.monotonic() + config.callback_budget_seconds()
    problem = ""
    for attempt in range(1, attempts + 1):
        wait: float | None = None
        left = deadline - time.monotonic()
        if left <= 0:
            raise CallbackError(f"{problem} (gave up after {attempt - 1} attempts)")
        try:
            status, wait = _send(url, method, data, min(_ATTEMPT_TIMEOUT_SECONDS, left))
            problem = f"callback answered HTTP {status}"
        except (OSError, metadata.MetadataError) as exc:
            status, problem = 0, f"callback request failed: {exc}"
        if 200 <= status < 300:
            return
        # 4xx other than 429 will not change by retrying: 404 means the
        # execution is gone, 403 a missing permission.
        if status and status != 429 and status < 500:
            raise CallbackError(problem)
        logger.warning("attempt %d/%d: %s", attempt, attempts, problem)
        pause = delay if wait is None else wait
        if attempt < attempts and time.monotonic() + pause < deadline:
            time.sleep(pause)
            delay *= 2
        elif attempt < attempts:
            raise CallbackError(f"{problem} (gave up after {attempt} attempts: no time left to retry)")
    raise CallbackError(f"{problem} (after {attempts} attempts)")
