"""Publishes request state changes to the events topic over Pub/Sub's REST API.

REST rather than the client library keeps gRPC out of the functions that only
publish now and then. Locally (PUBSUB_EMULATOR_HOST) the emulator needs no token.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from common import config, metadata, times

_PRODUCTION_URL = "https://pubsub.googleapis.com"


class PublishError(RuntimeError):
    """The event could not be published."""


def publish(request_id: str, event: str, actor: str, details: Mapping[str, Any]) -> str | None:
    """Publish one event; returns its message id, or None when no topic is configured."""
    topic = config.events_topic()
    if not topic:
        return None
    at = times.rfc3339(datetime.now(UTC))
    data = {"request_id": request_id, "event": event, "actor": actor, "at": at, "details": dict(details)}
    message = {
        "data": base64.b64encode(json.dumps(data).encode()).decode(),
        "attributes": {"event": event, "request_id": request_id},
    }
    emulator = config.pubsub_emulator_host()
    headers = {"Content-Type": "application/json"}
    try:
        if not emulator:
            headers["Authorization"] = f"Bearer {metadata.access_token()}"
        base = f"http://{emulator}" if emulator else _PRODUCTION_URL
        request = urllib.request.Request(
            f"{base}/v1/{topic}:publish",
            data=json.dumps({"messages": [message]}).encode(),
            method="POST",
            headers=headers,
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return str(json.load(response)["messageIds"][0])
    except (OSError, ValueError, KeyError, IndexError, TypeError, metadata.MetadataError) as exc:
        # HTTPError is an OSError: a refused publish lands here too.
        raise PublishError(f"cannot publish {event} for {request_id}: {exc}") from exc
