"""Request state changes reach the platform's events topic, on the real Pub/Sub emulator.

A rendered template runs on the engine with APPROVALS_EVENTS_TOPIC set; a pull
subscription on that topic must receive exactly the request's state changes,
in order, with their attributes and JSON payload.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from google.cloud import firestore

from approvals.emulator.firestore import FirestoreEmulator
from approvals.emulator.pubsub import PubSubEmulator
from approvals.emulator.translation import TranslationServer
from approvals.engine.api.server import WorkflowsServer, loopback_url
from approvals.engine.runtime.clock import VirtualClock
from approvals.engine.runtime.connectors import ConnectorSettings
from approvals.engine.runtime.engine import Engine
from approvals.engine.runtime.store import Store
from approvals.engine.runtime.tokens import StaticTokens
from approvals.workflow_templates import load_template, render
from tests.emulator.conftest import CallBack
from tests.emulator.test_engine_templates import APPROVE, APPROVERS, DAY, HOUR, REQUEST_ID, REQUESTER
from tests.support import PROJECT, seed
from tests.support.pubsub import TOPIC, Subscription
from tests.templates.examples import PLATFORM_ENV

TEMPLATE = "translation_validation"
SUBJECT = "Validate the en to fr translation"
REQUESTED = ("requested", REQUESTER, {"stage": "validation", "subject": SUBJECT, "approvers": APPROVERS})


@pytest.fixture
def engine(
    store: Store,
    clock: VirtualClock,
    firestore_emulator: FirestoreEmulator,
    pubsub_emulator: PubSubEmulator,
    db: firestore.Client,
) -> Iterator[Engine]:
    """translation_validation deployed with the events topic set, as ApprovalWorkflow does."""
    with TranslationServer() as translation:
        settings = ConnectorSettings(
            firestore_host=firestore_emulator.host,
            translate_url=translation.url,
            pubsub_host=pubsub_emulator.host,
            project=PROJECT,
        )
        engine = Engine(
            store,
            clock,
            project=PROJECT,
            connector_settings=settings,
            tokens=StaticTokens(),
            base_url=loopback_url(),
        )
        deploy(engine)
        with WorkflowsServer(engine):
            yield engine
        engine.close()


def deploy(engine: Engine, topic: str = TOPIC, **extra: str) -> None:
    """(Re)deploy TEMPLATE publishing to `topic`, with `extra` in its environment."""
    template = load_template(TEMPLATE)
    env = {
        **PLATFORM_ENV,
        "APPROVAL_TEMPLATE": TEMPLATE,
        "APPROVALS_EVENTS_TOPIC": topic,
        **extra,
        **template.env_for({}),
    }
    engine.deploy(TEMPLATE, render(template, env), env)


def start(engine: Engine) -> str:
    execution = engine.start(TEMPLATE, {"text": "Hello", "request_id": REQUEST_ID, "requester": REQUESTER})
    engine.wait_idle()
    assert engine.get(execution.id).state == "ACTIVE", engine.get(execution.id).error
    return execution.id


def events(messages: list[dict[str, Any]], since: datetime) -> list[tuple[str, str, dict[str, Any]]]:
    """(event, actor, details) of each message in the order of their `at`, after checking the envelope.

    Pub/Sub promises no delivery order without ordering keys, so the time the
    workflow stamped on each event orders them.
    """
    found = []
    for message in messages:
        body = json.loads(base64.b64decode(message["data"]))
        assert set(body) == {"request_id", "event", "actor", "at", "details"}
        assert body["request_id"] == REQUEST_ID
        assert message["attributes"] == {"event": body["event"], "request_id": REQUEST_ID}
        at = datetime.fromisoformat(body["at"])
        assert at >= since
        found.append((at, (body["event"], body["actor"], body["details"])))
    return [event for _, event in sorted(found, key=lambda pair: pair[0])]


def now(engine: Engine) -> datetime:
    return datetime.fromtimestamp(engine.clock.now(), UTC)


def test_an_approval_publishes_requested_then_decided(
    engine: Engine, db: firestore.Client, subscription: Subscription, call_back: CallBack
) -> None:
    started = now(engine)
    execution_id = start(engine)
    assert events(subscription.pull(1), started) == [REQUESTED]

    engine.advance(HOUR)
    decided = now(engine)
    url = seed.get(db, seed.CALLBACKS, REQUEST_ID)["url"]
    body = APPROVE.body(REQUEST_ID, decided)
    seed.claim(db, body)
    response = call_back(url, body)
    assert response.status_code == 200, response.text
    engine.wait_idle()

    assert engine.get(execution_id).state == "SUCCEEDED", engine.get(execution_id).error
    votes = [{"approver": APPROVE.approver, "outcome": "approved", "comment": APPROVE.comment}]
    details = {
        "outcome": "approved",
        "principal": APPROVE.principal,
        "comment": APPROVE.comment,
        "votes": votes,
    }
    assert events(subscription.pull(1), decided) == [("decided", APPROVE.approver, details)]


def test_a_timeout_publishes_requested_then_expired(engine: Engine, subscription: Subscription) -> None:
    started = now(engine)
    execution_id = start(engine)
    engine.advance(DAY)

    assert engine.get(execution_id).state == "SUCCEEDED", engine.get(execution_id).error
    assert events(subscription.pull(2), started) == [REQUESTED, ("expired", "workflow", {})]


def test_reminders_and_the_escalation_are_published(engine: Engine, subscription: Subscription) -> None:
    escalation = {"approvers": ["boss@example.com"], "timeout_seconds": DAY}
    policy = {"reminder_every_seconds": 8 * HOUR, "escalate_to": escalation}
    deploy(engine, APPROVAL_POLICY=json.dumps(policy))
    started = now(engine)
    execution_id = start(engine)

    engine.advance(2 * DAY)

    assert engine.get(execution_id).state == "SUCCEEDED", engine.get(execution_id).error
    published = events(subscription.pull(7), started)
    assert [event for event, _, _ in published] == [
        "requested",
        "reminder",  # 8 h
        "reminder",  # 16 h; none at the deadline itself
        "escalated",  # 24 h: the boss gets a day of their own
        "reminder",  # 32 h
        "reminder",  # 40 h
        "expired",  # 48 h
    ]
    reminders = [details for event, _, details in published if event == "reminder"]
    assert [r["reminders_sent"] for r in reminders] == [1, 2, 3, 4]
    assert reminders[-1]["approvers"] == ["boss@example.com"]
    [escalated] = [details for event, _, details in published if event == "escalated"]
    assert escalated["approvers"] == ["boss@example.com"]


def test_a_lost_event_is_logged_and_the_request_still_waits(
    engine: Engine, db: firestore.Client, call_back: CallBack
) -> None:
    deploy(engine, f"projects/{PROJECT}/topics/nobody-created-this")

    execution_id = start(engine)

    [lost] = [log for log in engine.logs if log.execution_id == execution_id and log.severity == "ERROR"]
    assert (lost.payload["event"], lost.payload["request_id"]) == ("requested", REQUEST_ID)
    assert seed.stored(db, REQUEST_ID)["status"] == "pending"
    url = seed.get(db, seed.CALLBACKS, REQUEST_ID)["url"]
    body = APPROVE.body(REQUEST_ID, now(engine))
    seed.claim(db, body)
    response = call_back(url, body)
    assert response.status_code == 200, response.text
    engine.wait_idle()
    assert engine.get(execution_id).state == "SUCCEEDED", engine.get(execution_id).error
