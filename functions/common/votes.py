"""Casting a vote: reading and writing it, the audit trail, and the one callback per request.

The rules it follows (who may vote, quorums, the rejection veto, delegates) are
common.tally's, over the documents read here. Every check and write of a vote
happens in one Firestore transaction on the request document, so racing votes
serialise on it: exactly one of them can be the vote that decides, and only that
one calls the workflow back.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from common import (
    audit,
    auth,
    callback,
    config,
    delegations,
    documents,
    errors,
    firestore,
    links,
    memberships,
    tally,
    times,
)

if TYPE_CHECKING:
    from google.cloud.firestore import DocumentReference, Transaction

IDENTITY_SOURCES = ("firebase", "signed-link")
VOTES = "votes"

# Who votes: a signed-in caller, or a signed link's addressee (uid ""); either way their groups
# are looked up (common.memberships), never taken from a token.
Voter = auth.Caller

_T = TypeVar("_T")
logger = logging.getLogger(__name__)


BUSY = "the request is being decided right now; try again"
# A vote's comment, whether sent from the page or a signed link's form.
MAX_COMMENT_LENGTH = 2000
# What the audit trail keeps of an unsealed vote, besides how long it took.
_AUDITED = ("outcome", "principals", "on_behalf_of", "comment", "identity_source", "digest")


@dataclass(frozen=True)
class _Ballot:
    """One vote being cast: who, how, when, and for a signed link where its use is recorded."""

    request_id: str
    voter: Voter
    outcome: str
    comment: str
    identity_source: str
    at: datetime
    use: DocumentReference | None
    expected_digest: str | None


def _run(request_id: str, body: Callable[[Transaction], _T]) -> _T:
    # Lasting contention here means concurrent votes on this very request.
    return firestore.run_transaction(request_id, body, busy=BUSY)


def _request_document(request_id: str) -> DocumentReference:
    return firestore.client().collection(config.requests_collection()).document(request_id)


def _standing(
    transaction: Transaction, request: Mapping[str, Any], voter: Voter, now: datetime
) -> tuple[list[str], list[str]]:
    """What common.tally.standing says of ``voter``, from their groups and the approvers'
    delegations as read in ``transaction``."""
    approvers = request.get("approvers") or []
    direct = memberships.matching(approvers, voter.email, transaction)
    found = delegations.lookup(tally.possible_delegators(approvers, voter.email), transaction)
    return tally.standing(approvers, voter.email, direct, found, now)


def _vote_ref(ref: DocumentReference, request: Mapping[str, Any], email: str) -> DocumentReference:
    """The voter's document for the request's current round: one per (request, round, voter)."""
    current = tally.current_round(request)
    return ref.collection(VOTES).document(email if current == tally.INITIAL_ROUND else f"{current}:{email}")


def _votes(transaction: Transaction | None, ref: DocumentReference) -> list[dict[str, Any]]:
    """The request's votes, oldest first, read inside ``transaction`` when given."""
    return [
        documents.read("vote", s)
        for s in ref.collection(VOTES).order_by("at").stream(transaction=transaction)
    ]


def taken(ref: DocumentReference, request: Mapping[str, Any]) -> set[str]:
    """Who has voted this round and whose seats their votes hold (lower-case e-mails), from the
    votes themselves: the tally on the request may be sealed.
    """
    return tally.taken(request, _votes(None, ref))


def link_use(nonce: str) -> DocumentReference:
    """Where a signed link's single use is recorded."""
    return firestore.client().collection(config.link_uses_collection()).document(nonce)


def refuse_unvotable(
    request: Mapping[str, Any],
    now: datetime,
    *,
    expected_digest: str | None = None,
    use: DocumentReference | None = None,
    transaction: Transaction | None = None,
) -> str:
    """ConflictError unless the request takes a vote now: still open and, for a link, unchanged since
    the link was sent and the link not used yet. Returns the payload digest the vote is for.
    """
    tally.refuse_closed(request, now)
    current = links.digest(request.get("subject"), request.get("payload"))
    if expected_digest is not None and expected_digest != current:
        raise errors.ConflictError("the request changed since this link was sent")
    if use is not None and use.get(transaction=transaction).exists:
        raise errors.ConflictError("this link was already used")
    return current


def refuse_voted(ref: DocumentReference, request: Mapping[str, Any], email: str) -> None:
    """ConflictError when ``email`` has voted this round, themselves or through their delegate: a
    link's form is then not shown to someone who already voted on the page.
    """
    tally.refuse_second_vote(request, _votes(None, ref), email, [email])


