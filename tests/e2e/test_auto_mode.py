"""A dev stack in `auto` approval mode: every request is approved at once by the bot, and audited.

The stack is the dev program with `approvals:mode` set to auto, as a team
would set it for a development environment (the policy pack refuses it in
prod); it runs on its own, so this module has a stack of its own.
"""

from __future__ import annotations

from tests.e2e.stack_client import Client, poll
from tests.support.stacks import stack_configured

REQUESTER = "rita@example.com"
ALICE = "alice@example.com"


# Every workflow approved at once by the bot: allowed in dev, never in prod.
stack = stack_configured({"approvals:mode": "auto"})


def test_a_request_is_approved_by_the_bot_at_once_and_audited(client: Client) -> None:
    started = client.start(REQUESTER, "translation-validation", {"text": "Hello"})

    result = client.result(started.execution)

    assert result["approved"] is True
    request = client.request(REQUESTER, started.request_id)
    assert (request["status"], request["decided_by"], request["mode"]) == (
        "approved",
        "approvals-bot",
        "auto",
    )
    trail = client.audit(ALICE, started.request_id)
    assert [(event["event"], event["actor"]) for event in trail] == [
        ("requested", REQUESTER),
        ("decided", "approvals-bot"),
    ]
    assert trail[-1]["details"]["identity_source"] == "auto-mode"
    # Nobody is asked: the requester hears of the outcome, no approver gets a link.
    poll(
        client.outbox,
        lambda mails: any(mail["subject"].startswith("Approved:") for mail in mails),
        "the requester's mail",
    )
    assert {(mail["to"], mail["subject"].split(":")[0]) for mail in client.outbox()} == {
        (REQUESTER, "Approved")
    }
