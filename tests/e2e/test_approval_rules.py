"""Approval rules end to end on the local dev stack, over HTTP, on a virtual clock.

Mails and signed decision links first: a translation's "requested" event
goes from the workflow to the events topic, the Pub/Sub emulator pushes it to
the notify function, which mails each e-mail approver, and each member of a
group approver, a link of their own through the local mail relay (the origin's
/local/outbox). Following a link (GET) only shows what it decides; its Approve
button (POST /link) votes.

Then the rules: the dev stack's `release-approval` workflow (Pulumi.dev.yaml) is an
approval_chain: first two of three engineers (alice, bob, carol), reminded
every hour for three days and then escalated to the CTO for a day; then one
from legal AND one from finance. Everything here goes through the hosting
origin, the functions, the engine and the Firestore emulator as a page would.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.e2e.stack_client import Client, Started, link_request_id, poll

ALICE, BOB, CAROL = "alice@example.com", "bob@example.com", "carol@example.com"
CTO = "cto@example.com"
FINANCE = "finance@example.com"
LEGAL = "lee@example.com"  # in group:legal (Pulumi.dev.yaml's approvals:groups)
REVIEWER = "rex@example.com"  # in group:reviewers (Pulumi.dev.yaml's approvals:groups)
REQUESTER = "rita@example.com"
DAVE = "dave@example.com"
HOUR = 3600
DAY = 24 * HOUR
RELEASE = {"subject": "Release 2.0", "details": "Everything in the 2.0 milestone"}
TRANSLATION_REQUESTER = CAROL
# The translation approvers of Pulumi.dev.yaml: alice, bob, and group:reviewers' member.
MAILED = (ALICE, BOB, REVIEWER)
SUBJECT = "Validate the en to fr translation"


def test_each_approver_is_mailed_a_link_that_shows_then_decides(client: Client) -> None:
    """The group member's link decides: its vote counts for group:reviewers, as the platform declares it."""
    started = client.start(TRANSLATION_REQUESTER, "translation-validation", {"text": "Hello"})

    def for_this_request(mail: dict[str, Any]) -> bool:
        return "link" in mail and link_request_id(mail["link"]) == started.request_id

    mails = client.wait_for_mails(for_this_request, len(MAILED))
    assert sorted(mail["to"] for mail in mails) == sorted(MAILED)
    links = {mail["to"]: mail["link"] for mail in mails}
    for mail in mails:
        assert mail["link"].startswith(f"{client.origin}/link?token=")
        assert SUBJECT in mail["subject"]
        assert mail["link"] in mail["text"]
    assert len(set(links.values())) == len(MAILED)

    # Following the link (as a mail scanner would, twice) shows the request and decides nothing.
    for _ in range(2):
        shown = client.open_link(links[REVIEWER])
        assert shown.status_code == 200, shown.text
        assert shown.headers["Content-Type"].startswith("text/html")
        assert SUBJECT in shown.text
        assert REVIEWER in shown.text
        assert 'name="outcome" value="approved"' in shown.text
    assert client.request(REVIEWER, started.request_id)["status"] == "pending"
    assert client.execution(started.execution)["state"] == "ACTIVE"

    decided = client.use_link(links[REVIEWER], "approved", "Looks right")
    assert decided.status_code == 200, decided.text
    assert "Decision recorded" in decided.text

    execution = client.wait_until_ended(started.execution)
    assert execution["state"] == "SUCCEEDED", execution.get("error")
    request = client.request(REVIEWER, started.request_id)
    assert (request["status"], request["decided_by"]) == ("approved", REVIEWER)
    [voted] = [event for event in client.audit(REVIEWER, started.request_id) if event["event"] == "voted"]
    assert (voted["details"]["principals"], voted["details"]["identity_source"]) == (
        ["group:reviewers"],
        "signed-link",
    )
    # The requester hears how it ended; the links are spent.
    client.wait_for_mails(
        lambda mail: mail["to"] == TRANSLATION_REQUESTER and mail["subject"] == f"Approved: {SUBJECT}", 1
    )
    assert client.use_link(links[REVIEWER], "approved").status_code == 409
    assert client.open_link(links[ALICE]).status_code == 409


