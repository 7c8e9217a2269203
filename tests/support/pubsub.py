"""A pull subscription on the Pub/Sub emulator, to read what was published."""

from __future__ import annotations

import uuid
from typing import Any

import requests

from approvals.emulator.pubsub import PubSubEmulator
from tests.support import PROJECT

TOPIC = f"projects/{PROJECT}/topics/approvals-approval-events"


class Subscription:
    """A pull subscription on TOPIC, made through the emulator's REST API."""

    def __init__(self, emulator: PubSubEmulator) -> None:
        self._emulator = emulator
        self._url = emulator.url
        # The emulator lives for the whole session: a name of its own per test.
        self.name = f"projects/{PROJECT}/subscriptions/approval-events-{uuid.uuid4().hex[:8]}"
        emulator.create_topic(TOPIC)
        emulator.create_subscription(self.name, TOPIC)

    def close(self) -> None:
        for name in (self.name, TOPIC):
            self._emulator.delete(name)

    def pull(self, count: int) -> list[dict[str, Any]]:
        """The next `count` messages, oldest first, acknowledged; fails if more were published."""
        messages = self._pull(count, immediately=False)
        while len(messages) < count:
            messages += self._pull(count - len(messages), immediately=False)
        assert self._pull(100, immediately=True) == []
        return messages

    def drain(self) -> list[dict[str, Any]]:
        """Every message published so far and not yet pulled, oldest first, acknowledged."""
        messages, more = [], self._pull(100, immediately=True)
        while more:
            messages += more
            more = self._pull(100, immediately=True)
        return messages

    def _pull(self, limit: int, *, immediately: bool) -> list[dict[str, Any]]:
        url = f"{self._url}/v1/{self.name}"
        body = {"maxMessages": limit, "returnImmediately": immediately}
        response = requests.post(f"{url}:pull", json=body, timeout=30)
        response.raise_for_status()
        received = response.json().get("receivedMessages", [])
        if received:
            ack = {"ackIds": [r["ackId"] for r in received]}
            requests.post(f"{url}:acknowledge", json=ack, timeout=10).raise_for_status()
        return [r["message"] for r in received]
