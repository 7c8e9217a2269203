"""The tally rules (common.tally), in process: who may vote, whose seats a vote takes, quorums, the
rejection veto, rounds and sealed votes, each as an approver or requester would see it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.common import tally
from functions.common.errors import ConflictError, DomainError, NotAllowedError

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
ALICE, BOB, CAROL, DAVE = "alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"
ENG = "group:eng"


@pytest.fixture(autouse=True)
def _empty_database() -> None:
    """Pure rules read no database: no emulator starts for them (the folder's fixture empties one)."""


@contextmanager
def refused(kind: type[DomainError], reason: str) -> Iterator[None]:
    """The block is refused as ``kind``, telling the voter exactly ``reason``."""
    with pytest.raises(kind) as raised:
        yield
    assert raised.value.reason == reason


def request(**fields: Any) -> dict[str, Any]:
    """A pending request asking ALICE, BOB and CAROL, one approval deciding it (before rules existed)."""
    return {"status": "pending", "approvers": [ALICE, BOB, CAROL], **fields}


def ballot(voter: str, outcome: str = "approved", *principals: str, **fields: Any) -> dict[str, Any]:
    """A stored vote by ``voter``, for their own seat unless ``principals`` says whose."""
    return {"voter": voter, "outcome": outcome, "principals": list(principals or [voter]), **fields}


def rule(name: str, approvers: list[str], quorum: int) -> dict[str, Any]:
    return {"name": name, "approvers": approvers, "quorum": quorum}


def decided(request: dict[str, Any], *votes: dict[str, Any]) -> str | None:
    return tally.outcome(request, tally.count(request, votes))


def delegation(delegate: str, starts_at: datetime = NOW - timedelta(days=1), days: int = 2) -> dict[str, Any]:
    return {"delegate": delegate, "starts_at": starts_at, "ends_at": starts_at + timedelta(days=days)}


def test_a_request_from_before_rules_is_decided_by_any_one_approver() -> None:
    old = request()

    counts = tally.count(old, [ballot(BOB)])

    assert counts == {
        "approvals": 1,
        "rejections": 0,
        "rules": {"approvers": 1},
        "voters": [BOB],
        "seats": {BOB: BOB},
    }
    assert tally.outcome(old, counts) == "approved"


def test_a_rule_waits_for_its_quorum_of_approvals() -> None:
    two_of_three = request(rules=[rule("leads", [ALICE, BOB, CAROL], 2)])

    assert decided(two_of_three, ballot(ALICE)) is None
    assert decided(two_of_three, ballot(ALICE), ballot(CAROL)) == "approved"


def test_every_rule_must_reach_its_quorum() -> None:
    both = request(rules=[rule("finance", [ALICE], 1), rule("legal", [BOB, CAROL], 1)])

    assert tally.count(both, [ballot(ALICE)])["rules"] == {"finance": 1, "legal": 0}
    assert decided(both, ballot(ALICE)) is None
    assert decided(both, ballot(ALICE), ballot(CAROL)) == "approved"


def test_each_member_of_a_group_counts_towards_the_groups_rule() -> None:
    group = request(approvers=[ENG], rules=[rule("engineering", [ENG], 2)])

    assert decided(group, ballot("erin@example.com", "approved", ENG)) is None
    assert (
        decided(
            group, ballot("erin@example.com", "approved", ENG), ballot("finn@example.com", "approved", ENG)
        )
        == "approved"
    )


def test_one_rejection_vetoes_the_request_even_with_enough_approvals() -> None:
    two_of_three = request(rules=[rule("leads", [ALICE, BOB, CAROL], 2)])

    assert decided(two_of_three, ballot(ALICE, "rejected")) == "rejected"
    assert decided(two_of_three, ballot(ALICE), ballot(BOB), ballot(CAROL, "rejected")) == "rejected"


def test_a_rejection_quorum_needs_that_many_rejections() -> None:
    lenient = request(rejection_quorum=2, rules=[rule("leads", [ALICE, BOB, CAROL], 3)])

    assert decided(lenient, ballot(ALICE, "rejected")) is None
    assert decided(lenient, ballot(ALICE, "rejected"), ballot(BOB, "rejected")) == "rejected"


def test_a_delegate_holds_the_seat_of_each_approver_they_stand_in_for() -> None:
    both = request(rules=[rule("leads", [ALICE, BOB, CAROL], 2)])
    found = {ALICE: delegation(DAVE), BOB: delegation(DAVE)}

    principals, delegators = tally.standing(both["approvers"], DAVE, [], found, NOW)
    counts = tally.count(both, [ballot(DAVE, "approved", *principals)])

    assert (principals, delegators) == ([ALICE, BOB], [ALICE, BOB])
    assert counts["approvals"] == 2 and counts["seats"] == {ALICE: DAVE, BOB: DAVE}
    assert tally.outcome(both, counts) == "approved"


def test_a_delegate_counts_once_in_each_rule_where_they_hold_a_seat() -> None:
    split = request(rules=[rule("finance", [ALICE, CAROL], 2), rule("legal", [BOB], 1)])

    counts = tally.count(split, [ballot(DAVE, "approved", ALICE, BOB)])

    assert counts["rules"] == {"finance": 1, "legal": 1}
    assert tally.outcome(split, counts) is None


@pytest.mark.parametrize(
    ("starts_at", "days", "stands_in"),
    [
        pytest.param(NOW, 1, True, id="from-its-first-moment"),
        pytest.param(NOW - timedelta(days=1), 1, False, id="not-at-its-end"),
        pytest.param(NOW + timedelta(hours=1), 1, False, id="not-before-it-starts"),
    ],
)
def test_a_delegation_lets_its_delegate_vote_only_while_it_lasts(
    starts_at: datetime, days: int, stands_in: bool
) -> None:
    found = {ALICE: delegation(DAVE, starts_at, days)}

    principals, _ = tally.standing([ALICE], DAVE, [], found, NOW)

    assert principals == ([ALICE] if stands_in else [])


def test_a_delegates_own_delegation_is_not_followed() -> None:
    """ALICE hands her vote to BOB, who hands his to CAROL: CAROL stands in for BOB only."""
    found = {ALICE: delegation(BOB), BOB: delegation(CAROL)}

    assert tally.standing([ALICE, BOB], CAROL, [], found, NOW) == ([BOB], [BOB])


def test_an_approver_votes_for_themselves_and_their_groups_whatever_their_delegation() -> None:
    found = {ALICE: delegation(DAVE)}

    assert tally.standing([ALICE, ENG], ALICE, [ALICE, ENG], found, NOW) == ([ALICE, ENG], [])


def test_someone_who_is_no_approver_may_not_vote() -> None:
    with refused(NotAllowedError, "you are not an approver of this request"):
        tally.refuse_ineligible(request(), DAVE, [], [])


def test_a_requester_may_vote_on_their_own_request_unless_the_workflow_forbids_it() -> None:
    theirs = request(requester="Alice@Example.com")

    tally.refuse_ineligible(theirs, ALICE, [ALICE], [])
    with refused(NotAllowedError, "you may not vote on your own request"):
        tally.refuse_ineligible({**theirs, "prevent_self_approval": True}, ALICE, [ALICE], [])


def test_a_delegate_may_not_approve_the_request_of_the_approver_they_stand_in_for() -> None:
    theirs = request(requester=ALICE, prevent_self_approval=True)

    with refused(NotAllowedError, "you may not vote on your own request"):
        tally.refuse_ineligible(theirs, DAVE, [ALICE], [ALICE])
    tally.refuse_ineligible(theirs, DAVE, [BOB], [BOB])


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"status": "cancelled"}, "the request was cancelled"),
        ({"status": "expired"}, "the request has expired"),
        ({"status": "approved"}, "the request was already decided"),
        ({"status": "deciding"}, "the request was already decided"),
        ({"due_at": NOW}, "the request has expired"),
    ],
)
def test_a_closed_request_takes_no_vote(fields: dict[str, Any], reason: str) -> None:
    with refused(ConflictError, reason):
        tally.refuse_closed(request(**fields), NOW)


