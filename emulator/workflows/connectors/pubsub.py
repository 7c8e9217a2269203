"""googleapis.pubsub.v1.projects.topics.publish, on the Pub/Sub emulator.

`POST /v1/{topic}:publish` with `{messages: [{data (base64), attributes}]}`,
answering `{messageIds: [...]}` (Pub/Sub REST reference), at PUBSUB_EMULATOR_HOST.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from approvals.emulator.workflows.connectors.rest import ConnectorSettings, Endpoint, invoke, require
from approvals.emulator.workflows.tokens import TokenSource

PUBLISH = "googleapis.pubsub.v1.projects.topics.publish"
PUBLISH_ENDPOINT = Endpoint("POST", "{topic}:publish", body=True)


def publish(args: Mapping[str, Any], settings: ConnectorSettings, tokens: TokenSource) -> Any:
    """Publish `body.messages` to `topic` ("projects/{project}/topics/{topic}")."""
    host = require(settings.pubsub_host, PUBLISH, "Pub/Sub emulator (PUBSUB_EMULATOR_HOST)")
    return invoke(PUBLISH, PUBLISH_ENDPOINT, f"http://{host}/v1", args, tokens)


CONNECTORS: dict[str, Callable[[Mapping[str, Any], ConnectorSettings, TokenSource], Any]] = {
    PUBLISH: publish,
}
