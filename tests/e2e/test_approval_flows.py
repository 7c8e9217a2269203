"""Approval flows end to end on the local dev stack, over HTTP only.

A requester starts a workflow through /api/start; the request appears in
Firestore for its approvers (read with their ID tokens, so the security rules
apply); an approver decides through /api/decide; the engine's Executions API
shows how the execution ended. Approvers, timeouts and parameters are those of
Pulumi.dev.yaml.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests

from tests.e2e.stack_client import Client, Started
from tests.support import seed

REQUESTER = "carol@example.com"  # asks, approves nothing
STRANGER = "mallory@example.com"  # neither asks nor approves
REVIEWER = "rex@example.com"  # approves translations as a member of group:reviewers (Pulumi.dev.yaml)
REVIEWERS = "group:reviewers"
ALICE = "alice@example.com"
BOB = "bob@example.com"
FINANCE = "finance@example.com"
# The local translator's output: the text behind a marker, plainly not a translation.
TRANSLATED = "[local translation en→fr] Hello"

Document = dict[str, Any]


@dataclass(frozen=True)
class Stage:
    """What a pending request of one approval stage holds (besides ids and times)."""

    template: str
    stage: str
    approvers: tuple[str, ...]
    timeout: int
    subject: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Flow:
    """A workflow of the dev stack: how to start it, its first stage, and the result its decisions give."""

    workflow: str  # the registry key /api/start takes
    given: dict[str, Any]
    first: Stage
    result: Callable[[Sequence[Document]], Any]  # from each stage's final request document
    outsiders: tuple[str, ...] = field(default=())  # signed-in approvers of other workflows only


def step(document: Document) -> dict[str, Any]:
    """request_approval's result, as the final request `document` records it."""
    decided = document["status"] != "expired"
    return {
        "request_id": document["request_id"],
        "status": document["status"],
        "approved": document["status"] == "approved",
        "approver": document["decided_by"] if decided else None,
        "comment": document["comment"] if decided else "",
        "decided_at": document["decided_at"] if decided else None,
        # In these flows one vote decides each stage: the decider's.
        "votes": [
            {
                "approver": document["decided_by"],
                "outcome": document["status"],
                "comment": document["comment"],
            }
        ]
        if decided
        else [],
    }


def translation_result(documents: Sequence[Document]) -> dict[str, Any]:
    return {"text": "Hello", "translation": TRANSLATED, "approved": documents[-1]["status"] == "approved"}


def expense_result(documents: Sequence[Document]) -> dict[str, Any]:
    return {"approved": documents[-1]["status"] == "approved", "stages": [step(d) for d in documents]}


TRANSLATION = Flow(
    workflow="translation-validation",
    given={"text": "Hello"},
    first=Stage(
        template="translation_validation",
        stage="validation",
        approvers=(ALICE, BOB, REVIEWERS),
        timeout=3600,
        subject="Validate the en to fr translation",
        payload={
            "text": "Hello",
            "translation": TRANSLATED,
            "source_language": "en",
            "target_language": "fr",
        },
    ),
    result=translation_result,
)
SMALL_EXPENSE = {"amount": 250, "currency": "EUR", "reason": "Train tickets"}
EXPENSE = Flow(
    workflow="expense-approval",
    given=SMALL_EXPENSE,  # at most the threshold (1000): one stage
    first=Stage(
        template="expense_approval",
        stage="manager",
        approvers=(ALICE,),
        timeout=86400,
        subject="Expense of 250 EUR - Train tickets",
        payload=SMALL_EXPENSE,
    ),
    result=expense_result,
    outsiders=(BOB,),  # approves translations, not expenses
)
FLOWS = pytest.mark.parametrize("flow", [TRANSLATION, EXPENSE], ids=lambda flow: flow.workflow)


