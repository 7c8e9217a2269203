"""googleapis.pubsub.v1 topics and subscriptions, on the Pub/Sub emulator.

Each method maps onto the Pub/Sub REST API at PUBSUB_EMULATOR_HOST the way the
connector does (connector reference, pubsub/Overview): `topics.create`
`PUT /v1/{name}`, `topics.get`/`delete` `/v1/{topic}`, `topics.publish`
`POST /v1/{topic}:publish` answering `{messageIds}`, `subscriptions.create`
`PUT /v1/{name}`, `subscriptions.pull` `POST /v1/{subscription}:pull` answering
`{receivedMessages}`, `acknowledge` and `delete` answering `{}`.
"""

from __future__ import annotations

from approvals.engine.runtime.connectors.rest import Endpoint, emulator_connectors

ENDPOINTS = {
    "topics.create": Endpoint("PUT", "{name}", body=True),
    "topics.delete": Endpoint("DELETE", "{topic}"),
    "topics.get": Endpoint("GET", "{topic}"),
    "topics.publish": Endpoint("POST", "{topic}:publish", body=True),
    "subscriptions.acknowledge": Endpoint("POST", "{subscription}:acknowledge", body=True),
    "subscriptions.create": Endpoint("PUT", "{name}", body=True),
    "subscriptions.delete": Endpoint("DELETE", "{subscription}"),
    "subscriptions.pull": Endpoint("POST", "{subscription}:pull", body=True),
}

CONNECTORS = emulator_connectors(
    "googleapis.pubsub.v1.projects.",
    ENDPOINTS,
    lambda settings: settings.pubsub_host,
    "Pub/Sub emulator (PUBSUB_EMULATOR_HOST)",
)
