"""Approvers' delegations (one document per delegator): who stands in for whom, and when.

Firestore rules cannot join a request with the delegations, so a pending request
carries who stands in for its approvers (``delegates`` and ``stand_in_for``, the
"stamps"), written here by functions only, for the page to find and show it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from common import config, documents, firestore
from common.tally import in_force, is_email

if TYPE_CHECKING:
    from google.cloud.firestore import DocumentReference, DocumentSnapshot, Transaction, WriteBatch

T = TypeVar("T")


def lookup(people: Iterable[str], transaction: Transaction | None = None) -> dict[str, dict[str, Any]]:
    """delegator e-mail (lower-case) -> their stored delegation, for those of ``people`` who have one."""
    collection = firestore.client().collection(config.delegations_collection())
    refs = [collection.document(person) for person in dict.fromkeys(p.lower() for p in people)]
    if not refs:
        return {}
    snapshots = transaction.get_all(refs) if transaction is not None else firestore.client().get_all(refs)
    return {s.id: s.to_dict() or {} for s in snapshots if s.exists}


def _people(approvers: Iterable[Any]) -> list[str]:
    """The e-mail approvers, lower-case, once each and in order."""
    return list(dict.fromkeys(a.lower() for a in approvers if is_email(a)))


def stand_ins(
    approvers: Iterable[Any], now: datetime, found: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, str]:
    """delegate -> delegator (lower-case), for the e-mail approvers' delegations in force at ``now``.

    ``found`` is the delegations already read (as ``lookup`` gives them), so that
    several requests can share one read, or see a delegation not yet stored.
    Someone standing in for two approvers is shown for the first one listed.
    """
    people = _people(approvers)
    found = lookup(people) if found is None else found
    delegates: dict[str, str] = {}
    for delegator in people:
        entry = found.get(delegator) or {}
        delegate = entry.get("delegate")
        if is_email(delegate) and in_force(entry, now):
            delegates.setdefault(delegate.lower(), delegator)
    return delegates


def stamp_fields(
    request: Mapping[str, Any], now: datetime, found: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """The stamps ``request`` should carry at ``now``: {"delegates": [...], "stand_in_for": {...}}."""
    standing = stand_ins(request.get("approvers") or (), now, found)
    return {"delegates": sorted(standing), "stand_in_for": standing}


def _not_before(now: datetime) -> datetime:
    """``now``, or the time after the transaction's reads if later: a restamp that waited for
    another (the one at a delegation's end, say) must not stamp as of before it.
    """
    return max(now, datetime.now(UTC))


def _stampable(request: Mapping[str, Any]) -> bool:
    """Only a request people are asked about: a decided one keeps the stamps it was decided
    with, and an automatic one is approved by the bot in the same breath.
    """
    return request.get("status") == "pending" and request.get("mode") != "auto"


def _changed(request: Mapping[str, Any], fields: Mapping[str, Any]) -> bool:
    """Whether ``fields`` differ from the stored stamps (absent ones mean nobody stands in)."""
    stored = {"delegates": request.get("delegates") or [], "stand_in_for": request.get("stand_in_for") or {}}
    return stored != dict(fields)


def stamp(ref: DocumentReference, now: datetime) -> dict[str, dict[str, Any]] | None:
    """Restamp one request, if pending, in a transaction; the delegations it read (as
    ``lookup`` gives them, for the caller to reuse), or None when it is not stamped.

    The request and its approvers' delegations are read in the transaction, so a
    vote deciding the request, or a delegation changed meanwhile, retries it
    rather than leaving stamps that are stale or on a decided request.
    """

    def restamp_one(transaction: Transaction) -> dict[str, dict[str, Any]] | None:
        snapshot = ref.get(transaction=transaction)
        request = documents.read("request", snapshot)
        if not snapshot.exists or not _stampable(request):
            return None
        found = lookup(_people(request.get("approvers") or ()), transaction)
        restamp(transaction, [snapshot], _not_before(now), found)
        return found

    return firestore.run_transaction(ref.id, restamp_one, busy="the request is changing right now; try again")


def restamp(
    batch: WriteBatch,
    snapshots: Iterable[DocumentSnapshot],
    now: datetime,
    found: Mapping[str, Mapping[str, Any]],
) -> None:
    """Add to ``batch`` the stamps of those pending requests whose stamps change.

    ``found`` holds the delegations of all their e-mail approvers as they will be
    once ``batch`` is committed, so that the stamps land with the delegation
    change they follow from (a Transaction is a WriteBatch too).
    """
    for snapshot in snapshots:
        request = documents.read("request", snapshot)
        if not snapshot.exists or not _stampable(request):
            continue
        fields = stamp_fields(request, now, found)
        if _changed(request, fields):
            batch.update(snapshot.reference, fields)


def restamp_delegators_requests(
    delegator: str,
    now: datetime,
    change: Callable[[Transaction, dict[str, dict[str, Any]]], T],
    busy: str,
) -> T:
    """Run ``change`` and restamp ``delegator``'s pending requests at ``now``, in one transaction.

    ``change`` gets the transaction and the delegations of those requests'
    approvers as read in it (delegator e-mail -> delegation), and changes both
    alike: what it stores and what the stamps are computed from then agree. The
    requests and delegations are read in the transaction, so a request decided or
    a delegation changed meanwhile retries it rather than leaving stale stamps.
    The query runs before it, so that the transaction locks those requests only,
    not every request the workflows write; one created since is stamped by notify.
    """
    from google.cloud.firestore import FieldFilter

    client = firestore.client()
    # The page's inbox asks the same (approvers, status) of its own index.
    pending = (
        client.collection(config.requests_collection())
        .where(filter=FieldFilter("approvers", "array_contains", delegator))
        .where(filter=FieldFilter("status", "==", "pending"))
    )
    candidates = [snapshot.reference for snapshot in pending.stream()]

    def in_transaction(transaction: Transaction) -> T:
        requests = list(transaction.get_all(candidates)) if candidates else []
        approvers = [a for r in requests for a in documents.read("request", r).get("approvers") or ()]
        # Their other approvers' delegations too: a request's stamps name everyone standing in.
        found = lookup(filter(is_email, approvers), transaction)
        outcome = change(transaction, found)
        restamp(transaction, requests, _not_before(now), found)
        return outcome

    return firestore.run_transaction(delegator, in_transaction, busy=busy)
