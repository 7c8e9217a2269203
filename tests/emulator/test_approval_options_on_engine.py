"""request_approval's options on the engine, with the real Firestore emulator and a virtual clock.

The decide function counts votes; here the callback carries its verdict, as
decide sends it once the quorum is met. What is tested is the workflow's
side: reminders while waiting, escalation at the first deadline, expiry at
the last, self-approval refused, the environment's approval mode, and
options checked before anyone is asked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from google.cloud import firestore

from approvals.emulator.firestore import FirestoreEmulator
from approvals.engine.api.server import WorkflowsServer, loopback_url
from approvals.engine.runtime.clock import VirtualClock
from approvals.engine.runtime.connectors import ConnectorSettings
from approvals.engine.runtime.engine import Engine
from approvals.engine.runtime.store import Store
from approvals.workflow_templates import load_template, render
from tests.emulator.conftest import CallBack
from tests.support import PROJECT, seed
from tests.templates.examples import PLATFORM_ENV

HOUR = 3600
DAY = 24 * HOUR
REQUESTER = "rita@example.com"
ALICE = "alice@example.com"
BOB = "bob@example.com"
BOSS = "boss@example.com"

# A team's workflow: every request_approval argument comes from the execution input.
TEAM_WORKFLOW = """\
main:
  params: [input]
  steps:
    - ask:
        call: request_approval
        args:
          request_id: ${input.request_id}
          subject: "Ship it?"
          payload:
            change: ${input.request_id}
          requester: ${input.requester}
          approvers: ${default(map.get(input, "approvers"), null)}
          timeout_seconds: ${default(map.get(input, "timeout_seconds"), null)}
          options: ${default(map.get(input, "options"), {})}
        result: decision
    - answer:
        return: ${decision}
"""


class Approvals:
    """Starts the team workflow under an APPROVAL_POLICY, decides, and reads Firestore."""

    def __init__(self, engine: Engine, db: firestore.Client, call_back: CallBack, source: str) -> None:
        self.engine = engine
        self.db = db
        self.call_back = call_back
        self.source = source
        self.deployed = 0

    def start(self, policy: dict[str, Any], **argument: Any) -> str:
        self.deployed += 1
        name = f"team-{self.deployed}"
        env = {**PLATFORM_ENV, "APPROVAL_TEMPLATE": "team", "APPROVAL_POLICY": json.dumps(policy)}
        self.engine.deploy(name, self.source, env)
        request_id = f"req-{self.deployed}"
        execution = self.engine.start(name, {"request_id": request_id, "requester": REQUESTER, **argument})
        self.engine.wait_idle()
        return execution.id

    def request(self, request_id: str) -> dict[str, Any]:
        return seed.stored(self.db, request_id)

    def events(self, request_id: str) -> list[tuple[str, str, dict[str, Any]]]:
        return seed.trail(self.db, request_id)

    def decide(
        self, request_id: str, approver: str, outcome: str = "approved", round_: str = "initial"
    ) -> None:
        """Record ``approver``'s deciding vote and send the callback, as decide does."""
        body = {
            "request_id": request_id,
            "outcome": outcome,
            "approver": approver,
            "principal": approver,
            "comment": "",
            "decided_at": self.now().isoformat(),
        }
        seed.claim(self.db, body, round_=round_)
        self.send_callback(request_id, body)

    def send_callback(self, request_id: str, body: dict[str, Any]) -> None:
        """POST ``body`` to the request's callback, as decide does once it recorded a decision."""
        callback = seed.get(self.db, seed.CALLBACKS, request_id)
        assert callback is not None
        response = self.call_back(callback["url"], body)
        assert response.status_code == 200, response.text
        self.engine.wait_idle()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.engine.clock.now(), UTC)

    def state(self, execution_id: str) -> str:
        return self.engine.get(execution_id).state

    def result(self, execution_id: str) -> Any:
        record = self.engine.get(execution_id)
        assert record.state == "SUCCEEDED", record.error
        return record.result


@pytest.fixture
def approvals(
    store: Store,
    clock: VirtualClock,
    firestore_emulator: FirestoreEmulator,
    db: firestore.Client,
    call_back: CallBack,
    tmp_path: Path,
) -> Iterator[Approvals]:
    path = tmp_path / "team.yaml"
    path.write_text(TEAM_WORKFLOW, encoding="utf-8")
    source = render(load_template(path), {**PLATFORM_ENV, "APPROVAL_POLICY": "{}"})
    settings = ConnectorSettings(firestore_host=firestore_emulator.host, project=PROJECT)
    engine = Engine(store, clock, project=PROJECT, connector_settings=settings, base_url=loopback_url())
    with WorkflowsServer(engine):
        yield Approvals(engine, db, call_back, source)
    engine.close()


