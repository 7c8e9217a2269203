"""Casting a vote: quorum rules, rejection veto, delegation, and the one callback per request.

Every check and write of a vote happens in one Firestore transaction on the
request document, so racing votes serialise on it: exactly one of them can be
the vote that decides, and only that one calls the workflow back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from common import audit, auth, callback, config, delegations, firestore, links, memberships, times
from common.responses import HttpError, bad_gateway

if TYPE_CHECKING:
    from google.cloud.firestore import DocumentReference, Transaction

OUTCOMES = ("approved", "rejected")
IDENTITY_SOURCES = ("firebase", "signed-link")
VOTES = "votes"
# An escalation starts a new round of votes, by the escalation approvers.
INITIAL_ROUND, ESCALATION_ROUND = "initial", "escalation"

# Who votes: a signed-in caller, or a signed link's addressee (uid ""); either way their groups
# are looked up (common.memberships), never taken from a token.
Voter = auth.Caller

_T = TypeVar("_T")
logger = logging.getLogger(__name__)


BUSY = "the request is being decided right now; try again"
# A vote's comment, whether sent from the page or a signed link's form.
MAX_COMMENT_LENGTH = 2000


def _run(request_id: str, body: Callable[[Transaction], _T]) -> _T:
    # Lasting contention here means concurrent votes on this very request.
    return firestore.run_transaction(request_id, body, busy=BUSY)


def _standing(
    transaction: Transaction, approvers: Sequence[str], voter: Voter, now: datetime
) -> tuple[list[str], list[str]]:
    """The approvers entries the voter stands for, and the approvers whose delegation they hold.

    A delegate standing in for two approvers holds both their seats, so one vote
    of theirs counts for each (see ``_weight``).
    """
    direct = memberships.matching(approvers, voter.email, transaction)
    # Only the approvers' own delegations count: a delegate's delegate is not
    # an approver (chains are not followed).
    people = [a for a in approvers if delegations.is_email(a) and a.lower() != voter.email]
    found = delegations.lookup(people, transaction)
    delegated = [
        approver
        for approver in people
        if str(found.get(approver.lower(), {}).get("delegate", "")).lower() == voter.email
        and delegations.in_force(found[approver.lower()], now)
    ]
    return [*direct, *delegated], [a.lower() for a in delegated]


def _rules(request: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The request's rules; requests from before rules had one rule over all approvers."""
    rules = request.get("rules")
    if isinstance(rules, list) and rules:
        return [r for r in rules if isinstance(r, dict)]
    return [{"name": "approvers", "approvers": list(request.get("approvers") or []), "quorum": 1}]


def _round(request: Mapping[str, Any]) -> str:
    return ESCALATION_ROUND if request.get("escalated") else INITIAL_ROUND


def _vote_ref(ref: DocumentReference, request: Mapping[str, Any], email: str) -> DocumentReference:
    """The voter's document for the request's current round: one per (request, round, voter)."""
    current = _round(request)
    return ref.collection(VOTES).document(email if current == INITIAL_ROUND else f"{current}:{email}")


