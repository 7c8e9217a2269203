"""The local pusher: a pull subscription on the real Pub/Sub emulator, pushed as Pub/Sub pushes.

A recording server stands in for the push endpoint. Each message arrives
wrapped as Google wraps it, with an ID token of the subscription's oidcToken
account for the push endpoint; a success status acknowledges it, anything
else has it delivered again after the (locally bounded) backoff.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
import requests

from approvals.emulator.google_tokens import GoogleTokenSigner
from approvals.emulator.pubsub import PubSubEmulator
from approvals.emulator.pusher import Pusher, PushTarget, backoff, envelope
from approvals.emulator.stack_plan import Subscription
from tests.e2e.stack_client import poll
from tests.support import PROJECT
from tests.support.servers import Call, RecordingServer, Reply

PUSHER = f"approvals-pusher@{PROJECT}.iam.gserviceaccount.com"
ENDPOINT = "https://europe-west1-demo-approvals.cloudfunctions.net/approvals-notify"
# Long enough for a redelivery we do not expect to show up.
QUIET_SECONDS = 1.5


@pytest.fixture(scope="module")
def signer() -> GoogleTokenSigner:
    return GoogleTokenSigner()


@pytest.fixture
def endpoint() -> Iterator[RecordingServer]:
    with RecordingServer() as server:
        yield server


@pytest.fixture
def subscription(pubsub_emulator: PubSubEmulator) -> Iterator[Subscription]:
    """A topic and a pull subscription of their own, as the stack creates a push one; deleted after."""
    suffix = uuid.uuid4().hex[:8]
    topic = f"projects/{PROJECT}/topics/events-{suffix}"
    name = f"projects/{PROJECT}/subscriptions/notify-{suffix}"
    pubsub_emulator.create_topic(topic)
    pubsub_emulator.create_subscription(name, topic, ack_deadline_seconds=10)
    yield Subscription(
        name,
        topic,
        "approvals-notify",
        "",
        push_endpoint=ENDPOINT,
        oidc_service_account=PUSHER,
        ack_deadline_seconds=10,
        minimum_backoff=10.0,
        maximum_backoff=600.0,
    )
    for created in (name, topic):
        pubsub_emulator.delete(created)


def pushing(
    emulator: PubSubEmulator, subscription: Subscription, endpoint: RecordingServer, signer: GoogleTokenSigner
) -> Pusher:
    return Pusher(
        emulator.host, [PushTarget(subscription, f"{endpoint.url}/push?x=1")], signer, concurrency=2
    )


def publish(emulator: PubSubEmulator, topic: str, data: bytes, **attributes: str) -> str:
    message = {"data": base64.b64encode(data).decode(), **({"attributes": attributes} if attributes else {})}
    response = requests.post(f"{emulator.url}/v1/{topic}:publish", json={"messages": [message]}, timeout=10)
    response.raise_for_status()
    return response.json()["messageIds"][0]


def calls(endpoint: RecordingServer, count: int) -> list[Call]:
    return poll(lambda: endpoint.calls, lambda found: len(found) >= count, f"{count} pushes")


def test_a_message_is_pushed_wrapped_with_an_id_token_and_acknowledged(
    pubsub_emulator: PubSubEmulator,
    subscription: Subscription,
    endpoint: RecordingServer,
    signer: GoogleTokenSigner,
) -> None:
    with pushing(pubsub_emulator, subscription, endpoint, signer):
        message_id = publish(
            pubsub_emulator, subscription.topic, b'{"event": "requested"}', event="requested"
        )
        [call] = calls(endpoint, 1)
        time.sleep(QUIET_SECONDS)
        assert len(endpoint.calls) == 1  # acknowledged: not delivered again

    assert (call.method, call.path) == ("POST", "/push?x=1")
    body = call.json()
    published = body["message"]["publishTime"]
    assert body == {
        "message": {
            "data": base64.b64encode(b'{"event": "requested"}').decode(),
            "attributes": {"event": "requested"},
            "messageId": message_id,
            "message_id": message_id,
            "publishTime": published,
            "publish_time": published,
        },
        "subscription": subscription.name,
    }
    assert call.headers["Content-Type"] == "application/json"
    scheme, token = call.headers["Authorization"].split(" ")
    claims = signer.verifier().verify(token, {ENDPOINT})  # the audience Pub/Sub sets by default
    assert (scheme, claims["email"]) == ("Bearer", PUSHER)


def test_a_failed_push_is_delivered_again_after_the_bounded_backoff(
    pubsub_emulator: PubSubEmulator,
    subscription: Subscription,
    endpoint: RecordingServer,
    signer: GoogleTokenSigner,
) -> None:
    endpoint.script(Reply(500, {"error": "the mail webhook failed"}), Reply(400))
    with pushing(pubsub_emulator, subscription, endpoint, signer):
        message_id = publish(pubsub_emulator, subscription.topic, b"{}")
        first, second, third = calls(endpoint, 3)
        time.sleep(QUIET_SECONDS)
        assert len(endpoint.calls) == 3  # the third answer (200) acknowledged it

    # The same message each time, each time with a token.
    assert {c.json()["message"]["messageId"] for c in (first, second, third)} == {message_id}
    assert all(c.headers["Authorization"].startswith("Bearer ") for c in (first, second, third))


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_each_success_status_acknowledges(
    pubsub_emulator: PubSubEmulator,
    subscription: Subscription,
    endpoint: RecordingServer,
    signer: GoogleTokenSigner,
    status: int,
) -> None:
    endpoint.default = Reply(status)
    with pushing(pubsub_emulator, subscription, endpoint, signer):
        publish(pubsub_emulator, subscription.topic, b"{}")
        calls(endpoint, 1)
        time.sleep(QUIET_SECONDS)

    assert len(endpoint.calls) == 1


def test_the_redelivery_waits_for_the_backoff(
    pubsub_emulator: PubSubEmulator,
    subscription: Subscription,
    endpoint: RecordingServer,
    signer: GoogleTokenSigner,
) -> None:
    arrivals: list[float] = []
    record = endpoint.record

    def timed(call: Call) -> Reply:
        arrivals.append(time.monotonic())
        return record(call)

    endpoint.record = timed  # type: ignore[method-assign]
    endpoint.script(Reply(503))
    with pushing(pubsub_emulator, subscription, endpoint, signer):
        publish(pubsub_emulator, subscription.topic, b"{}")
        calls(endpoint, 2)

    # The policy says 10 s; locally it is bounded to a second.
    assert 0.9 <= arrivals[1] - arrivals[0] < 3.0


def test_without_an_oidc_token_the_push_carries_no_authorization(
    pubsub_emulator: PubSubEmulator,
    subscription: Subscription,
    endpoint: RecordingServer,
    signer: GoogleTokenSigner,
) -> None:
    anonymous = replace(subscription, oidc_service_account=None)
    with pushing(pubsub_emulator, anonymous, endpoint, signer):
        publish(pubsub_emulator, subscription.topic, b"{}")
        [call] = calls(endpoint, 1)

    assert "Authorization" not in call.headers


def test_a_configured_audience_is_the_token_s(
    pubsub_emulator: PubSubEmulator,
    subscription: Subscription,
    endpoint: RecordingServer,
    signer: GoogleTokenSigner,
) -> None:
    custom = replace(subscription, oidc_audience="https://notify.example.com")
    with pushing(pubsub_emulator, custom, endpoint, signer):
        publish(pubsub_emulator, subscription.topic, b"{}")
        [call] = calls(endpoint, 1)

    token = call.headers["Authorization"].removeprefix("Bearer ")
    assert signer.verifier().verify(token, {"https://notify.example.com"})["email"] == PUSHER


def test_stop_ends_the_waiting_polls_at_once(
    pubsub_emulator: PubSubEmulator,
    subscription: Subscription,
    endpoint: RecordingServer,
    signer: GoogleTokenSigner,
) -> None:
    pusher = pushing(pubsub_emulator, subscription, endpoint, signer).start()
    time.sleep(0.5)  # the workers now wait in the emulator's long-poll
    began = time.monotonic()

    pusher.stop()

    assert time.monotonic() - began < 2.0
    assert not [t for t in threading.enumerate() if t.name.startswith("pusher-")]


def test_backoff_follows_the_retry_policy_within_the_local_bound() -> None:
    policy = Subscription("s", "t", "f", "", minimum_backoff=10.0, maximum_backoff=60.0)

    assert [backoff(policy, n, ceiling=600) for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]
    assert [backoff(policy, n) for n in (1, 2)] == [1.0, 1.0]
    assert backoff(replace(policy, minimum_backoff=0.25), 1) == 0.25
    assert backoff(replace(policy, minimum_backoff=None, maximum_backoff=None), 1) == 1.0


def test_a_message_without_attributes_is_wrapped_without_them() -> None:
    message = {"data": "e30=", "messageId": "7", "publishTime": "2026-01-01T00:00:00.000Z"}

    assert envelope(message, "projects/p/subscriptions/s") == {
        "message": {
            "data": "e30=",
            "messageId": "7",
            "message_id": "7",
            "publishTime": "2026-01-01T00:00:00.000Z",
            "publish_time": "2026-01-01T00:00:00.000Z",
        },
        "subscription": "projects/p/subscriptions/s",
    }
