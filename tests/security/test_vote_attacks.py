"""Votes: delegates holding two seats, decision links after a vote, misleading text in a link's comment.

The dev stack's `release-approval` asks two of alice, bob and carol first.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from tests.e2e.stack_client import Client, Started, link_request_id, poll

ALICE, BOB, CAROL = "alice@example.com", "bob@example.com", "carol@example.com"
DAVE = "dave@example.com"
REQUESTER = "rita@example.com"
RELEASE = {"subject": "Release 2.0", "details": "Everything in the 2.0 milestone"}


def start_release(client: Client, given: dict[str, str] = RELEASE) -> tuple[Started, str]:
    """A release request waiting for its engineers; the started request and the engineering stage's id."""
    started = client.start(REQUESTER, "release-approval", given)
    client.wait_until_awaiting(started.execution)
    return started, f"{started.request_id}-engineering"


def link_for(client: Client, person: str, request_id: str) -> str:
    # Only mails asking for a vote carry a link (a requester's "Cancelled" mail does not).
    [mail] = client.wait_for_mails(
        lambda m: m["to"] == person and "link" in m and link_request_id(m["link"]) == request_id, 1
    )
    return mail["link"]


@pytest.fixture
def dave_stands_in_for_alice_and_bob(client: Client) -> Iterator[None]:
    for delegator in (ALICE, BOB):
        assert client.delegate(delegator, DAVE, days=1).status_code == 200
    yield
    for delegator in (ALICE, BOB):
        assert client.undelegate(delegator).status_code == 200


@pytest.mark.usefixtures("dave_stands_in_for_alice_and_bob")
def test_a_delegate_for_two_approvers_fills_both_seats(client: Client) -> None:
    started, engineering = start_release(client)

    response = client.decide(DAVE, engineering, "approved", "for both of them")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "deciding"
    tally = response.json()["tally"]
    assert tally["rules"] == {"approvers": 2}
    assert tally["seats"] == {ALICE: DAVE, BOB: DAVE}
    # The stage is decided: the chain moves on to legal and finance.
    client.wait_until_awaiting(started.execution, callbacks=2)
    assert client.request(REQUESTER, engineering)["status"] == "approved"


def test_a_decision_link_shows_no_form_to_who_voted_on_the_page(client: Client) -> None:
    _, engineering = start_release(client)
    link = link_for(client, ALICE, engineering)
    assert client.decide(ALICE, engineering, "approved").status_code == 200

    page = client.open_link(link)

    assert page.status_code == 409
    assert "already voted on this request" in page.text
    assert "<form" not in page.text


def test_a_link_comment_with_bidi_controls_is_refused(client: Client) -> None:
    _, engineering = start_release(client)
    link = link_for(client, CAROL, engineering)

    response = client.use_link(link, "approved", "fine \u2066by me")

    assert response.status_code == 400
    assert "U+2066" in response.text
    assert client.request(CAROL, engineering)["tally"]["approvals"] == 0


LEE, FINANCE = "lee@example.com", "finance@example.com"  # legal (group:legal) and finance


def test_sealed_votes_stay_hidden_from_the_other_approvers_until_the_decision(client: Client) -> None:
    """The release's second stage has votes_visible: after_decision (Pulumi.dev.yaml)."""
    started, engineering = start_release(client)
    for engineer in (ALICE, BOB):
        assert client.decide(engineer, engineering, "approved").status_code == 200
    client.wait_until_awaiting(started.execution, callbacks=2)
    stage = f"{started.request_id}-legal-and-finance"

    answer = client.decide(LEE, stage, "approved", "the contract is fine")

    assert answer.status_code == 200, answer.text
    assert answer.json()["tally"] == {"approvals": 1, "rejections": 0, "rules": {"legal": 1, "finance": 0}}
    # Through the Firestore rules, as the other approver: counts, and nobody's name or comment.
    seen = client.request(FINANCE, stage)
    assert seen["tally"] == answer.json()["tally"]
    [voted] = [e for e in client.audit(FINANCE, stage) if e["event"] == "voted"]
    assert (voted["actor"], voted["details"]) == ("", {"sealed": True})

    assert client.decide(FINANCE, stage, "approved").json()["status"] == "deciding"
    client.wait_until_ended(started.execution)
    [decided] = [e for e in client.audit(FINANCE, stage) if e["event"] == "decided"]
    assert {"approver": LEE, "outcome": "approved", "comment": "the contract is fine"} in decided["details"][
        "votes"
    ]


@pytest.mark.usefixtures("dave_stands_in_for_alice_and_bob")
def test_a_delegate_reads_a_request_only_while_it_is_open(client: Client) -> None:
    started, engineering = start_release(client)
    path = f"approval_requests/{engineering}"
    # notify stamps the delegates in force when it mails the approvers.
    poll(lambda: client.read_document(DAVE, path).status_code, lambda code: code == 200, "dave's stamp")

    for engineer in (BOB, CAROL):
        assert client.decide(engineer, engineering, "approved").status_code == 200
    client.wait_until_awaiting(started.execution, callbacks=2)

    assert client.request(REQUESTER, engineering)["delegates"] == []
    assert client.read_document(DAVE, path).status_code == 403


def test_a_delegate_stops_reading_a_waiting_request_when_the_delegation_ends(client: Client) -> None:
    """The delegation timer announces the end; notify restamps. (Last here: it moves the clock an hour.)"""
    delegated = client.delegate(ALICE, DAVE, days=1 / 24)
    assert delegated.status_code == 200, delegated.text
    try:
        # expense-approval asks alice alone, for a day, with no reminders to restamp it.
        started = client.start(
            REQUESTER, "expense-approval", {"amount": 12.5, "currency": "EUR", "reason": "taxi"}
        )
        client.wait_until_awaiting(started.execution)
        path = f"approval_requests/{started.request_id}"
        poll(lambda: client.read_document(DAVE, path).status_code, lambda code: code == 200, "dave's stamp")

        ends_at = datetime.fromisoformat(delegated.json()["ends_at"])
        client.advance((ends_at - client.advance(0)).total_seconds() + 1)

        poll(
            lambda: client.read_document(DAVE, path).status_code,
            lambda code: code == 403,
            "dave's stamp gone",
        )
        assert client.request(ALICE, started.request_id)["status"] == "pending"
    finally:
        assert client.undelegate(ALICE).status_code == 200