def test_hourly_reminders_for_three_days_then_escalation_then_expiry(approvals: Approvals) -> None:
    options = {
        "reminder_every": HOUR,
        "escalate_to": {"approvers": [BOSS], "timeout_seconds": DAY},
    }
    execution_id = approvals.start({}, approvers=[ALICE], timeout_seconds=3 * DAY, options=options)
    created = approvals.now()

    approvals.engine.advance(3 * DAY - 1)
    request = approvals.request("req-1")
    # One an hour while pending, none at the deadline itself.
    assert request["reminders_sent"] == 71
    assert request["last_reminder_at"] == created + timedelta(hours=71)
    assert request["escalated"] is False
    assert request["approvers"] == [ALICE]

    approvals.engine.advance(1)
    escalated = approvals.request("req-1")
    assert escalated["escalated"] is True
    assert escalated["escalated_at"] == created + timedelta(days=3)
    assert escalated["approvers"] == [BOSS]
    assert escalated["rules"] == [{"name": "escalation", "approvers": [BOSS], "quorum": 1}]
    assert escalated["due_at"] == created + timedelta(days=4)
    assert escalated["expires_at"] == created + timedelta(days=4)
    assert escalated["status"] == "pending"
    assert approvals.state(execution_id) == "ACTIVE"

    approvals.engine.advance(DAY)
    expired = approvals.request("req-1")
    assert expired["status"] == "expired"
    assert expired["reminders_sent"] == 71 + 23
    assert approvals.result(execution_id)["status"] == "expired"

    events = [event for event, _, _ in approvals.events("req-1")]
    assert events == ["requested", *["reminder"] * 71, "escalated", *["reminder"] * 23, "expired"]


def test_after_escalation_only_the_new_approvers_decide(approvals: Approvals) -> None:
    options = {"escalate_to": {"approvers": [BOSS], "timeout_seconds": DAY}}
    execution_id = approvals.start({}, approvers=[ALICE], timeout_seconds=DAY, options=options)
    approvals.engine.advance(DAY)

    # An hour apart, so the audit trail orders them by time. decide refuses alice now (403): a
    # callback in her name, with no decision recorded in the escalation round, decides nothing.
    approvals.engine.advance(HOUR)
    body = {"request_id": "req-1", "outcome": "approved", "approver": ALICE, "principal": ALICE}
    approvals.send_callback("req-1", body)
    assert approvals.state(execution_id) == "ACTIVE"
    approvals.engine.advance(HOUR)
    approvals.decide("req-1", BOSS, "rejected", round_="escalation")

    assert approvals.result(execution_id)["status"] == "rejected"
    assert [(event, actor) for event, actor, _ in approvals.events("req-1")] == [
        ("requested", REQUESTER),
        ("escalated", "workflow"),
        ("invalid_callback", ALICE),
        ("decided", BOSS),
    ]


@pytest.mark.parametrize("prevent", [True, False])
def test_the_requester_cannot_approve_their_own_request_unless_allowed(
    approvals: Approvals, prevent: bool
) -> None:
    execution_id = approvals.start(
        {"prevent_self_approval": prevent}, approvers=[ALICE, REQUESTER], timeout_seconds=DAY
    )

    # An hour later, so that the audit trail orders the events by time.
    approvals.engine.advance(HOUR)
    approvals.decide("req-1", REQUESTER)

    if prevent:
        assert approvals.state(execution_id) == "ACTIVE"
        [*_, (event, _, details)] = approvals.events("req-1")
        assert (event, details) == (
            "invalid_callback",
            # The requester's own vote is not counted: nothing decides the request.
            {"problem": "the recorded votes do not decide approved"},
        )
    else:
        assert approvals.result(execution_id)["approver"] == REQUESTER


def test_auto_mode_approves_at_once_and_is_audited(approvals: Approvals) -> None:
    execution_id = approvals.start({"mode": "auto"}, approvers=[ALICE], timeout_seconds=DAY)

    outcome = approvals.result(execution_id)
    assert (outcome["status"], outcome["approver"]) == ("approved", "approvals-bot")
    request = approvals.request("req-1")
    assert (request["status"], request["decided_by"], request["mode"]) == (
        "approved",
        "approvals-bot",
        "auto",
    )
    # Both at the same instant: the trail is keyed by event, not ordered.
    events = {event: (actor, details) for event, actor, details in approvals.events("req-1")}
    assert set(events) == {"requested", "decided"}
    assert events["decided"][0] == "approvals-bot"
    assert events["decided"][1]["identity_source"] == "auto-mode"
    # Nobody was asked, so there is no callback to leak or deliver to.
    assert seed.get(approvals.db, seed.CALLBACKS, "req-1") is None


