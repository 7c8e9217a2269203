"""Writes the documents the workflow and Pulumi would write."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from google.cloud import firestore

from tests.support import PROJECT

REQUESTS = "approval_requests"
CALLBACKS = "approval_callbacks"
WORKFLOWS = "approval_workflows"
AUDIT = "approval_audit"
DELEGATIONS = "approval_delegations"
LINK_USES = "approval_link_uses"
MEMBERSHIPS = "approval_memberships"
REQUESTERS = "approval_requesters"
STARTS = "approval_starts"
REQUESTER = "requester@example.com"
EXECUTION_NAME = f"projects/{PROJECT}/locations/us-central1/workflows/wf/executions/exec-1"


def default_options(approvers: Sequence[str], mode: str) -> dict[str, Any]:
    """What request_approval stores of its options when the template and the policy give none."""
    return {
        "mode": mode,
        "rules": [{"name": "approvers", "approvers": list(approvers), "quorum": 1}],
        "rejection_quorum": 1,
        "prevent_self_approval": True,
        "votes_visible": "always",
        "reminder_every_seconds": None,
        "reminders_sent": 0,
        "escalation": None,
        "escalated": False,
        "tally": {"approvals": 0, "rejections": 0, "rules": {"approvers": 0}, "voters": [], "seats": {}},
    }


def request(
    db: firestore.Client,
    *,
    approvers: Sequence[str],
    status: str = "pending",
    due_in: dt.timedelta = dt.timedelta(hours=1),
    callback_url: str | None = None,
    request_id: str | None = None,
    quorum: int = 1,
    rules: Sequence[Mapping[str, Any]] | None = None,
    rejection_quorum: int = 1,
    requester: str = REQUESTER,
    prevent_self_approval: bool = True,
    mode: str = "single",
    execution_name: str = EXECUTION_NAME,
    expires_at: dt.datetime | None = None,
    payload: Mapping[str, Any] | None = None,
    origin_request_id: str | None = None,
    stage: str = "approval",
) -> str:
    """A request as the request_approval subworkflow stores it; returns its id.

    Without ``rules`` there is one rule "approvers" over ``approvers`` with ``quorum``.
    """
    request_id = request_id or uuid.uuid4().hex
    now = dt.datetime.now(dt.UTC)
    rules = (
        [dict(r) for r in rules]
        if rules is not None
        else [{"name": "approvers", "approvers": list(approvers), "quorum": quorum}]
    )
    db.collection(REQUESTS).document(request_id).set(
        {
            "request_id": request_id,
            # A later stage of a chain is filed under the id start answered.
            "origin_request_id": origin_request_id or request_id,
            "template": "translation_validation",
            "stage": stage,
            "status": status,
            "approvers": list(approvers),
            "approver_groups": [
                a.removeprefix("group:").lower() for a in approvers if a.startswith("group:")
            ],
            "requester": requester,
            "subject": "Check the translation",
            "payload": dict(payload) if payload is not None else {"text": "Hello", "translation": "Bonjour"},
            "workflow_id": "wf",
            "execution_id": execution_name.rsplit("/", 1)[-1],
            "execution_name": execution_name,
            "created_at": now,
            "due_at": now + due_in,
            "expires_at": expires_at or now + due_in,
            "rules": rules,
            "rejection_quorum": rejection_quorum,
            "prevent_self_approval": prevent_self_approval,
            "mode": mode,
            "reminder_every_seconds": None,
            "reminders_sent": 0,
            "escalation": None,
            "escalated": False,
            "tally": {
                "approvals": 0,
                "rejections": 0,
                "rules": {r["name"]: 0 for r in rules},
                "voters": [],
                "seats": {},
            },
        }
    )
    if callback_url:
        db.collection(CALLBACKS).document(request_id).set(
            {"url": callback_url, "method": "POST", "execution_id": "exec-1", "created_at": now}
        )
    return request_id


def delegation(
    db: firestore.Client,
    delegator: str,
    delegate: str,
    *,
    starts_in: dt.timedelta = dt.timedelta(hours=-1),
    ends_in: dt.timedelta = dt.timedelta(days=1),
) -> None:
    """A delegation as the delegate function stores it (active by default)."""
    now = dt.datetime.now(dt.UTC)
    db.collection(DELEGATIONS).document(delegator).set(
        {
            "delegator": delegator,
            "delegate": delegate,
            "starts_at": now + starts_in,
            "ends_at": now + ends_in,
            "created_at": now,
        }
    )


def membership(db: firestore.Client, email: str, groups: Sequence[str]) -> None:
    """A member's approver groups, as `pulumi up` stores them from ApprovalPlatformArgs.groups."""
    db.collection(MEMBERSHIPS).document(email).set({"groups": sorted(groups)})