def start_release(client: Client) -> Started:
    started = client.start(REQUESTER, "release-approval", RELEASE)
    client.wait_until_awaiting(started.execution)
    return started


def stage_id(started: Started, stage: str) -> str:
    return f"{started.request_id}-{stage}"


def vote(client: Client, email: str, request_id: str, outcome: str = "approved") -> dict[str, Any]:
    response = client.decide(email, request_id, outcome)
    assert response.status_code == 200, response.text
    return response.json()


def audit_events(client: Client, email: str, request_id: str) -> list[str]:
    """The request's audit trail as `email` may read it (the rules let approvers and the requester)."""
    return [event["event"] for event in client.audit(email, request_id)]


def test_two_of_three_then_legal_and_finance_approve_the_release(client: Client) -> None:
    started = start_release(client)
    engineering = stage_id(started, "engineering")

    first = vote(client, ALICE, engineering)
    assert (first["status"], first["tally"]["approvals"]) == ("pending", 1)
    assert client.decide(ALICE, engineering, "approved").status_code == 409  # one vote each
    request = client.request(ALICE, engineering)
    assert (request["status"], request["tally"]["voters"]) == ("pending", [ALICE])

    assert vote(client, BOB, engineering)["status"] == "deciding"
    client.wait_until_awaiting(started.execution, callbacks=2)
    legal_and_finance = stage_id(started, "legal-and-finance")
    second = client.request(FINANCE, legal_and_finance)
    assert [rule["name"] for rule in second["rules"]] == ["legal", "finance"]
    assert second["payload"]["earlier_stages"][0]["votes"] == [
        {"approver": ALICE, "outcome": "approved", "comment": ""},
        {"approver": BOB, "outcome": "approved", "comment": ""},
    ]

    assert vote(client, FINANCE, legal_and_finance)["tally"]["rules"] == {"legal": 0, "finance": 1}
    assert vote(client, LEGAL, legal_and_finance)["status"] == "deciding"

    result = client.result(started.execution)
    assert result["approved"] is True
    assert [stage["status"] for stage in result["stages"]] == ["approved", "approved"]
    assert audit_events(client, REQUESTER, engineering) == ["requested", "voted", "voted", "decided"]


def test_one_rejection_vetoes_the_release(client: Client) -> None:
    started = start_release(client)
    engineering = stage_id(started, "engineering")

    vote(client, ALICE, engineering)
    assert vote(client, CAROL, engineering, "rejected")["status"] == "deciding"

    result = client.result(started.execution)
    assert result["approved"] is False
    assert [stage["status"] for stage in result["stages"]] == ["rejected"]


def test_the_requester_cannot_vote_on_their_own_release(client: Client) -> None:
    started = client.start(ALICE, "release-approval", RELEASE)
    client.wait_until_awaiting(started.execution)
    engineering = stage_id(started, "engineering")

    response = client.decide(ALICE, engineering, "approved")

    assert response.status_code == 403
    assert response.json()["error"] == "you may not vote on your own request"
    assert client.request(BOB, engineering)["tally"]["approvals"] == 0


def test_hourly_reminders_for_three_days_then_escalation_then_expiry(client: Client) -> None:
    started = start_release(client)
    engineering = stage_id(started, "engineering")
    created = client.request(ALICE, engineering)["created_at"]

    client.advance(3 * DAY - 1)
    reminded = client.request(ALICE, engineering)
    assert reminded["reminders_sent"] == 71  # every hour while pending, none at the deadline
    assert reminded["last_reminder_at"] == created + timedelta(hours=71)
    assert reminded["status"] == "pending"

    client.advance(1)
    escalated = client.request(CTO, engineering)
    assert (escalated["escalated"], escalated["approvers"]) == (True, [CTO])
    assert escalated["due_at"] == created + timedelta(days=4)
    # The engineers are no longer asked.
    assert client.decide(ALICE, engineering, "approved").status_code == 403

    client.advance(DAY)
    result = client.result(started.execution)
    assert [stage["status"] for stage in result["stages"]] == ["expired"]
    trail = audit_events(client, REQUESTER, engineering)
    assert trail == ["requested", *["reminder"] * 71, "escalated", *["reminder"] * 23, "expired"]
    # notify mails the reminders to whoever is asked at the time: the engineers, then the CTO.
    reminded_people = poll(
        lambda: {
            mail["to"]
            for mail in client.outbox()
            if mail["subject"].startswith("Reminder:") and link_request_id(mail["link"]) == engineering
        },
        lambda people: people == {ALICE, BOB, CAROL, CTO},
        "reminder mails to the engineers and the CTO",
    )
    assert REQUESTER not in reminded_people


