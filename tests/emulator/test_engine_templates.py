"""The repository's own template on the engine, end to end: Firestore emulator, local translation, callbacks.

translation_validation (Google's callback-translation sample with the
request_approval library) must reach a decision through a real HTTP callback,
and expire through virtual time without anyone waiting 24 hours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests
from google.cloud import firestore

from emulator.firestore import FirestoreEmulator
from emulator.translation import TranslationServer
from emulator.workflows.clock import VirtualClock
from emulator.workflows.connectors import ConnectorSettings
from emulator.workflows.engine import Engine
from emulator.workflows.server import WorkflowsServer
from emulator.workflows.store import Store
from tests.support import PROJECT
from tests.templates.examples import PLATFORM_ENV
from workflow_templates import load_template, render

CallBack = Callable[..., requests.Response]
DAY = 86400  # PLATFORM_ENV's APPROVAL_TIMEOUT_SECONDS


@pytest.fixture
def db(firestore_emulator: FirestoreEmulator, monkeypatch: pytest.MonkeyPatch) -> firestore.Client:
    firestore_emulator.reset()
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", firestore_emulator.host)
    return firestore.Client(project=PROJECT)


@pytest.fixture
def translation() -> Iterator[TranslationServer]:
    with TranslationServer() as server:
        yield server


@pytest.fixture
def stack(
    store: Store, clock: VirtualClock, firestore_emulator: FirestoreEmulator, translation: TranslationServer
) -> Iterator[Engine]:
    settings = ConnectorSettings(
        firestore_host=firestore_emulator.host, translate_url=translation.url, project=PROJECT
    )
    engine = Engine(store, clock, project=PROJECT, connector_settings=settings)
    template = load_template("translation_validation")
    env = {**PLATFORM_ENV, **template.env_for({})}
    engine.deploy("translate", render(template, env), env)
    with WorkflowsServer(engine):
        yield engine
    engine.close()


def start(engine: Engine, db: firestore.Client) -> tuple[str, dict[str, object]]:
    """Start a validation for bob; returns the execution id and the stored callback document."""
    execution = engine.start(
        "translate", {"text": "Hello", "request_id": "r1", "requester": "bob@example.com"}
    )
    engine.wait_idle()
    assert engine.get(execution.id).state == "ACTIVE", engine.get(execution.id).error
    callback = db.collection("approval_callbacks").document("r1").get().to_dict()
    assert callback is not None
    return execution.id, callback


def test_an_approval_arrives_through_the_callback(
    stack: Engine, db: firestore.Client, call_back: CallBack
) -> None:
    execution_id, callback = start(stack, db)
    assert db.collection("approval_requests").document("r1").get().get("status") == "pending"

    decision = {
        "request_id": "r1",
        "outcome": "approved",
        "principal": "ada@example.com",
        "approver": "ada@example.com",
        "comment": "fine",
    }
    assert call_back(str(callback["url"]), decision).status_code == 200
    stack.wait_idle()

    done = stack.get(execution_id)
    assert done.state == "SUCCEEDED", done.error
    assert done.result == {
        "text": "Hello",
        "translation": "[local translation en→fr] Hello",
        "approved": True,
    }
    assert db.collection("approval_requests").document("r1").get().get("status") == "approved"
    assert db.collection("translations").document(execution_id).get().get("approved") is True


def test_nobody_deciding_expires_the_request(stack: Engine, db: firestore.Client) -> None:
    execution_id, _ = start(stack, db)

    stack.advance(DAY)

    done = stack.get(execution_id)
    assert done.state == "SUCCEEDED", done.error
    assert done.result["approved"] is False
    assert db.collection("approval_requests").document("r1").get().get("status") == "expired"