def votes(db: firestore.Client, request_id: str) -> dict[str, dict[str, Any]]:
    """A request's vote documents, by voter."""
    return {
        s.id: s.to_dict() or {}
        for s in db.collection(REQUESTS).document(request_id).collection("votes").stream()
    }


def audit(db: firestore.Client, request_id: str) -> list[dict[str, Any]]:
    """A request's audit events, oldest first."""
    found = db.collection(AUDIT).where(filter=firestore.FieldFilter("request_id", "==", request_id)).stream()
    return sorted((s.to_dict() or {} for s in found), key=lambda e: e["at"])


def trail(db: firestore.Client, request_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """A request's audit events as (event, actor, details), oldest first."""
    return [(event["event"], event["actor"], event["details"]) for event in audit(db, request_id)]


def workflow(
    db: firestore.Client,
    key: str,
    workflow_name: str,
    input_schema: dict[str, Any],
    *,
    requesters: Sequence[str] = ("domain:example.com",),
    max_pending: int = 10,
) -> None:
    """A registry entry as the Pulumi component writes it."""
    db.collection(WORKFLOWS).document(key).set(
        {
            "workflow_name": workflow_name,
            "template": "translation_validation",
            "input_schema": json.dumps(input_schema),
            "requesters": json.dumps(list(requesters)),
            "max_pending_per_requester": max_pending,
        }
    )


def get(db: firestore.Client, collection: str, document: str) -> dict[str, Any] | None:
    """A document's data, or None."""
    return db.collection(collection).document(document).get().to_dict()


def stored(db: firestore.Client, request_id: str) -> dict[str, Any]:
    """The request document, which must exist."""
    document = get(db, REQUESTS, request_id)
    assert document is not None, f"no request {request_id}"
    return document


def stamps(db: firestore.Client, request_id: str) -> tuple[Any, Any]:
    """The request's (delegates, stand_in_for) stamps, None where absent."""
    request = stored(db, request_id)
    return request.get("delegates"), request.get("stand_in_for")


Vote = tuple[str, Sequence[str], str, str]  # (voter, principals, outcome, comment)


def vote(db: firestore.Client, request_id: str, cast: Vote, round_: str = "initial") -> None:
    """One vote as decide stores it (votes/{voter}, or {round}:{voter} after an escalation)."""
    voter, principals, outcome, comment = cast
    db.collection(REQUESTS).document(request_id).collection("votes").document(
        voter if round_ == "initial" else f"{round_}:{voter}"
    ).set(
        {
            "voter": voter,
            "principals": list(principals),
            "outcome": outcome,
            "comment": comment,
            "round": round_,
            "at": dt.datetime.now(dt.UTC),
        }
    )


def claim(
    db: firestore.Client,
    body: Mapping[str, Any],
    votes: Sequence[Vote] | None = None,
    round_: str = "initial",
) -> None:
    """What decide's transaction writes before it calls the workflow back with ``body``: the votes
    (by default the decider's own), the decision on the callback document, and the request in
    ``deciding`` (with the decision, as when votes are not sealed).
    """
    ref = db.collection(REQUESTS).document(body["request_id"])
    for cast in votes or [(body["approver"], [body["principal"]], body["outcome"], body.get("comment", ""))]:
        vote(db, body["request_id"], cast, round_)
    decision = {key: body[key] for key in ("outcome", "approver", "principal") if key in body}
    decision |= {"comment": body.get("comment", ""), "round": round_}
    db.collection(CALLBACKS).document(body["request_id"]).set({"decision": decision}, merge=True)
    ref.update({"status": "deciding", "decision": decision})


def start_record(db: firestore.Client, request_id: str, requester: str, workflow_id: str) -> None:
    """What the start function records of a start: the workflow then marks its requester verified."""
    db.collection(STARTS).document(request_id).set(
        {"requester": requester, "workflow_id": workflow_id, "started_at": dt.datetime.now(dt.UTC)}
    )