def read_times(value: Any) -> Any:
    """An execution result with its RFC 3339 decided_at fields read as times, to compare with Firestore's."""
    if isinstance(value, dict):
        return {
            key: datetime.fromisoformat(item)
            if key == "decided_at" and isinstance(item, str)
            else read_times(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [read_times(item) for item in value]
    return value


def pending(client: Client, started: Started, stage: Stage, request_id: str | None = None) -> Document:
    """Check the request waits for `stage`'s approvers, as they and the requester see it; return it."""
    request_id = request_id or started.request_id
    callbacks = client.wait_until_awaiting(started.execution)
    response = client.read_document(stage.approvers[0], f"approval_requests/{request_id}")
    assert response.status_code == 200, response.text
    # Whoever holds a callback URL can decide: no client may ever see one.
    for callback in callbacks:
        assert callback["name"].rsplit("/", 1)[-1] not in response.text
    document = client.request(stage.approvers[0], request_id)
    created = document["created_at"]
    assert document == {
        "request_id": request_id,
        # Started through /api/start, which recorded who asked.
        "origin_request_id": started.request_id,
        "requester_verified": True,
        "template": stage.template,
        "stage": stage.stage,
        "status": "pending",
        "approvers": list(stage.approvers),
        "approver_groups": [a.removeprefix("group:") for a in stage.approvers if a.startswith("group:")],
        "requester": REQUESTER,
        "subject": stage.subject,
        "payload": stage.payload,
        "workflow_id": started.workflow_id,
        "execution_id": started.execution_id,
        "execution_name": started.execution,
        # The dev stack's approval mode.
        **seed.default_options(stage.approvers, "quorum"),
        "created_at": created,
        "due_at": created + timedelta(seconds=stage.timeout),
        "expires_at": created + timedelta(seconds=stage.timeout),
    }
    assert client.request(REQUESTER, request_id) == document
    return document


def decide(client: Client, approver: str, request_id: str, outcome: str, comment: str = "") -> None:
    response = client.decide(approver, request_id, outcome, comment)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert {k: answer[k] for k in ("request_id", "outcome", "status")} == {
        "request_id": request_id,
        "outcome": outcome,
        "status": "deciding",
    }
    assert answer["tally"]["voters"] == [approver]


def decided(client: Client, before: Document, approver: str, outcome: str, comment: str) -> Document:
    """Check the workflow recorded `approver`'s decision on the request; return the final document."""
    document = client.request(approver, before["request_id"])
    claim = document["decision"]  # what decide wrote when it claimed the request
    assert claim == {
        "outcome": outcome,
        "approver": approver,
        "principal": approver,
        "comment": comment,
        "decided_at": claim["decided_at"],
        "round": "initial",
    }
    approvals = 1 if outcome == "approved" else 0
    assert document == {
        **before,
        "tally": {
            "approvals": approvals,
            "rejections": 1 - approvals,
            "rules": {"approvers": approvals},
            "voters": [approver],
            "seats": {approver: approver},
        },
        "status": outcome,
        "decided_by": approver,
        "comment": comment,
        "decided_at": document["decided_at"],
        "decision": claim,
        # A closed request keeps no delegates' stamps.
        "delegates": [],
        "stand_in_for": {},
    }
    assert document["decided_at"] >= before["created_at"]
    return document


def start(client: Client, flow: Flow) -> tuple[Started, Document]:
    started = client.start(REQUESTER, flow.workflow, flow.given)
    return started, pending(client, started, flow.first)


def still_waiting(client: Client, started: Started, before: Document) -> None:
    """Nothing reached the workflow: the request is unchanged and the execution waits, no decision queued."""
    assert client.request(before["approvers"][0], before["request_id"]) == before
    assert client.execution(started.execution)["state"] == "ACTIVE"
    assert [c["availablePayloads"] for c in client.callbacks(started.execution)] == [[]]


@FLOWS
@pytest.mark.parametrize("outcome", ["approved", "rejected"])
def test_an_approver_decides(client: Client, flow: Flow, outcome: str) -> None:
    """Start -> pending for the approvers -> decided through /api/decide -> the execution returns it."""
    started, before = start(client, flow)
    # The last approver named by e-mail: group members have their own test.
    approver = next(a for a in reversed(flow.first.approvers) if not a.startswith("group:"))

    decide(client, approver, started.request_id, outcome, "checked")

    result = client.result(started.execution)
    document = decided(client, before, approver, outcome, "checked")
    assert read_times(result) == flow.result([document])


def test_the_requester_sees_the_validated_translation(client: Client) -> None:
    """The seed's translation document, kept under the workflow's extension: readable by whoever asked."""
    started, _ = start(client, TRANSLATION)

    decide(client, ALICE, started.request_id, "approved")

    assert client.result(started.execution)["approved"] is True
    translation = f"approval_extensions/translation-validation/translations/{started.execution_id}"
    assert client.document(REQUESTER, translation) == {
        "text": "Hello",
        "translation": TRANSLATED,
        "approved": True,
        "requester": REQUESTER,
        "request_id": started.request_id,
    }
    assert client.read_document(STRANGER, translation).status_code == 403


@FLOWS
def test_someone_who_is_not_an_approver_cannot_decide(client: Client, flow: Flow) -> None:
    """403 for the requester, a stranger and other workflows' approvers; the real approver still can."""
    started, before = start(client, flow)

    for someone in (REQUESTER, STRANGER, *flow.outsiders):
        response = client.decide(someone, started.request_id, "approved")
        assert response.status_code == 403, (someone, response.text)
        assert response.json() == {"error": "you are not an approver of this request"}

    still_waiting(client, started, before)
    decide(client, flow.first.approvers[0], started.request_id, "rejected", "no")
    assert client.result(started.execution)["approved"] is False


@FLOWS
def test_a_double_click_records_one_decision(client: Client, flow: Flow) -> None:
    """Two concurrent decisions by the approver: one 200, one 409, and the workflow sees one decision."""
    started, before = start(client, flow)
    approver = flow.first.approvers[0]
    client.token(approver)  # sign in first, so that both clicks only decide
    both_ready = threading.Barrier(2)

    def click(_: int) -> requests.Response:
        both_ready.wait()
        return client.decide(approver, started.request_id, "approved", "click")

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(click, range(2)))

    assert sorted(response.status_code for response in responses) == [200, 409], [r.text for r in responses]
    refused = next(response for response in responses if response.status_code == 409)
    assert refused.json() == {"error": "the request was already decided"}
    result = client.result(started.execution)
    document = decided(client, before, approver, "approved", "click")
    assert read_times(result) == flow.result([document])
    # A third click, after the workflow recorded the decision, changes nothing either.
    assert client.decide(approver, started.request_id, "rejected").status_code == 409
    assert client.request(approver, started.request_id) == document


@FLOWS
def test_a_request_nobody_decides_expires(client: Client, flow: Flow) -> None:
    """Once the workflow's timeout has passed on the virtual clock, the request is expired, not failed."""
    started, before = start(client, flow)
    approver = flow.first.approvers[0]

    client.advance(flow.first.timeout - 1)
    still_waiting(client, started, before)
    client.advance(1)

    result = client.result(started.execution)
    document = client.request(approver, started.request_id)
    assert document == {
        **before,
        "status": "expired",
        "expired_at": before["due_at"],
        "delegates": [],
        "stand_in_for": {},
    }
    assert read_times(result) == flow.result([document])
    assert result["approved"] is False
    late = client.decide(approver, started.request_id, "approved")
    assert (late.status_code, late.json()) == (409, {"error": "the request has expired"})


@FLOWS
def test_a_request_survives_an_engine_restart(client: Client, flow: Flow) -> None:
    """The engine restarts while the request waits; the approval still completes the execution, once."""
    started, before = start(client, flow)
    approver = flow.first.approvers[0]

    client.restart_engine()

    still_waiting(client, started, before)
    client.wait_until_awaiting(started.execution)
    decide(client, approver, started.request_id, "approved", "after the restart")
    result = client.result(started.execution)
    document = decided(client, before, approver, "approved", "after the restart")
    assert read_times(result) == flow.result([document])
    assert [e["state"] for e in client.executions(started.execution) if e["name"] == started.execution] == [
        "SUCCEEDED"
    ]
    assert client.decide(approver, started.request_id, "rejected").status_code == 409


def test_a_large_expense_needs_finance_too(client: Client) -> None:
    """Above the threshold (1000), finance decides after the manager; finance sees who approved."""
    expense = {"amount": 2500, "currency": "EUR", "reason": "Conference"}
    subject = "Expense of 2500 EUR - Conference"
    manager = Stage("expense_approval", "manager", (ALICE,), 86400, subject, expense)
    started = client.start(REQUESTER, EXPENSE.workflow, expense)
    first = pending(client, started, manager)
    decide(client, ALICE, started.request_id, "approved", "fine by me")

    client.wait_until_awaiting(started.execution, callbacks=2)
    finance_id = f"{started.request_id}-finance"
    finance = Stage(
        "expense_approval",
        "finance",
        (FINANCE,),
        86400,
        subject,
        {**expense, "manager_approver": ALICE, "manager_comment": "fine by me"},
    )
    second = pending(client, started, finance, finance_id)
    assert client.decide(ALICE, finance_id, "approved").status_code == 403
    decide(client, FINANCE, finance_id, "approved", "within budget")

    result = client.result(started.execution)
    documents = [
        decided(client, first, ALICE, "approved", "fine by me"),
        decided(client, second, FINANCE, "approved", "within budget"),
    ]
    assert read_times(result) == expense_result(documents)


@FLOWS
def test_a_stranger_cannot_read_a_request(client: Client, flow: Flow) -> None:
    """The emulator applies the stack's rules: only the requester and the approvers read a request."""
    started, _ = start(client, flow)
    path = f"approval_requests/{started.request_id}"

    assert client.read_document(STRANGER, path).status_code == 403
    assert client.read_document(None, path).status_code == 403
    # Not even an approver reads the callback URL.
    assert (
        client.read_document(flow.first.approvers[0], f"approval_callbacks/{started.request_id}").status_code
        == 403
    )

    decide(client, flow.first.approvers[0], started.request_id, "rejected")
    client.result(started.execution)


def test_a_group_member_reads_and_decides_the_request_a_stranger_does_not(client: Client) -> None:
    """Pulumi.dev.yaml's approvals:groups declares rex in reviewers: the rules and decide look it up."""
    started, before = start(client, TRANSLATION)
    path = f"approval_requests/{started.request_id}"

    assert client.request(REVIEWER, started.request_id) == before
    assert client.read_document(STRANGER, path).status_code == 403

    decide(client, REVIEWER, started.request_id, "approved")
    assert client.request(REVIEWER, started.request_id)["decision"]["principal"] == "group:reviewers"
    assert client.result(started.execution)["approved"] is True


def test_a_decision_without_a_token_is_401(client: Client) -> None:
    started, before = start(client, TRANSLATION)

    response = client.decide(None, started.request_id, "approved")

    assert response.status_code == 401, response.text
    assert "error" in response.json()
    still_waiting(client, started, before)
    decide(client, ALICE, started.request_id, "rejected")
    client.result(started.execution)


def test_the_stack_reports_itself_healthy(client: Client) -> None:
    response = requests.get(f"{client.origin}/local/health", timeout=30)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok"