@pytest.mark.parametrize(("mode", "stored_quorum"), [("single", 1), ("quorum", 2)])
def test_single_mode_asks_one_approver_and_quorum_mode_keeps_the_quorum(
    approvals: Approvals, mode: str, stored_quorum: int
) -> None:
    approvals.start({"mode": mode, "quorum": 2}, approvers=[ALICE, BOSS, "group:ops"], timeout_seconds=DAY)

    request = approvals.request("req-1")
    assert request["rules"] == [
        {"name": "approvers", "approvers": [ALICE, BOSS, "group:ops"], "quorum": stored_quorum}
    ]
    assert request["approver_groups"] == ["ops"]
    assert request["tally"] == {
        "approvals": 0,
        "rejections": 0,
        "rules": {"approvers": 0},
        "voters": [],
        "seats": {},
    }


def test_rules_store_every_approver_once_and_the_votes_come_back(approvals: Approvals) -> None:
    rules = [
        {"name": "finance", "approvers": ["group:finance", ALICE]},
        {"name": "legal", "approvers": ["group:legal", ALICE], "quorum": 1},
    ]
    execution_id = approvals.start({"mode": "quorum"}, timeout_seconds=DAY, options={"rules": rules})
    request = approvals.request("req-1")
    assert request["approvers"] == ["group:finance", ALICE, "group:legal"]
    assert request["approver_groups"] == ["finance", "legal"]
    assert request["tally"]["rules"] == {"finance": 0, "legal": 0}

    approvals.decide("req-1", ALICE)

    assert approvals.result(execution_id)["votes"] == [
        {"approver": ALICE, "outcome": "approved", "comment": ""}
    ]


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"quorum": 3}, "rule approvers needs 3 approvals but names only 2 approvers"),
        ({"rules": [{"name": "legal", "approvers": []}]}, "rule legal has no approvers"),
        ({"escalate_to": {"approvers": [BOSS]}}, "escalate_to.timeout_seconds must be a positive integer"),
        ({"reminder_every": "hourly"}, "reminder_every must be a positive number of seconds"),
    ],
)
def test_options_nobody_could_meet_fail_before_anyone_is_asked(
    approvals: Approvals, options: dict[str, Any], problem: str
) -> None:
    execution_id = approvals.start(
        {"mode": "quorum"}, approvers=[ALICE, BOSS], timeout_seconds=DAY, options=options
    )

    record = approvals.engine.get(execution_id)
    assert record.state == "FAILED"
    assert record.error["tags"] == ["ValueError"]
    assert record.error["message"] == f"request_approval req-1: {problem}"
    assert seed.get(approvals.db, seed.REQUESTS, "req-1") is None


def test_a_decision_made_before_the_deadline_counts_after_the_escalation_began(approvals: Approvals) -> None:
    """alice's deciding vote committed just before the deadline, its callback came after the workflow
    escalated: the votes of the round the decision was made in decide it."""
    options = {"escalate_to": {"approvers": [BOSS], "timeout_seconds": DAY}}
    execution_id = approvals.start({}, approvers=[ALICE], timeout_seconds=DAY, options=options)
    body = {
        "request_id": "req-1",
        "outcome": "approved",
        "approver": ALICE,
        "principal": ALICE,
        "comment": "",
    }
    seed.claim(approvals.db, body)
    approvals.engine.advance(DAY)
    assert approvals.request("req-1")["escalated"] is True
    approvals.engine.advance(HOUR)  # so that the trail orders the events by time

    approvals.send_callback("req-1", body)

    outcome = approvals.result(execution_id)
    assert (outcome["status"], outcome["approver"]) == ("approved", ALICE)
    assert [event for event, _, _ in approvals.events("req-1")] == ["requested", "escalated", "decided"]


def test_principals_are_stored_lower_case_for_the_rules_and_the_functions(approvals: Approvals) -> None:
    """The Firestore rules compare caller() (lower-case) and the membership's group names as stored."""
    rules = [{"name": "finance", "approvers": ["Group:Finance", "ALICE@Example.com"]}]
    approvals.start({"mode": "quorum"}, timeout_seconds=DAY, options={"rules": rules})

    request = approvals.request("req-1")
    assert request["approvers"] == ["group:finance", ALICE]
    assert request["approver_groups"] == ["finance"]
    assert request["rules"] == [{"name": "finance", "approvers": ["group:finance", ALICE], "quorum": 1}]
