"""Votes: delegates holding two seats, decision links after a vote, misleading text in a link's comment.

The dev stack's `release-approval` asks two of alice, bob and carol first.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.stack_client import Client, Started, link_request_id

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
    [mail] = client.wait_for_mails(
        lambda m: m["to"] == person and link_request_id(m["link"]) == request_id, 1
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