def test_an_open_request_before_its_due_time_takes_votes() -> None:
    tally.refuse_closed(request(due_at=NOW + timedelta(seconds=1)), NOW)


def test_nobody_votes_twice() -> None:
    with refused(ConflictError, "you have already voted on this request"):
        tally.refuse_second_vote(request(), [ballot(ALICE, "rejected")], ALICE, [ALICE])


def test_an_approver_and_their_delegate_share_one_seat() -> None:
    with refused(ConflictError, f"{ALICE} has already voted on this request"):
        tally.refuse_second_vote(request(), [ballot(ALICE)], DAVE, [ALICE])
    with refused(ConflictError, f"{ALICE} has already voted on this request (by {DAVE})"):
        tally.refuse_second_vote(request(), [ballot(DAVE, "approved", ALICE)], ALICE, [ALICE])


def test_sealed_votes_do_not_say_whose_delegate_took_a_seat() -> None:
    sealed = request(votes_visible="after_decision")

    with refused(ConflictError, f"{ALICE} has already voted on this request"):
        tally.refuse_second_vote(sealed, [ballot(DAVE, "approved", ALICE)], ALICE, [ALICE])


def test_a_groups_members_each_vote() -> None:
    group = request(approvers=[ENG])

    tally.refuse_second_vote(group, [ballot("erin@example.com", "approved", ENG)], "finn@example.com", [ENG])


def test_after_an_escalation_only_the_new_rounds_votes_count() -> None:
    escalated = request(escalated=True, rules=[rule("leads", [ALICE, BOB], 1)])
    first = ballot(ALICE, "rejected")  # stored before rounds existed: the initial round

    counts = tally.count(escalated, [first, ballot(BOB, round=tally.ESCALATION_ROUND)])

    assert counts["voters"] == [BOB] and counts["rejections"] == 0
    assert tally.outcome(escalated, counts) == "approved"
    # ALICE voted in the first round, so she votes again in this one.
    tally.refuse_second_vote(escalated, [first], ALICE, [ALICE])
    assert tally.taken(escalated, [first]) == set()


def test_who_voted_and_whose_seats_are_taken() -> None:
    votes = [ballot("Erin@Example.com", "approved", ENG), ballot(DAVE, "rejected", ALICE)]

    assert tally.taken(request(), votes) == {"erin@example.com", DAVE, ALICE}


def test_sealed_votes_show_only_the_counts() -> None:
    counts = tally.count(request(), [ballot(ALICE)])

    assert tally.shown(request(votes_visible="after_decision"), counts) == {
        "approvals": 1,
        "rejections": 0,
        "rules": {"approvers": 1},
    }
    assert tally.shown(request(votes_visible="always"), counts) == counts


@pytest.mark.parametrize(
    ("principal", "person"),
    [(ALICE, True), ("Group:eng@example.com", False), ("eng", False), (None, False)],
)
def test_only_a_single_person_holds_a_seat(principal: Any, person: bool) -> None:
    assert tally.is_email(principal) is person