def cast(
    request_id: str,
    voter: Voter,
    outcome: str,
    comment: str,
    identity_source: str,
    *,
    link_nonce: str | None = None,
    expected_digest: str | None = None,
) -> dict[str, Any]:
    """Record ``voter``'s vote; the vote that decides the request also calls the workflow back.

    Returns {request_id, outcome, status: "deciding"|"pending", tally}; a common.errors
    refusal otherwise.
    """
    if outcome not in tally.OUTCOMES or identity_source not in IDENTITY_SOURCES:
        raise ValueError(f"bad vote {outcome!r} from {identity_source!r}")
    use = link_use(link_nonce) if link_nonce else None
    ballot = _Ballot(request_id, voter, outcome, comment, identity_source, times.now(), use, expected_digest)
    try:
        counts, decision = _run(request_id, functools.partial(_vote, ballot))
    except _Abandoned as abandoned:
        _redeliver(request_id, abandoned.decision)
        raise errors.ConflictError("the request was already decided") from None
    if decision is not None:
        _call_back(request_id, decision, functools.partial(_withdraw, ballot))
    logger.info("%s voted %s on %s (%s)", voter.email, outcome, request_id, identity_source)
    return {
        "request_id": request_id,
        "outcome": outcome,
        "status": "pending" if decision is None else "deciding",
        "tally": counts,
    }


def _vote(ballot: _Ballot, transaction: Transaction) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """In ``transaction``: check and write ``ballot``, and claim the decision if it decides.
    Returns the tally as shown and the decision (None while the request stays pending).
    """
    ref = _request_document(ballot.request_id)
    snapshot = ref.get(transaction=transaction)
    if not snapshot.exists:
        raise errors.NotFoundError("no such request")
    request = documents.read("request", snapshot)
    principals, delegators = _standing(transaction, request, ballot.voter, ballot.at)
    tally.refuse_ineligible(request, ballot.voter.email, principals, delegators)
    _refuse_abandoned(transaction, request, ballot)
    digest = refuse_unvotable(
        request, ballot.at, expected_digest=ballot.expected_digest, use=ballot.use, transaction=transaction
    )
    earlier = _votes(transaction, ref)
    tally.refuse_second_vote(request, earlier, ballot.voter.email, principals)
    mine = _vote_document(ballot, request, principals, delegators, digest)
    counts = tally.count(request, [*earlier, mine])
    decided = tally.outcome(request, counts)
    _record(transaction, ref, request, ballot, mine)
    shown = tally.shown(request, counts)
    change: dict[str, Any] = {"tally": shown}
    decision = None
    if decided is not None:
        decision = _claim(transaction, request, ballot, decided, principals[0])
        change["status"] = "deciding"
        if not tally.sealed(request):
            change |= {"decision": decision, "tally": counts}
    transaction.update(ref, change)
    return shown, decision


def _refuse_abandoned(transaction: Transaction, request: Mapping[str, Any], ballot: _Ballot) -> None:
    """_Abandoned when the request was left ``deciding`` by a decide that never finished."""
    if request.get("status") != "deciding":
        return
    stored = documents.read("callback", _callback_document(ballot.request_id).get(transaction=transaction))
    abandoned = _abandoned_claim(stored, ballot.at)
    if abandoned is not None:
        raise _Abandoned(abandoned)


def _vote_document(
    ballot: _Ballot, request: Mapping[str, Any], principals: list[str], delegators: list[str], digest: str
) -> dict[str, Any]:
    """The vote as stored: who cast it, for whom, how, and on which version of the request."""
    return documents.check(
        "vote",
        {
            "voter": ballot.voter.email,
            "principals": principals,
            "on_behalf_of": ", ".join(delegators) or None,
            "outcome": ballot.outcome,
            "comment": ballot.comment,
            "at": ballot.at,
            "identity_source": ballot.identity_source,
            "digest": digest,
            "round": tally.current_round(request),
        },
    )


def _record(
    transaction: Transaction,
    ref: DocumentReference,
    request: Mapping[str, Any],
    ballot: _Ballot,
    vote: Mapping[str, Any],
) -> None:
    """Write ``vote``, the link's single use, and the audit entry, in ``transaction``."""
    voter, at = ballot.voter.email, ballot.at
    transaction.create(_vote_ref(ref, request, voter), vote)
    if ballot.use is not None:
        transaction.create(ballot.use, {"request_id": ballot.request_id, "approver": voter, "used_at": at})
    # Sealed, the trail says a vote was cast; the vote document keeps who and how, and
    # the decided event lists every vote.
    if tally.sealed(request):
        audit.record(ballot.request_id, "voted", "", {"sealed": True}, transaction=transaction, at=at)
        return
    created_at = request.get("created_at")
    details = {key: vote[key] for key in _AUDITED} | {
        "latency_seconds": (at - created_at).total_seconds() if isinstance(created_at, datetime) else None,
    }
    audit.record(ballot.request_id, "voted", voter, details, transaction=transaction, at=at)


def _claim(
    transaction: Transaction, request: Mapping[str, Any], ballot: _Ballot, decided: str, principal: str
) -> dict[str, Any]:
    """Record the decision ``ballot`` made, for the workflow to read; returns it.

    The claim the workflow reads lives where no client reads; the page sees
    it on the request too, unless votes are sealed until the decision.
    """
    decision = {
        "outcome": decided,
        "approver": ballot.voter.email,
        "principal": principal,
        "comment": ballot.comment,
        "decided_at": ballot.at,
        "round": tally.current_round(request),
    }
    transaction.set(_callback_document(ballot.request_id), {"decision": decision}, merge=True)
    return decision


