"""common/events.py publishes to the real Pub/Sub emulator, imported as the functions import it."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import datetime
from types import ModuleType

import pytest

from approvals.emulator.functions import FUNCTIONS
from approvals.emulator.metadata import MetadataServer
from approvals.emulator.pubsub import PubSubEmulator
from tests.support.pubsub import TOPIC, Subscription
from tests.support.servers import RecordingServer, Reply

DETAILS = {"reason": "no longer needed", "count": 2}


@pytest.fixture(scope="module")
def events() -> Iterator[ModuleType]:
    """common.events with common/ importable, as in a deployed function."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(FUNCTIONS))
        import common.events

        yield common.events


@pytest.fixture
def subscription(
    subscription: Subscription, pubsub_emulator: PubSubEmulator, monkeypatch: pytest.MonkeyPatch
) -> Subscription:
    """The shared subscription, with common.events pointed at its emulator and topic."""
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_emulator.host)
    monkeypatch.setenv("APPROVALS_EVENTS_TOPIC", TOPIC)
    return subscription


def test_event_is_published_with_attributes(events: ModuleType, subscription: Subscription) -> None:
    message_id = events.publish("r1", "cancelled", "requester@example.com", DETAILS)

    [message] = subscription.pull(1)
    assert message["messageId"] == message_id
    assert message["attributes"] == {"event": "cancelled", "request_id": "r1"}
    data = json.loads(base64.b64decode(message["data"]))
    assert data.pop("at").endswith("Z")
    assert data == {
        "request_id": "r1",
        "event": "cancelled",
        "actor": "requester@example.com",
        "details": DETAILS,
    }
    assert datetime.fromisoformat(message["publishTime"])


def test_nothing_is_published_without_a_topic(
    events: ModuleType, subscription: Subscription, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("APPROVALS_EVENTS_TOPIC")
    assert events.publish("r1", "cancelled", "requester@example.com", DETAILS) is None

    # With the topic back, the next event is the only one there.
    monkeypatch.setenv("APPROVALS_EVENTS_TOPIC", TOPIC)
    events.publish("r2", "cancelled", "requester@example.com", DETAILS)
    [message] = subscription.pull(1)
    assert message["attributes"]["request_id"] == "r2"


def test_missing_topic_is_an_error(
    events: ModuleType, subscription: Subscription, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APPROVALS_EVENTS_TOPIC", f"{TOPIC}-missing")

    with pytest.raises(events.PublishError, match="404"):
        events.publish("r1", "cancelled", "requester@example.com", DETAILS)


def test_production_sends_the_service_account_token(
    events: ModuleType, metadata_server: MetadataServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PUBSUB_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("APPROVALS_EVENTS_TOPIC", TOPIC)
    monkeypatch.setenv("GCE_METADATA_HOST", metadata_server.host)
    with RecordingServer() as pubsub:
        # Stands in for pubsub.googleapis.com, which is the only other difference.
        monkeypatch.setattr(events, "_PRODUCTION_URL", pubsub.url)
        pubsub.script(Reply(200, {"messageIds": ["42"]}))

        assert events.publish("r1", "cancelled", "requester@example.com", DETAILS) == "42"

    [call] = pubsub.calls
    assert call.path == f"/v1/{TOPIC}:publish"
    assert call.headers["Authorization"] == f"Bearer {metadata_server.access_token}"
    [message] = call.json()["messages"]
    assert message["attributes"] == {"event": "cancelled", "request_id": "r1"}
