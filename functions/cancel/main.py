"""cancel: the requester withdraws a pending request and its workflow execution ends CANCELLED."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import flask
import functions_framework

from common import audit, auth, config, documents, events, executions, firestore, times
from common.responses import HttpError, bad_gateway, is_request_id, post_json_endpoint, request_json

if TYPE_CHECKING:
    from google.cloud.firestore import DocumentReference, Transaction

MAX_REASON_LENGTH = 2000
# Why a request cannot be cancelled, by status.
_CLOSED = {
    "cancelled": "the request was already cancelled",
    "expired": "the request has expired",
}

# Who stands in for the approvers (common.delegations): a cancelled request keeps none.
_STAMPS = ("delegates", "stand_in_for")

_T = TypeVar("_T")
logger = logging.getLogger(__name__)


def _parse(body: dict[str, Any]) -> tuple[str, str]:
    """The request id and reason, or a 400 listing every problem."""
    problems = [f"{f}: is not allowed" for f in sorted(set(body) - {"request_id", "reason"})]
    request_id = body.get("request_id")
    if not is_request_id(request_id):
        problems.append("request_id: must be a request id")
    reason = body.get("reason", "")
    if not isinstance(reason, str) or len(reason) > MAX_REASON_LENGTH:
        problems.append(f"reason: must be a string of at most {MAX_REASON_LENGTH} characters")
    if problems:
        raise HttpError(400, "invalid cancellation", problems)
    return request_id, reason


def _transact(ref: DocumentReference, change: Callable[[Transaction, dict[str, Any]], _T]) -> _T:
    """Run ``change(transaction, request)`` on the request in one transaction."""

    def run(transaction: Transaction) -> _T:
        snapshot = ref.get(transaction=transaction)
        if not snapshot.exists:
            raise HttpError(404, "no such request")
        return change(transaction, documents.read("request", snapshot))

    return firestore.run_transaction(ref.id, run, busy="the request is being changed right now; try again")


def _request(request_id: str) -> DocumentReference:
    """The request named ``request_id``, or, for the id start answered, its stage waiting now.

    A template that asks more than once (a chain, a second approval) names each
    request after the execution's request_id; each stores that id as its
    origin_request_id, so the requester cancels with the id they were given.
    """
    from google.cloud.firestore import FieldFilter

    requests = firestore.client().collection(config.requests_collection())
    # The first stage is often named by the origin id itself; a later one waits under its own.
    waiting = (
        requests.where(filter=FieldFilter("origin_request_id", "==", request_id))
        .where(filter=FieldFilter("status", "==", "pending"))
        .limit(1)
    )
    return next((snapshot.reference for snapshot in waiting.stream()), requests.document(request_id))


@functions_framework.http
@post_json_endpoint
def cancel(request: flask.Request) -> dict[str, Any]:
    """POST {request_id, reason?} -> {request_id, status: "cancelled"}."""
    caller = auth.authenticate(request)
    request_id, reason = _parse(request_json(request))
    ref = _request(request_id)
    # The undo recognises its own change by this time, which reads back unchanged.
    cancelled_at = times.now()

    stamps: dict[str, Any] = {}

    def claim(transaction: Transaction, stored: dict[str, Any]) -> str:
        # Checked before the status so others learn nothing about a request.
        if str(stored.get("requester") or "").lower() != caller.email:
            raise HttpError(403, "only the requester may cancel this request")
        status = stored.get("status")
        if status != "pending":
            raise HttpError(409, _CLOSED.get(str(status), "the request was already decided"))
        # A closed request keeps no delegates: whoever stood in reads it no longer.
        stamps.update({key: stored[key] for key in _STAMPS if key in stored})
        transaction.update(
            ref,
            {
                "status": "cancelled",
                "cancelled_by": caller.email,
                "cancelled_at": cancelled_at,
                "cancel_reason": reason,
                "delegates": [],
                "stand_in_for": {},
            },
        )
        return str(stored.get("execution_name") or "")

    def undo(transaction: Transaction, stored: dict[str, Any]) -> None:
        from google.cloud.firestore import DELETE_FIELD

        if stored.get("status") == "cancelled" and stored.get("cancelled_at") == cancelled_at:
            transaction.update(
                ref,
                {
                    "status": "pending",
                    "cancelled_by": DELETE_FIELD,
                    "cancelled_at": DELETE_FIELD,
                    "cancel_reason": DELETE_FIELD,
                    **{key: stamps.get(key, DELETE_FIELD) for key in _STAMPS},
                },
            )

    execution_name = _transact(ref, claim)
    try:
        executions.cancel(execution_name)
    except BaseException as exc:
        # The workflow still waits for a decision, so the request must stay open too.
        _transact(ref, undo)
        if isinstance(exc, executions.ExecutionsError):
            raise bad_gateway("could not cancel the workflow execution", f"{execution_name}: {exc}") from exc
        raise
    details = {"reason": reason, "execution_name": execution_name}
    audit.record(ref.id, "cancelled", caller.email, details, at=cancelled_at)
    try:
        events.publish(ref.id, "cancelled", caller.email, details)
    except events.PublishError as exc:
        # The cancellation stands (and is audited); only the notification is lost.
        logger.error("%s", exc)
    logger.info("%s cancelled %s", caller.email, ref.id)
    return {"request_id": ref.id, "status": "cancelled"}