class _Abandoned(Exception):  # noqa: N818 - a signal out of the transaction, not an error
    """The request was left ``deciding`` by a decide that never finished: its decision."""

    def __init__(self, decision: dict[str, Any]) -> None:
        super().__init__("abandoned claim")
        self.decision = decision


def _callback_document(request_id: str) -> DocumentReference:
    """The request's callback document: the URL the workflow stored, and the deciding vote's
    decision recorded for the workflow to read; no security rule opens it to a client."""
    return firestore.client().collection(config.callbacks_collection()).document(request_id)


def _abandoned_claim(stored: Mapping[str, Any], now: datetime) -> dict[str, Any] | None:
    """The recorded decision of a claim older than CLAIM_TIMEOUT_SECONDS, else None.

    decide delivers within CALLBACK_BUDGET_SECONDS and then withdraws a failed
    vote itself; a claim older than that lost its process mid-delivery.
    ``stored`` is the claim document.
    """
    decision = stored.get("decision")
    if not isinstance(decision, dict):
        return None
    decided_at = decision.get("decided_at")
    if not isinstance(decided_at, datetime):
        return None
    return decision if (now - decided_at).total_seconds() >= config.claim_timeout_seconds() else None


def _redeliver(request_id: str, decision: Mapping[str, Any]) -> None:
    """Deliver an abandoned claim's recorded decision: the votes behind it stand."""
    try:
        _deliver(request_id, decision)
    except callback.CallbackError as exc:
        raise errors.UpstreamError(
            "could not deliver the decision", f"redelivery for {request_id}: {exc}"
        ) from exc
    audit.record(request_id, "decision_redelivered", "", {"outcome": decision.get("outcome")})
    logger.warning("redelivered the abandoned decision of %s", request_id)


def _deliver(request_id: str, decision: Mapping[str, Any]) -> None:
    """Call the workflow back with ``decision`` (CallbackError when it cannot be told); it reads
    the decision itself from the request and its votes, so the body only wakes it."""
    url, method = _callback_target(request_id)
    body = {
        "request_id": request_id,
        **{k: decision.get(k) for k in ("outcome", "approver", "principal", "comment")},
        "decided_at": times.rfc3339(decision["decided_at"]),
    }
    callback.deliver(url, body, method)


def _callback_target(request_id: str) -> tuple[str, str]:
    """The callback URL and method the workflow stored, or CallbackError."""
    entry = documents.read("callback", _callback_document(request_id).get())
    url = entry.get("url")
    if not isinstance(url, str) or not url:
        raise callback.CallbackError("the workflow has not stored a callback URL")
    return url, str(entry.get("method") or "POST")


def _call_back(request_id: str, decision: Mapping[str, Any], withdraw: Callable[[str], None]) -> None:
    """Tell the workflow; on any failure withdraw the deciding vote (UpstreamError when refused)."""
    try:
        _deliver(request_id, decision)
    except BaseException as exc:
        # Whatever went wrong, leave nothing half-written: the vote is undone
        # and the voter may vote again.
        # The audit trail is readable by approvers: it gets no URL or upstream text.
        withdraw("the decision could not be delivered to the workflow")
        if isinstance(exc, callback.CallbackError):
            raise errors.UpstreamError(
                "could not deliver the decision", f"callback for {request_id}: {exc}"
            ) from exc
        raise


def _withdraw(ballot: _Ballot, reason: str) -> None:
    """Undo exactly ``ballot``'s vote (only while its decision stands); the trail keeps both."""
    from google.cloud.firestore import DELETE_FIELD

    ref = _request_document(ballot.request_id)
    claim_ref = _callback_document(ballot.request_id)
    voter = ballot.voter.email

    def withdraw(transaction: Transaction) -> None:
        request = documents.read("request", ref.get(transaction=transaction))
        decision = documents.read("callback", claim_ref.get(transaction=transaction)).get("decision") or {}
        if not (
            request.get("status") == "deciding"
            and decision.get("approver") == voter
            and decision.get("decided_at") == ballot.at
        ):
            return
        others = [v for v in _votes(transaction, ref) if v.get("voter") != voter]
        transaction.delete(_vote_ref(ref, request, voter))
        if ballot.use is not None:
            transaction.delete(ballot.use)
        counts = tally.shown(request, tally.count(request, others))
        transaction.update(ref, {"status": "pending", "decision": DELETE_FIELD, "tally": counts})
        transaction.update(claim_ref, {"decision": DELETE_FIELD})
        actor = "" if tally.sealed(request) else voter
        audit.record(ballot.request_id, "vote_withdrawn", actor, {"reason": reason}, transaction=transaction)

    _run(ballot.request_id, withdraw)