def _this_round(request: Mapping[str, Any], votes: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The votes that count now: after an escalation, only the escalation approvers' new votes.

    Earlier votes stay (the trail shows them) but decide nothing, so an
    approver of both rounds votes again rather than having a vote carried over
    that nobody would count until someone else voted.
    """
    current = _round(request)
    return [v for v in votes if v.get("round", INITIAL_ROUND) == current]


def _seats(vote: Mapping[str, Any]) -> set[str]:
    """The e-mail approvers a vote was cast for: the voter's own, and those they stand in for."""
    return {str(p).lower() for p in vote.get("principals") or () if delegations.is_email(p)}


def _weight(vote: Mapping[str, Any], members: set[str] | None = None) -> int:
    """How many votes ``vote`` is among ``members`` (all approvers when None): one per e-mail
    seat it holds there, or one for a group member's own vote.
    """
    principals = {str(p).lower() for p in vote.get("principals") or ()}
    if members is not None:
        principals &= members
    return max(1, len(principals & _seats(vote))) if principals else 0


def tally(request: Mapping[str, Any], votes: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts of this round's ``votes`` under the request's current rules."""
    counted = _this_round(request, votes)
    approvals = [v for v in counted if v.get("outcome") == "approved"]
    rules: dict[str, int] = {}
    for rule in _rules(request):
        members = {str(a).lower() for a in rule.get("approvers") or []}
        rules[str(rule.get("name"))] = sum(_weight(v, members) for v in approvals)
    # Whose seat each vote took (approver e-mail -> voter): the page and the
    # reminders then leave out an approver whose delegate voted, and vice versa.
    seats = {seat: v.get("voter") for v in counted for seat in sorted(_seats(v))}
    return {
        "approvals": sum(_weight(v) for v in approvals),
        "rejections": sum(_weight(v) for v in counted if v.get("outcome") != "approved"),
        "rules": rules,
        "voters": [v.get("voter") for v in counted],
        "seats": seats,
    }


def sealed(request: Mapping[str, Any]) -> bool:
    """Whether who voted how stays hidden from the approvers until the request is decided."""
    return request.get("votes_visible") == "after_decision"


def shown(request: Mapping[str, Any], counts: Mapping[str, Any]) -> dict[str, Any]:
    """The tally as the request document shows it: without voters and seats while sealed.

    Approvers read the request document, so what it holds is what they see.
    """
    if not sealed(request):
        return dict(counts)
    return {key: counts[key] for key in ("approvals", "rejections", "rules")}


def taken(ref: DocumentReference, request: Mapping[str, Any]) -> set[str]:
    """Who has voted this round and whose seats their votes hold (lower-case e-mails), from the
    votes themselves: the tally on the request may be sealed.
    """
    counted = _this_round(request, _votes(None, ref))
    return {str(v.get("voter")).lower() for v in counted} | {seat for v in counted for seat in _seats(v)}


def _outcome(request: Mapping[str, Any], counts: Mapping[str, Any]) -> str | None:
    """The request's outcome once the votes settle it, else None."""
    if counts["rejections"] >= int(request.get("rejection_quorum") or 1):
        return "rejected"
    if all(counts["rules"][str(r.get("name"))] >= int(r.get("quorum") or 1) for r in _rules(request)):
        return "approved"
    return None


def _refuse_closed(request: Mapping[str, Any], now: datetime) -> None:
    """409 unless the request still takes votes."""
    status = request.get("status")
    due_at = request.get("due_at")
    if status == "cancelled":
        raise HttpError(409, "the request was cancelled")
    if status == "expired":
        raise HttpError(409, "the request has expired")
    if status != "pending":
        raise HttpError(409, "the request was already decided")
    if isinstance(due_at, datetime) and due_at <= now:
        raise HttpError(409, "the request has expired")


def _refuse_taken_seat(
    principals: Sequence[str], votes: Iterable[Mapping[str, Any]], *, name_voter: bool = True
) -> None:
    """409 when a person this vote stands for has voted this round, themselves or through their delegate.

    One approver is one seat: without this, an approver and their delegate
    would count twice towards a quorum. A group is many people, each voting.
    """
    seats = {p.lower() for p in principals if delegations.is_email(p)}
    for vote in votes:
        taken = seats & _seats(vote)
        if taken:
            seat, by = min(taken), vote.get("voter")
            through = "" if by == seat or not name_voter else f" (by {by})"
            raise HttpError(409, f"{seat} has already voted on this request{through}")


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
    """409 unless the request takes a vote now: still open and, for a link, unchanged since the
    link was sent and the link not used yet. Returns the payload digest the vote is for.
    """
    _refuse_closed(request, now)
    current = links.digest(request.get("subject"), request.get("payload"))
    if expected_digest is not None and expected_digest != current:
        raise HttpError(409, "the request changed since this link was sent")
    if use is not None and use.get(transaction=transaction).exists:
        raise HttpError(409, "this link was already used")
    return current


def _votes(transaction: Transaction | None, ref: DocumentReference) -> list[dict[str, Any]]:
    """The request's votes, oldest first, read inside ``transaction`` when given."""
    return [s.to_dict() or {} for s in ref.collection(VOTES).order_by("at").stream(transaction=transaction)]


def _refuse_second_vote(
    request: Mapping[str, Any], earlier: Iterable[Mapping[str, Any]], email: str, principals: Sequence[str]
) -> None:
    """409 when ``email`` or a seat of ``principals`` has voted among ``earlier`` (this round's votes)."""
    earlier = list(earlier)
    if any(v.get("voter") == email for v in earlier):
        raise HttpError(409, "you have already voted on this request")
    _refuse_taken_seat(principals, earlier, name_voter=not sealed(request))


def refuse_voted(ref: DocumentReference, request: Mapping[str, Any], email: str) -> None:
    """409 when ``email`` has voted this round, themselves or through their delegate: a link's form
    is then not shown to someone who already voted on the page.
    """
    _refuse_second_vote(request, _this_round(request, _votes(None, ref)), email, [email])


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

    Returns {request_id, outcome, status: "deciding"|"pending", tally}; HttpError otherwise.
    """
    if outcome not in OUTCOMES or identity_source not in IDENTITY_SOURCES:
        raise ValueError(f"bad vote {outcome!r} from {identity_source!r}")
    ref = firestore.client().collection(config.requests_collection()).document(request_id)
    claim_ref = _callback_document(request_id)
    use_ref = link_use(link_nonce) if link_nonce else None
    at = times.now()

    def vote(transaction: Transaction) -> tuple[dict[str, Any], dict[str, Any] | None]:
        snapshot = ref.get(transaction=transaction)
        if not snapshot.exists:
            raise HttpError(404, "no such request")
        request = snapshot.to_dict() or {}
        principals, delegators = _standing(transaction, request.get("approvers") or [], voter, at)
        # Checked before the status so outsiders learn nothing about a request.
        if not principals:
            raise HttpError(403, "you are not an approver of this request")
        requester = str(request.get("requester") or "").lower()
        if request.get("prevent_self_approval") and requester in (voter.email, *delegators):
            raise HttpError(403, "you may not vote on your own request")
        on_behalf_of = ", ".join(delegators) or None
        if request.get("status") == "deciding":
            abandoned = _abandoned_claim(claim_ref.get(transaction=transaction).to_dict() or {}, at)
            if abandoned is not None:
                raise _Abandoned(abandoned)
        current = refuse_unvotable(
            request, at, expected_digest=expected_digest, use=use_ref, transaction=transaction
        )
        earlier = _this_round(request, _votes(transaction, ref))
        _refuse_second_vote(request, earlier, voter.email, principals)
        vote_ref = _vote_ref(ref, request, voter.email)
        mine = {
            "voter": voter.email,
            "principals": principals,
            "on_behalf_of": on_behalf_of,
            "outcome": outcome,
            "comment": comment,
            "at": at,
            "identity_source": identity_source,
            "digest": current,
            "round": _round(request),
        }
        votes = [*earlier, mine]
        counts = tally(request, votes)
        decided = _outcome(request, counts)
        transaction.create(vote_ref, mine)
        if use_ref is not None:
            transaction.create(use_ref, {"request_id": request_id, "approver": voter.email, "used_at": at})
        created_at = request.get("created_at")
        details = {
            "outcome": outcome,
            "principals": principals,
            "on_behalf_of": on_behalf_of,
            "comment": comment,
            "identity_source": identity_source,
            "digest": current,
            "latency_seconds": (at - created_at).total_seconds()
            if isinstance(created_at, datetime)
            else None,
        }
        # Sealed, the trail says a vote was cast; the vote document keeps who and how, and
        # the decided event lists every vote.
        if sealed(request):
            audit.record(request_id, "voted", "", {"sealed": True}, transaction=transaction, at=at)
        else:
            audit.record(request_id, "voted", voter.email, details, transaction=transaction, at=at)
        change: dict[str, Any] = {"tally": shown(request, counts)}
        decision = None
        if decided is not None:
            decision = {
                "outcome": decided,
                "approver": voter.email,
                "principal": principals[0],
                "comment": comment,
                "decided_at": at,
                "round": _round(request),
            }
            # The claim the workflow reads lives where no client reads; the page sees
            # it on the request too, unless votes are sealed until the decision.
            transaction.set(claim_ref, {"decision": decision}, merge=True)
            change["status"] = "deciding"
            if not sealed(request):
                change |= {"decision": decision, "tally": counts}
        transaction.update(ref, change)
        return shown(request, counts), decision

    try:
        counts, decision = _run(request_id, vote)
    except _Abandoned as abandoned:
        _redeliver(request_id, abandoned.decision)
        raise HttpError(409, "the request was already decided") from None
    if decision is not None:
        _call_back(request_id, decision, lambda reason: _withdraw(request_id, voter, at, use_ref, reason))
    logger.info("%s voted %s on %s (%s)", voter.email, outcome, request_id, identity_source)
    return {
        "request_id": request_id,
        "outcome": outcome,
        "status": "pending" if decision is None else "deciding",
        "tally": counts,
    }


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
        raise bad_gateway("could not deliver the decision", f"redelivery for {request_id}: {exc}") from exc
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
    entry = _callback_document(request_id).get().to_dict() or {}
    url = entry.get("url")
    if not isinstance(url, str) or not url:
        raise callback.CallbackError("the workflow has not stored a callback URL")
    return url, str(entry.get("method") or "POST")


def _call_back(request_id: str, decision: Mapping[str, Any], withdraw: Callable[[str], None]) -> None:
    """Tell the workflow; on any failure withdraw the deciding vote (502 for a refused callback)."""
    try:
        _deliver(request_id, decision)
    except BaseException as exc:
        # Whatever went wrong, leave nothing half-written: the vote is undone
        # and the voter may vote again.
        # The audit trail is readable by approvers: it gets no URL or upstream text.
        withdraw("the decision could not be delivered to the workflow")
        if isinstance(exc, callback.CallbackError):
            raise bad_gateway("could not deliver the decision", f"callback for {request_id}: {exc}") from exc
        raise


def _withdraw(
    request_id: str, voter: Voter, at: datetime, use_ref: DocumentReference | None, reason: str
) -> None:
    """Undo exactly the vote cast at ``at`` (only while its decision stands); the trail keeps both."""
    from google.cloud.firestore import DELETE_FIELD

    ref = firestore.client().collection(config.requests_collection()).document(request_id)

    claim_ref = _callback_document(request_id)

    def withdraw(transaction: Transaction) -> None:
        request = ref.get(transaction=transaction).to_dict() or {}
        vote_ref = _vote_ref(ref, request, voter.email)
        decision = (claim_ref.get(transaction=transaction).to_dict() or {}).get("decision") or {}
        if not (
            request.get("status") == "deciding"
            and decision.get("approver") == voter.email
            and decision.get("decided_at") == at
        ):
            return
        others = [v for v in _this_round(request, _votes(transaction, ref)) if v.get("voter") != voter.email]
        transaction.delete(vote_ref)
        if use_ref is not None:
            transaction.delete(use_ref)
        transaction.update(
            ref,
            {"status": "pending", "decision": DELETE_FIELD, "tally": shown(request, tally(request, others))},
        )
        transaction.update(claim_ref, {"decision": DELETE_FIELD})
        actor = "" if sealed(request) else voter.email
        audit.record(request_id, "vote_withdrawn", actor, {"reason": reason}, transaction=transaction)

    _run(request_id, withdraw)
