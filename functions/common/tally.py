"""The tally rules: who may vote and whose seats their vote takes, how votes count towards each
rule's quorum, and when they decide a request, and how.

Plain data in and out (the request and vote documents as dicts), so that every rule is
tested in process; common.votes reads and writes them in one transaction. A refusal is
one of common.errors: the edge chooses its HTTP status.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

# Relative, so the unit tests can import functions.common.tally as well.
from .errors import ConflictError, NotAllowedError

OUTCOMES = ("approved", "rejected")
# An escalation starts a new round of votes, by the escalation approvers.
INITIAL_ROUND, ESCALATION_ROUND = "initial", "escalation"


def is_email(principal: Any) -> bool:
    """A single person: groups have no delegations, nor one address to mail a personal link to."""
    return isinstance(principal, str) and "@" in principal and not principal.lower().startswith("group:")


def in_force(delegation: Mapping[str, Any], now: datetime) -> bool:
    """Whether ``delegation`` covers ``now`` (its start included, its end not)."""
    starts_at, ends_at = delegation.get("starts_at"), delegation.get("ends_at")
    return isinstance(starts_at, datetime) and isinstance(ends_at, datetime) and starts_at <= now < ends_at


def possible_delegators(approvers: Sequence[Any], email: str) -> list[str]:
    """The approvers whose delegation could let ``email`` vote for them: the e-mail approvers
    but ``email`` itself. Only the approvers' own delegations count: a delegate's delegate is
    not an approver (chains are not followed).
    """
    return [a for a in approvers if is_email(a) and a.lower() != email]


def standing(
    approvers: Sequence[Any],
    email: str,
    direct: Sequence[str],
    found: Mapping[str, Mapping[str, Any]],
    now: datetime,
) -> tuple[list[str], list[str]]:
    """The approvers entries ``email`` stands for, and the approvers whose delegation they hold.

    ``direct`` is the entries naming them or a group of theirs; ``found`` the stored
    delegations by delegator (lower-case). A delegate standing in for two approvers
    holds both their seats, so one vote of theirs counts for each.
    """
    delegated = [
        approver
        for approver in possible_delegators(approvers, email)
        if str(found.get(approver.lower(), {}).get("delegate", "")).lower() == email
        and in_force(found[approver.lower()], now)
    ]
    return [*direct, *delegated], [a.lower() for a in delegated]


def refuse_ineligible(
    request: Mapping[str, Any], email: str, principals: Sequence[str], delegators: Sequence[str]
) -> None:
    """NotAllowedError unless ``email``, standing for ``principals``, may vote on ``request`` at all.

    Checked before the request's status, so that outsiders learn nothing about it.
    """
    if not principals:
        raise NotAllowedError("you are not an approver of this request")
    requester = str(request.get("requester") or "").lower()
    if request.get("prevent_self_approval") and requester in (email, *delegators):
        raise NotAllowedError("you may not vote on your own request")


def refuse_closed(request: Mapping[str, Any], now: datetime) -> None:
    """ConflictError unless the request still takes votes at ``now``."""
    status = request.get("status")
    due_at = request.get("due_at")
    if status == "cancelled":
        raise ConflictError("the request was cancelled")
    if status == "expired":
        raise ConflictError("the request has expired")
    if status != "pending":
        raise ConflictError("the request was already decided")
    if isinstance(due_at, datetime) and due_at <= now:
        raise ConflictError("the request has expired")


def rules(request: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The request's rules; requests from before rules had one rule over all approvers."""
    found = request.get("rules")
    if isinstance(found, list) and found:
        return [r for r in found if isinstance(r, dict)]
    return [{"name": "approvers", "approvers": list(request.get("approvers") or []), "quorum": 1}]


def current_round(request: Mapping[str, Any]) -> str:
    return ESCALATION_ROUND if request.get("escalated") else INITIAL_ROUND


def this_round(request: Mapping[str, Any], votes: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The votes that count now: after an escalation, only the escalation approvers' new votes.

    Earlier votes stay (the trail shows them) but decide nothing, so an
    approver of both rounds votes again rather than having a vote carried over
    that nobody would count until someone else voted.
    """
    now = current_round(request)
    return [v for v in votes if v.get("round", INITIAL_ROUND) == now]


def seats(vote: Mapping[str, Any]) -> set[str]:
    """The e-mail approvers a vote was cast for: the voter's own, and those they stand in for."""
    return {str(p).lower() for p in vote.get("principals") or () if is_email(p)}


def _weight(vote: Mapping[str, Any], members: set[str] | None = None) -> int:
    """How many votes ``vote`` is among ``members`` (all approvers when None): one per e-mail
    seat it holds there, or one for a group member's own vote.
    """
    principals = {str(p).lower() for p in vote.get("principals") or ()}
    if members is not None:
        principals &= members
    return max(1, len(principals & seats(vote))) if principals else 0


def count(request: Mapping[str, Any], votes: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts of this round's ``votes`` under the request's current rules."""
    counted = this_round(request, votes)
    approvals = [v for v in counted if v.get("outcome") == "approved"]
    per_rule: dict[str, int] = {}
    for rule in rules(request):
        members = {str(a).lower() for a in rule.get("approvers") or []}
        per_rule[str(rule.get("name"))] = sum(_weight(v, members) for v in approvals)
    # Whose seat each vote took (approver e-mail -> voter): the page and the
    # reminders then leave out an approver whose delegate voted, and vice versa.
    taken_seats = {seat: v.get("voter") for v in counted for seat in sorted(seats(v))}
    return {
        "approvals": sum(_weight(v) for v in approvals),
        "rejections": sum(_weight(v) for v in counted if v.get("outcome") != "approved"),
        "rules": per_rule,
        "voters": [v.get("voter") for v in counted],
        "seats": taken_seats,
    }


def outcome(request: Mapping[str, Any], counts: Mapping[str, Any]) -> str | None:
    """The request's outcome once the votes settle it, else None: enough rejections veto it,
    before every rule's quorum of approvals approves it.
    """
    if counts["rejections"] >= int(request.get("rejection_quorum") or 1):
        return "rejected"
    if all(counts["rules"][str(r.get("name"))] >= int(r.get("quorum") or 1) for r in rules(request)):
        return "approved"
    return None


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


def taken(request: Mapping[str, Any], votes: Iterable[Mapping[str, Any]]) -> set[str]:
    """Who has voted this round and whose seats their votes hold (lower-case e-mails)."""
    counted = this_round(request, votes)
    return {str(v.get("voter")).lower() for v in counted} | {seat for v in counted for seat in seats(v)}


def refuse_second_vote(
    request: Mapping[str, Any], votes: Iterable[Mapping[str, Any]], email: str, principals: Sequence[str]
) -> None:
    """ConflictError when ``email``, or a person ``principals`` stands for, has voted this round,
    themselves or through their delegate.

    One approver is one seat: without this, an approver and their delegate
    would count twice towards a quorum. A group is many people, each voting.
    While votes are sealed, the refusal does not name who took the seat.
    """
    counted = this_round(request, votes)
    if any(v.get("voter") == email for v in counted):
        raise ConflictError("you have already voted on this request")
    mine = {p.lower() for p in principals if is_email(p)}
    for vote in counted:
        overlap = mine & seats(vote)
        if overlap:
            seat, by = min(overlap), vote.get("voter")
            through = "" if by == seat or sealed(request) else f" (by {by})"
            raise ConflictError(f"{seat} has already voted on this request{through}")
