"""The cancel function, on the Firestore and Pub/Sub emulators and the engine's gRPC Executions API.

The request's execution really runs on the engine (it sleeps on a virtual
clock, so it stays ACTIVE until cancelled); the function cancels it through
google-cloud-workflows' ExecutionsClient as it would in production.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from google.cloud import firestore

from approvals.emulator.functions import FunctionServer
from approvals.emulator.identity import IdentityProvider
from approvals.emulator.pubsub import PubSubEmulator
from approvals.engine.api.grpc_api import ExecutionsService
from approvals.engine.runtime.engine import Engine
from approvals.engine.runtime.store import ACTIVE, CANCELLED
from tests.functions.function_support import post
from tests.support import PROJECT, seed
from tests.support.pubsub import TOPIC, Subscription

ALICE = "alice@example.com"
REQUESTER = seed.REQUESTER


@pytest.fixture(scope="module")
def cancel(
    function_env: dict[str, str], engine: Engine, pubsub_emulator: PubSubEmulator
) -> Iterator[FunctionServer]:
    with ExecutionsService(engine) as service:
        env = {
            **function_env,
            "WORKFLOWS_EMULATOR_GRPC_HOST": service.host,
            "APPROVALS_EVENTS_TOPIC": TOPIC,
            "PUBSUB_EMULATOR_HOST": pubsub_emulator.host,
        }
        with FunctionServer("cancel", env) as function:
            yield function


def running(db: firestore.Client, engine: Engine, **kw: Any) -> tuple[str, str]:
    """A pending request whose execution waits on the engine; its id and the execution's id."""
    execution = engine.start("asleep")
    name = f"projects/{PROJECT}/locations/{engine.location}/workflows/asleep/executions/{execution.id}"
    return seed.request(db, approvers=[ALICE], execution_name=name, **kw), execution.id


def test_requester_cancels_request_and_execution(
    cancel: FunctionServer,
    db: firestore.Client,
    engine: Engine,
    identity: IdentityProvider,
    subscription: Subscription,
) -> None:
    request_id, execution_id = running(db, engine)

    response = post(
        cancel, {"request_id": request_id, "reason": "no longer needed"}, identity.mint(REQUESTER)
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"request_id": request_id, "status": "cancelled"}
    assert engine.get(execution_id).state == CANCELLED
    document = seed.stored(db, request_id)
    assert document["status"] == "cancelled"
    assert document["cancelled_by"] == REQUESTER
    assert document["cancel_reason"] == "no longer needed"
    [audited] = seed.audit(db, request_id)
    assert audited["event"] == "cancelled"
    assert audited["actor"] == REQUESTER
    assert audited["at"] == document["cancelled_at"]
    assert audited["details"]["reason"] == "no longer needed"
    [message] = subscription.pull(1)
    assert message["attributes"] == {"event": "cancelled", "request_id": request_id}
    event = json.loads(base64.b64decode(message["data"]))
    assert event["event"] == "cancelled"
    assert event["actor"] == REQUESTER
    assert event["details"]["reason"] == "no longer needed"


def test_only_the_requester_may_cancel(
    cancel: FunctionServer, db: firestore.Client, engine: Engine, identity: IdentityProvider
) -> None:
    request_id, execution_id = running(db, engine)
    before = seed.stored(db, request_id)

    # Even an approver of the request may not.
    response = post(cancel, {"request_id": request_id}, identity.mint(ALICE))

    assert response.status_code == 403
    assert response.json() == {"error": "only the requester may cancel this request"}
    assert seed.stored(db, request_id) == before
    assert engine.get(execution_id).state == ACTIVE
    assert seed.audit(db, request_id) == []


@pytest.mark.parametrize(
    ("status", "error"),
    [
        ("deciding", "the request was already decided"),
        ("approved", "the request was already decided"),
        ("expired", "the request has expired"),
        ("cancelled", "the request was already cancelled"),
    ],
)
def test_closed_request_conflicts(
    cancel: FunctionServer,
    db: firestore.Client,
    engine: Engine,
    identity: IdentityProvider,
    status: str,
    error: str,
) -> None:
    request_id, execution_id = running(db, engine, status=status)

    response = post(cancel, {"request_id": request_id}, identity.mint(REQUESTER))

    assert response.status_code == 409
    assert response.json() == {"error": error}
    assert engine.get(execution_id).state == ACTIVE


def test_failed_execution_cancel_reopens_the_request(
    cancel: FunctionServer, db: firestore.Client, engine: Engine, identity: IdentityProvider
) -> None:
    request_id, execution_id = running(db, engine)
    # The execution ended on its own (say it timed out) before the requester cancelled.
    engine.cancel(execution_id)
    before = seed.stored(db, request_id)

    response = post(cancel, {"request_id": request_id}, identity.mint(REQUESTER))

    assert response.status_code == 502
    # The Executions API's own text goes to the log, under the incident id the caller gets.
    incident = response.json()["error"].removeprefix("could not cancel the workflow execution (incident ")
    assert "FAILED_PRECONDITION" not in response.json()["error"]
    assert "FAILED_PRECONDITION" in cancel.output() and incident.rstrip(")") in cancel.output()
    assert seed.stored(db, request_id) == before
    assert seed.audit(db, request_id) == []


def test_unknown_request_is_not_found(cancel: FunctionServer, identity: IdentityProvider) -> None:
    response = post(cancel, {"request_id": "nope"}, identity.mint(REQUESTER))

    assert response.status_code == 404
    assert response.json() == {"error": "no such request"}


@pytest.mark.parametrize(
    "body",
    [{}, {"request_id": "a/b"}, {"request_id": "r1", "reason": 5}, {"request_id": "r1", "extra": True}],
    ids=["no-request-id", "request-id-path", "reason-not-string", "extra-field"],
)
def test_malformed_cancellation_is_bad_request(
    cancel: FunctionServer, identity: IdentityProvider, body: dict[str, Any]
) -> None:
    response = post(cancel, body, identity.mint(REQUESTER))

    assert response.status_code == 400
    assert response.json()["error"] == "invalid cancellation"


def test_anonymous_caller_is_unauthorized(
    cancel: FunctionServer, db: firestore.Client, engine: Engine
) -> None:
    request_id, execution_id = running(db, engine)

    response = post(cancel, {"request_id": request_id}, None)

    assert response.status_code == 401
    assert engine.get(execution_id).state == ACTIVE


def test_other_methods_are_not_allowed(cancel: FunctionServer) -> None:
    response = requests.get(f"{cancel.url}/", timeout=30)

    assert response.status_code == 405
