"""Mails and decision links end to end on the local dev stack, over HTTP only.

A requester starts a translation through /api/start; the workflow publishes
"requested" on the events topic, the Pub/Sub emulator pushes it to the notify
function, which mails each e-mail approver a signed link through the local
mail relay: the origin's /local/outbox. Following a link (GET) only shows
what it decides; pressing its Approve button (POST /link) casts the vote.
Approvers are those of Pulumi.dev.yaml.
"""

from __future__ import annotations

from typing import Any

from tests.e2e.stack_client import Client, link_request_id

REQUESTER = "carol@example.com"
# The translation approvers of Pulumi.dev.yaml who have an address: group:reviewers gets no mail.
MAILED = ("alice@example.com", "bob@example.com")
SUBJECT = "Validate the en to fr translation"


def test_each_approver_is_mailed_a_link_that_shows_then_decides(client: Client) -> None:
    started = client.start(REQUESTER, "translation-validation", {"text": "Hello"})

    def for_this_request(mail: dict[str, Any]) -> bool:
        return "link" in mail and link_request_id(mail["link"]) == started.request_id

    mails = client.wait_for_mails(for_this_request, len(MAILED))
    assert sorted(mail["to"] for mail in mails) == sorted(MAILED)
    links = {mail["to"]: mail["link"] for mail in mails}
    for mail in mails:
        assert mail["link"].startswith(f"{client.origin}/link?token=")
        assert SUBJECT in mail["subject"]
        assert mail["link"] in mail["text"]
    assert links[MAILED[0]] != links[MAILED[1]]

    # Following the link (as a mail scanner would, twice) shows the request and decides nothing.
    for _ in range(2):
        shown = client.open_link(links[MAILED[0]])
        assert shown.status_code == 200, shown.text
        assert shown.headers["Content-Type"].startswith("text/html")
        assert SUBJECT in shown.text
        assert MAILED[0] in shown.text
        assert 'name="outcome" value="approved"' in shown.text
    assert client.request(MAILED[0], started.request_id)["status"] == "pending"
    assert client.execution(started.execution)["state"] == "ACTIVE"

    decided = client.use_link(links[MAILED[0]], "approved", "Looks right")
    assert decided.status_code == 200, decided.text
    assert "Decision recorded" in decided.text

    execution = client.wait_until_ended(started.execution)
    assert execution["state"] == "SUCCEEDED", execution.get("error")
    assert client.request(MAILED[0], started.request_id)["status"] == "approved"
    # The requester hears how it ended; the links are spent.
    [told] = client.wait_for_mails(lambda mail: mail["to"] == REQUESTER, 1)
    assert told["subject"].startswith("Approved")
    assert client.use_link(links[MAILED[0]], "approved").status_code == 409
    assert client.open_link(links[MAILED[1]]).status_code == 409