def test_after_escalation_the_cto_decides(client: Client) -> None:
    started = start_release(client)
    engineering = stage_id(started, "engineering")
    client.advance(3 * DAY)

    assert vote(client, CTO, engineering, "rejected")["status"] == "deciding"

    result = client.result(started.execution)
    assert (result["stages"][0]["status"], result["stages"][0]["approver"]) == ("rejected", CTO)


def test_the_requester_cancels_a_pending_release(client: Client) -> None:
    started = start_release(client)
    engineering = stage_id(started, "engineering")
    assert client.cancel(ALICE, engineering).status_code == 403  # only the requester

    response = client.cancel(REQUESTER, engineering, reason="postponed")

    assert response.status_code == 200, response.text
    assert client.wait_until_ended(started.execution)["state"] == "CANCELLED"
    request = client.request(REQUESTER, engineering)
    assert (request["status"], request["cancel_reason"]) == ("cancelled", "postponed")
    assert client.decide(BOB, engineering, "approved").status_code == 409
    assert audit_events(client, REQUESTER, engineering) == ["requested", "cancelled"]
    poll(
        lambda: [mail for mail in client.outbox() if mail["subject"].startswith("Cancelled:")],
        lambda mails: any(mail["to"] == REQUESTER for mail in mails),
        "the requester's cancellation mail",
    )


def test_a_delegate_votes_for_an_approver_out_of_office(client: Client) -> None:
    response = client.delegate(BOB, DAVE, days=7)
    assert response.status_code == 200, response.text
    started = start_release(client)
    engineering = stage_id(started, "engineering")

    vote(client, ALICE, engineering)
    assert vote(client, DAVE, engineering)["status"] == "deciding"

    client.wait_until_awaiting(started.execution, callbacks=2)  # engineering approved: the next stage
    decided = client.request(REQUESTER, engineering)
    assert decided["status"] == "approved"
    [decided_event] = [e for e in client.audit(REQUESTER, engineering) if e["event"] == "decided"]
    assert [v["approver"] for v in decided_event["details"]["votes"]] == [ALICE, DAVE]
    [voted_by_dave] = [
        e for e in client.audit(REQUESTER, engineering) if (e["event"], e["actor"]) == ("voted", DAVE)
    ]
    assert voted_by_dave["details"]["on_behalf_of"] == BOB
    assert client.undelegate(BOB).status_code == 200


def test_a_delegate_sees_the_requests_they_stand_in_for(client: Client) -> None:
    """On the page's terms (the security rules): from the delegation until it is taken back."""
    earlier = stage_id(start_release(client), "engineering")
    assert client.read_document(DAVE, f"approval_requests/{earlier}").status_code == 403

    # Making the delegation shows Bob's pending requests to Dave at once...
    assert client.delegate(BOB, DAVE, days=7).status_code == 200
    assert client.request(DAVE, earlier)["stand_in_for"] == {DAVE: BOB}
    assert audit_events(client, DAVE, earlier) == ["requested"]
    # ...and each new one once notify has handled its "requested" event.
    later = stage_id(start_release(client), "engineering")
    poll(
        lambda: client.read_document(DAVE, f"approval_requests/{later}"),
        lambda response: response.status_code == 200,
        "the new request, as Dave reads it",
    )
    assert client.request(DAVE, later)["delegates"] == [DAVE]

    assert client.undelegate(BOB).status_code == 200
    for request_id in (earlier, later):
        assert client.read_document(DAVE, f"approval_requests/{request_id}").status_code == 403


@pytest.mark.parametrize("email", [DAVE, "stranger@example.com"])
def test_strangers_cannot_read_a_request_s_history(client: Client, email: str) -> None:
    started = start_release(client)

    response = client.read_audit(email, stage_id(started, "engineering"))

    assert response.status_code == 403
