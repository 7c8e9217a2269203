"""decide: records an approver's decision once and relays it to the workflow."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import flask
import functions_framework

from common import auth, callback, config, firestore
from common.responses import HttpError, post_json_endpoint, request_json

if TYPE_CHECKING:
    from google.cloud.firestore import DocumentReference, Transaction

OUTCOMES = ("approved", "rejected")
MAX_COMMENT_LENGTH = 2000
MAX_REQUEST_ID_LENGTH = 128

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decision:
    """What the approver asked for."""

    request_id: str
    outcome: str
    comment: str


def _parse(body: dict[str, Any]) -> Decision:
    problems = [f"{f}: is not allowed" for f in sorted(set(body) - {"request_id", "outcome", "comment"})]
    request_id = body.get("request_id")
    if (
        not isinstance(request_id, str)
        or not 0 < len(request_id) <= MAX_REQUEST_ID_LENGTH
        or "/" in request_id
    ):
        problems.append("request_id: must be a request id")
    outcome = body.get("outcome")
    if outcome not in OUTCOMES:
        problems.append(f"outcome: must be one of {list(OUTCOMES)}")
    comment = body.get("comment", "")
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT_LENGTH:
        problems.append(f"comment: must be a string of at most {MAX_COMMENT_LENGTH} characters")
    if problems:
        raise HttpError(400, "invalid decision", problems)
    return Decision(request_id, outcome, comment)


def _claim(ref: DocumentReference, decision: Decision, caller: auth.Caller, decided_at: datetime) -> str:
    """Move the request from pending to deciding; returns the matching principal."""
    from google.cloud.firestore import transactional

    @transactional
    def claim(transaction: Transaction) -> str:
        snapshot = ref.get(transaction=transaction)
        if not snapshot.exists:
            raise HttpError(404, "no such request")
        request = snapshot.to_dict() or {}
        principal = caller.match(request.get("approvers") or [])
        # Checked before the status so outsiders learn nothing about a request.
        if principal is None:
            raise HttpError(403, "you are not an approver of this request")
        due_at = request.get("due_at")
        status = request.get("status")
        if status == "expired" or (isinstance(due_at, datetime) and due_at <= decided_at):
            raise HttpError(409, "the request has expired")
        if status != "pending":
            raise HttpError(409, "the request was already decided")
        transaction.update(
            ref,
            {
                "status": "deciding",
                "decision": {
                    "outcome": decision.outcome,
                    "approver": caller.email,
                    "principal": principal,
                    "comment": decision.comment,
                    "decided_at": decided_at,
                },
            },
        )
        return principal

    from google.api_core.exceptions import Aborted

    try:
        return claim(firestore.client().transaction())
    except ValueError as exc:
        # The client retries an aborted transaction a few times, then raises
        # ValueError from the last Aborted: heavy contention on this very request,
        # i.e. concurrent decisions. Nothing was written; the approver may retry.
        if not isinstance(exc.__cause__, Aborted):
            raise
        logger.warning("claim of %s kept conflicting: %s", decision.request_id, exc)
        raise HttpError(503, "the request is being decided right now; try again") from exc


def _release(ref: DocumentReference, caller: auth.Caller, decided_at: datetime) -> None:
    """Undo our claim (only ours) so the approver can try again."""
    from google.cloud.firestore import DELETE_FIELD, transactional

    @transactional
    def release(transaction: Transaction) -> None:
        request = ref.get(transaction=transaction).to_dict() or {}
        decision = request.get("decision") or {}
        if (
            request.get("status") == "deciding"
            and decision.get("approver") == caller.email
            and decision.get("decided_at") == decided_at
        ):
            transaction.update(ref, {"status": "pending", "decision": DELETE_FIELD})

    release(firestore.client().transaction())


def _callback_target(request_id: str) -> tuple[str, str]:
    """The callback URL and method the workflow stored, or CallbackError."""
    snapshot = firestore.client().collection(config.callbacks_collection()).document(request_id).get()
    entry = snapshot.to_dict() or {}
    url = entry.get("url")
    if not isinstance(url, str) or not url:
        raise callback.CallbackError("the workflow has not stored a callback URL")
    return url, str(entry.get("method") or "POST")


@functions_framework.http
@post_json_endpoint
def decide(request: flask.Request) -> dict[str, Any]:
    """POST {request_id, outcome, comment?} -> {request_id, outcome, status}."""
    caller = auth.authenticate(request)
    decision = _parse(request_json(request))
    # Millisecond precision survives the Firestore round trip unchanged, which
    # _release relies on to recognise its own claim.
    now = datetime.now(UTC)
    decided_at = now.replace(microsecond=now.microsecond // 1000 * 1000)
    ref = firestore.client().collection(config.requests_collection()).document(decision.request_id)
    principal = _claim(ref, decision, caller, decided_at)
    try:
        url, method = _callback_target(decision.request_id)
        callback.deliver(
            url,
            {
                "request_id": decision.request_id,
                "outcome": decision.outcome,
                "approver": caller.email,
                "principal": principal,
                "comment": decision.comment,
                "decided_at": decided_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            },
            method,
        )
    except BaseException as exc:
        # Whatever went wrong, leave nothing half-written: the request goes
        # back to pending and the approver may decide again.
        _release(ref, caller, decided_at)
        if isinstance(exc, callback.CallbackError):
            logger.error("callback for %s failed: %s", decision.request_id, exc)
            raise HttpError(502, f"could not deliver the decision: {exc}") from exc
        raise
    logger.info("%s %s request %s as %s", caller.email, decision.outcome, decision.request_id, principal)
    return {"request_id": decision.request_id, "outcome": decision.outcome, "status": "deciding"}
