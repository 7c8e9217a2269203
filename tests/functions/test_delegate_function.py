"""The delegate function: approvers manage their one delegation, on the Firestore emulator.

Each delegation's timer is the platform's own workflow, run on the engine (on a
virtual clock, so it sleeps until the test moves time), started and cancelled
through google-cloud-workflows' ExecutionsClient as in production.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.cloud import firestore

from approvals.emulator.functions import FunctionServer
from approvals.emulator.identity import IdentityProvider
from approvals.emulator.pubsub import PubSubEmulator
from approvals.engine.api.grpc_api import ExecutionsService
from approvals.engine.runtime.clock import VirtualClock
from approvals.engine.runtime.connectors import ConnectorSettings
from approvals.engine.runtime.engine import Engine
from approvals.engine.runtime.store import ACTIVE, CANCELLED, SUCCEEDED, ExecutionRecord, Store
from approvals.workflow_templates import platform_workflow_source
from tests.functions.function_support import call
from tests.support import PROJECT, seed
from tests.support.pubsub import TOPIC, Subscription

ALICE = "alice@example.com"
BOB = "bob@example.com"
CAROL = "carol@example.com"
DORA = "dora@example.com"
TIMER_ID = "approvals-delegation-timer"
TIMER = f"projects/{PROJECT}/locations/us-central1/workflows/{TIMER_ID}"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, pubsub_emulator: PubSubEmulator) -> Iterator[Engine]:
    store = Store(Path(tmp_path_factory.mktemp("engine")) / "engine.sqlite")
    settings = ConnectorSettings(pubsub_host=pubsub_emulator.host, project=PROJECT)
    engine = Engine(store, VirtualClock(start=None), project=PROJECT, connector_settings=settings)
    engine.deploy(TIMER_ID, platform_workflow_source("delegation_timer"), {"APPROVALS_EVENTS_TOPIC": TOPIC})
    yield engine
    engine.close()
    store.close()


@pytest.fixture(scope="module")
def executions_api(engine: Engine) -> Iterator[ExecutionsService]:
    with ExecutionsService(engine) as service:
        yield service


def delegate_function(env: dict[str, str], api: ExecutionsService, timer: str) -> FunctionServer:
    return FunctionServer(
        "delegate",
        {**env, "WORKFLOWS_EMULATOR_GRPC_HOST": api.host, "APPROVALS_DELEGATION_TIMER_WORKFLOW": timer},
    )


@pytest.fixture(scope="module")
def delegate(function_env: dict[str, str], executions_api: ExecutionsService) -> Iterator[FunctionServer]:
    with delegate_function(function_env, executions_api, TIMER) as function:
        yield function


def timer_of(engine: Engine, db: firestore.Client, delegator: str) -> ExecutionRecord:
    """The timer execution the stored delegation of ``delegator`` names."""
    stored = seed.get(db, seed.DELEGATIONS, delegator)
    assert stored is not None
    return engine.get(stored["timer_execution"].rsplit("/", 1)[-1])


def iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def in_days(days: float) -> dt.datetime:
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(days=days)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def test_delegation_is_stored_shown_and_deleted(
    delegate: FunctionServer, db: firestore.Client, identity: IdentityProvider
) -> None:
    starts_at, ends_at = in_days(1), in_days(8)

    created = call(
        delegate,
        "POST",
        identity.mint(ALICE),
        {"delegate": "Bob@Example.com", "starts_at": iso(starts_at), "ends_at": iso(ends_at)},
    )

    assert created.status_code == 200, created.text
    shown = created.json()
    assert shown.pop("created_at").endswith("Z")
    assert shown == {
        "delegator": ALICE,
        "delegate": BOB,
        "starts_at": iso(starts_at),
        "ends_at": iso(ends_at),
    }
    document = seed.get(db, seed.DELEGATIONS, ALICE)
    assert document is not None
    assert (document["delegate"], document["starts_at"], document["ends_at"]) == (BOB, starts_at, ends_at)

    mine = call(delegate, "GET", identity.mint(ALICE)).json()
    assert mine == {"delegation": created.json(), "delegated_to_me": []}
    theirs = call(delegate, "GET", identity.mint(BOB)).json()
    assert theirs == {"delegation": None, "delegated_to_me": [created.json()]}

    assert call(delegate, "DELETE", identity.mint(ALICE)).json() == {"deleted": True}
    assert seed.get(db, seed.DELEGATIONS, ALICE) is None
    assert call(delegate, "DELETE", identity.mint(ALICE)).json() == {"deleted": False}


def test_starts_now_by_default_and_replaces_the_previous_one(
    delegate: FunctionServer, db: firestore.Client, identity: IdentityProvider
) -> None:
    assert call(delegate, "POST", identity.mint(ALICE), {"delegate": BOB, "ends_at": iso(in_days(2))}).ok
    before = dt.datetime.now(dt.UTC)

    replaced = call(delegate, "POST", identity.mint(ALICE), {"delegate": CAROL, "ends_at": iso(in_days(2))})

    assert replaced.status_code == 200, replaced.text
    document = seed.get(db, seed.DELEGATIONS, ALICE)
    assert document is not None
    assert document["delegate"] == CAROL
    assert before - dt.timedelta(seconds=1) <= document["starts_at"] <= dt.datetime.now(dt.UTC)
    assert call(delegate, "GET", identity.mint(BOB)).json()["delegated_to_me"] == []


def test_ended_delegations_are_not_listed_for_the_delegate(
    delegate: FunctionServer, db: firestore.Client, identity: IdentityProvider
) -> None:
    seed.delegation(db, ALICE, BOB, starts_in=dt.timedelta(days=-3), ends_in=dt.timedelta(days=-1))
    seed.delegation(db, CAROL, BOB)

    listed = call(delegate, "GET", identity.mint(BOB)).json()["delegated_to_me"]

    assert [d["delegator"] for d in listed] == [CAROL]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"delegate": "not-an-email", "ends_at": 1}, "delegate: must be an e-mail address"),
        ({"delegate": "Alice@Example.com", "ends_at": 1}, "delegate: must be someone else"),
        (
            {"delegate": BOB, "ends_at": "tomorrow"},
            "ends_at: must be an ISO 8601 date and time with a time zone",
        ),
        ({"delegate": BOB, "ends_at": "2030-01-01T00:00:00"}, "ends_at: must be an ISO 8601"),
        ({"delegate": BOB}, "ends_at: must be an ISO 8601"),
        ({"delegate": BOB, "ends_at": "2020-01-01T00:00:00Z"}, "ends_at: must be after starts_at"),
        ({"delegate": BOB, "ends_at": 91}, "ends_at: a delegation may last at most 90 days"),
        ({"delegate": BOB, "ends_at": 1, "why": "x"}, "why: is not allowed"),
        # The timer announcing its end must outlive it, and Workflows stops executions at a year.
        ({"delegate": BOB, "starts_at": 181, "ends_at": 182}, "starts_at: may be at most 180 days ahead"),
    ],
    ids=[
        "bad-email",
        "self",
        "ends-at-text",
        "ends-at-naive",
        "no-ends-at",
        "ends-before",
        "too-long",
        "extra",
        "starts-too-late",
    ],
)
def test_invalid_delegation_is_bad_request(
    delegate: FunctionServer,
    db: firestore.Client,
    identity: IdentityProvider,
    body: dict[str, Any],
    problem: str,
) -> None:
    # A number of days from now, as the page would send it.
    days = {f: iso(in_days(body[f])) for f in ("starts_at", "ends_at") if isinstance(body.get(f), int)}
    body = {**body, **days}

    response = call(delegate, "POST", identity.mint(ALICE), body)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid delegation"
    assert any(d.startswith(problem) for d in response.json()["details"]), response.json()
    assert seed.get(db, seed.DELEGATIONS, ALICE) is None


def test_anonymous_caller_is_unauthorized(delegate: FunctionServer) -> None:
    assert call(delegate, "GET", None).status_code == 401


def test_other_methods_are_not_allowed(delegate: FunctionServer, identity: IdentityProvider) -> None:
    response = call(delegate, "PUT", identity.mint(ALICE), {})

    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST, DELETE"


def test_delegate_is_stamped_on_the_pending_requests_only(
    delegate: FunctionServer, db: firestore.Client, identity: IdentityProvider
) -> None:
    pending = seed.request(db, approvers=[ALICE, "group:reviewers"])
    decided = seed.request(db, approvers=[ALICE], status="approved")
    not_mine = seed.request(db, approvers=[CAROL])

    response = call(delegate, "POST", identity.mint(ALICE), {"delegate": BOB, "ends_at": iso(in_days(2))})

    assert response.status_code == 200, response.text
    assert seed.stamps(db, pending) == ([BOB], {BOB: ALICE})
    assert seed.stamps(db, decided) == (None, None)
    assert seed.stamps(db, not_mine) == (None, None)


def test_replacing_or_deleting_the_delegation_restamps(
    delegate: FunctionServer, db: firestore.Client, identity: IdentityProvider
) -> None:
    # Carol's own delegate stays whatever Alice does.
    request_id = seed.request(db, approvers=[ALICE, CAROL], quorum=2)
    seed.delegation(db, CAROL, "dave@example.com")
    assert call(delegate, "POST", identity.mint(ALICE), {"delegate": BOB, "ends_at": iso(in_days(2))}).ok
    assert seed.stamps(db, request_id) == (
        [BOB, "dave@example.com"],
        {BOB: ALICE, "dave@example.com": CAROL},
    )

    replaced = call(
        delegate, "POST", identity.mint(ALICE), {"delegate": "erin@example.com", "ends_at": iso(in_days(2))}
    )

    assert replaced.status_code == 200, replaced.text
    assert seed.stamps(db, request_id) == (
        ["dave@example.com", "erin@example.com"],
        {"dave@example.com": CAROL, "erin@example.com": ALICE},
    )

    assert call(delegate, "DELETE", identity.mint(ALICE)).json() == {"deleted": True}

    assert seed.stamps(db, request_id) == (["dave@example.com"], {"dave@example.com": CAROL})


def test_deleting_the_delegation_clears_the_stamp(
    delegate: FunctionServer, db: firestore.Client, identity: IdentityProvider
) -> None:
    request_id = seed.request(db, approvers=[ALICE])
    assert call(delegate, "POST", identity.mint(ALICE), {"delegate": BOB, "ends_at": iso(in_days(2))}).ok
    assert seed.stamps(db, request_id) == ([BOB], {BOB: ALICE})

    assert call(delegate, "DELETE", identity.mint(ALICE)).json() == {"deleted": True}

    assert seed.stamps(db, request_id) == ([], {})


def test_a_delegation_not_yet_started_is_not_stamped(
    delegate: FunctionServer, db: firestore.Client, identity: IdentityProvider
) -> None:
    request_id = seed.request(db, approvers=[ALICE])
    body = {"delegate": BOB, "starts_at": iso(in_days(1)), "ends_at": iso(in_days(3))}

    assert call(delegate, "POST", identity.mint(ALICE), body).ok

    assert seed.stamps(db, request_id) == (None, None)


def test_a_delegation_starts_the_timer_that_announces_its_start_and_end(
    delegate: FunctionServer,
    db: firestore.Client,
    identity: IdentityProvider,
    engine: Engine,
    subscription: Subscription,
) -> None:
    starts_at, ends_at = in_days(1), in_days(3)

    created = call(
        delegate,
        "POST",
        identity.mint(DORA),
        {"delegate": BOB, "starts_at": iso(starts_at), "ends_at": iso(ends_at)},
    )

    assert created.status_code == 200, created.text
    assert "timer_execution" not in created.json(), "the API does not show the timer"
    timer = timer_of(engine, db, DORA)
    assert (timer.workflow, timer.state) == (TIMER_ID, ACTIVE)
    assert timer.argument == {
        "delegator": DORA,
        "moments": [
            {"event": "delegation_started", "at": iso(starts_at)},
            {"event": "delegation_ended", "at": iso(ends_at)},
        ],
    }

    # The timer sleeps until each moment, then announces it on the events topic (with the
    # timers of other tests' delegations that end by then: dora delegates only here).
    engine.advance(ends_at.timestamp() - engine.clock.now() + 1)
    assert engine.wait(timer.id, timeout=10).state == SUCCEEDED
    announced = [json.loads(base64.b64decode(m["data"])) for m in subscription.drain()]
    assert [(e["event"], e["delegator"], e["at"]) for e in announced if e["delegator"] == DORA] == [
        ("delegation_started", DORA, iso(starts_at)),
        ("delegation_ended", DORA, iso(ends_at)),
    ]


def test_replacing_or_deleting_a_delegation_cancels_its_timer(
    delegate: FunctionServer, db: firestore.Client, identity: IdentityProvider, engine: Engine
) -> None:
    """Sleeping timers count against the project's concurrent executions: one per delegator."""
    # Ends later than any other test moves the engine's clock.
    assert call(delegate, "POST", identity.mint(CAROL), {"delegate": BOB, "ends_at": iso(in_days(30))}).ok
    first = timer_of(engine, db, CAROL)
    # One that starts now only has its end ahead.
    assert [m["event"] for m in first.argument["moments"]] == ["delegation_ended"]

    assert call(delegate, "POST", identity.mint(CAROL), {"delegate": ALICE, "ends_at": iso(in_days(31))}).ok
    second = timer_of(engine, db, CAROL)
    assert engine.get(first.id).state == CANCELLED
    assert second.state == ACTIVE

    assert call(delegate, "DELETE", identity.mint(CAROL)).json() == {"deleted": True}
    assert engine.get(second.id).state == CANCELLED


def test_a_delegation_whose_end_cannot_be_scheduled_is_not_stored(
    function_env: dict[str, str],
    executions_api: ExecutionsService,
    db: firestore.Client,
    identity: IdentityProvider,
) -> None:
    missing = TIMER.replace(TIMER_ID, "no-such-timer")
    with delegate_function(function_env, executions_api, missing) as unscheduled:
        response = call(
            unscheduled, "POST", identity.mint(ALICE), {"delegate": BOB, "ends_at": iso(in_days(2))}
        )
        log = unscheduled.output()

    assert response.status_code == 502
    error = response.json()["error"]
    assert error.startswith("could not schedule the delegation's end (incident ")
    assert "no-such-timer" in log and "no-such-timer" not in error
    # Without its timer the delegate would read the approver's requests after it ends.
    assert seed.get(db, seed.DELEGATIONS, ALICE) is None
