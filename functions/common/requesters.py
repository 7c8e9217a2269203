"""Who may ask a workflow for approval, and how many of their requests may wait at once.

The workflow's registry entry lists its requesters (written by ``pulumi up``
from ``ApprovalWorkflowArgs.requesters``): e-mails, ``group:NAME`` and
``domain:example.com``. A requester's open requests are counted under a lock on
their own document, so a burst of starts cannot slip past the limit between
the count and the workflow writing its request.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from common import auth, config, documents, errors, firestore, memberships

if TYPE_CHECKING:
    from google.cloud.firestore import DocumentReference, Transaction

DOMAIN_PREFIX = "domain:"
OPEN_STATUSES = ["pending", "deciding"]
# A started execution writes its request within seconds; one that has not after
# this long failed before asking, and stops counting.
START_GRACE = timedelta(minutes=10)


def may_ask(email: str, requesters: Sequence[str], groups: frozenset[str] = frozenset()) -> bool:
    """Whether ``email`` (lower-case) is among ``requesters``, by address, domain or one of ``groups``.

    Never a service account by domain: ``domain:developer.gserviceaccount.com`` would let every
    project's default compute account ask. A service account is named, or in a group.
    """
    domain = email.rsplit("@", 1)[-1]
    return (
        email in requesters
        or (DOMAIN_PREFIX + domain in requesters and not auth.is_service_account(email))
        or any(memberships.GROUP_PREFIX + group in requesters for group in groups)
    )


def check_may_ask(email: str, requesters: Sequence[str]) -> None:
    """NotAllowedError unless ``email`` may ask; their groups are read only when a group may."""
    groups = memberships.groups_of(email) if memberships.group_names(requesters) else frozenset()
    if not may_ask(email, requesters, groups):
        raise errors.NotAllowedError("you may not ask this workflow for approval")


def _open_origins(email: str, workflow_id: str) -> set[str]:
    """The start ids of ``email``'s requests to ``workflow_id`` that wait for a decision."""
    from google.cloud.firestore import FieldFilter

    query = (
        firestore.client()
        .collection(config.requests_collection())
        .where(filter=FieldFilter("requester", "==", email))
        .where(filter=FieldFilter("workflow_id", "==", workflow_id))
        .where(filter=FieldFilter("status", "in", OPEN_STATUSES))
    )
    return {str(documents.read("request", s).get("origin_request_id") or s.id) for s in query.stream()}


def _asked_yet(request_id: str) -> bool:
    """Whether the execution started as ``request_id`` has written any request."""
    from google.cloud.firestore import FieldFilter

    requests = firestore.client().collection(config.requests_collection())
    if requests.document(request_id).get().exists:
        return True
    query = requests.where(filter=FieldFilter("origin_request_id", "==", request_id)).limit(1)
    return any(True for _ in query.stream())


def _requester_document(email: str) -> DocumentReference:
    # An address may hold a "/", which a document id may not.
    return firestore.client().collection(config.requesters_collection()).document(email.replace("/", "%2F"))


def start_record(request_id: str) -> DocumentReference:
    return firestore.client().collection(config.starts_collection()).document(request_id)


def release(email: str, workflow_id: str, request_id: str) -> None:
    """Undo ``reserve`` for an execution that did not start."""
    from google.cloud.firestore import DELETE_FIELD
    from google.cloud.firestore_v1.field_path import FieldPath

    start_record(request_id).delete()
    ref = _requester_document(email)
    ref.update({FieldPath(workflow_id, request_id).to_api_repr(): DELETE_FIELD})


def _recent(stored: dict[str, Any], workflow_id: str, now: datetime) -> dict[str, datetime]:
    """request id -> start time of the starts ``stored`` lists for ``workflow_id`` within START_GRACE."""
    return {
        rid: at
        for rid, at in (stored.get(workflow_id) or {}).items()
        if isinstance(at, datetime) and now - at < START_GRACE
    }


def reserve(email: str, workflow_id: str, request_id: str, limit: int, now: datetime) -> None:
    """Count ``request_id`` as ``email``'s next open request to ``workflow_id``;
    LimitReachedError at ``limit``.

    The queries run before the transaction, which then only reads and writes the
    requester's document: concurrent starts of one requester serialise on it
    without holding it while Firestore searches. A start that lands in between
    is in the transaction's read, and counts as waiting.
    """
    ref = _requester_document(email)
    seen = _recent(ref.get().to_dict() or {}, workflow_id, now)
    asked = {rid for rid in seen if _asked_yet(rid)}
    # After the asked check: a request written in between is then among the waiting.
    waiting = _open_origins(email, workflow_id)

    def count_and_add(transaction: Transaction) -> None:
        stored = ref.get(transaction=transaction).to_dict() or {}
        started = _recent(stored, workflow_id, now)
        in_flight = {rid for rid in started if rid not in asked}
        if len(waiting | in_flight) >= limit:
            raise errors.LimitReachedError(
                f"you have {limit} requests to this workflow waiting for a decision; wait for one to end"
            )
        # The whole document is written: starts past the grace period leave it, where a merge
        # would keep every start ever made.
        transaction.set(ref, {**stored, workflow_id: {**started, request_id: now}})
        # What the workflow checks its requester against: a workflow started
        # directly (grant_invoke) finds none, and marks its request unverified.
        transaction.create(
            start_record(request_id),
            documents.check("start", {"requester": email, "workflow_id": workflow_id, "started_at": now}),
        )

    firestore.run_transaction(
        email, count_and_add, busy="you are starting other requests right now; try again"
    )
