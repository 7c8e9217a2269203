"""A leaked callback URL: a forged decision is refused by the workflow, audited, and the request waits.

The dev stack's release-approval asks two of alice, bob and carol. The attacker
holds the engineering stage's callback URL (read here with the emulator's admin
credential, as if it had leaked) and a credential that may send callbacks, and
posts what decide would post.
"""

from __future__ import annotations

from typing import Any

import requests

from approvals.emulator.stack import LocalStack
from tests.e2e.stack_client import HTTP_TIMEOUT, Client, firestore_fields, poll
from tests.security.conftest import token_of
from tests.security.test_vote_attacks import ALICE, BOB, REQUESTER, start_release

MALLORY = "mallory@example.com"


def leaked_callback_url(client: Client, request_id: str) -> str:
    document = (
        f"projects/{client.project}/databases/{client.database}/documents/approval_callbacks/{request_id}"
    )
    response = requests.get(
        f"{client.firestore}/v1/{document}", headers={"Authorization": "Bearer owner"}, timeout=HTTP_TIMEOUT
    )
    assert response.status_code == 200, response.text
    return firestore_fields(response.json()["fields"])["url"]


def forge(client: Client, stack: LocalStack, request_id: str, **body: Any) -> None:
    """POST a decision to the request's callback with a credential that may send callbacks."""
    decision = {
        "request_id": request_id,
        "outcome": "approved",
        "approver": MALLORY,
        "principal": ALICE,
        "comment": "forged",
        "votes": [],
        **body,
    }
    response = requests.post(
        leaked_callback_url(client, request_id),
        json=decision,
        headers={"Authorization": f"Bearer {token_of(stack, 'decide')}"},
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 200, response.text


def refused_callback(client: Client, request_id: str) -> dict[str, Any]:
    """The one invalid_callback event of the request, once the workflow has audited it."""
    [event] = poll(
        lambda: [e for e in client.audit(REQUESTER, request_id) if e["event"] == "invalid_callback"],
        bool,
        f"the refused callback of {request_id}",
    )
    return event


def test_a_forged_approval_with_no_votes_is_refused_and_the_request_waits(
    client: Client, stack: LocalStack
) -> None:
    started, engineering = start_release(client)

    forge(client, stack, engineering)
    refused = refused_callback(client, engineering)

    assert refused["details"] == {"problem": "no decision is recorded for this request"}
    assert client.request(REQUESTER, engineering)["status"] == "pending"
    assert client.execution(started.execution)["state"] == "ACTIVE"
    # The approvers still decide it, and the outcome names them, not the forger.
    assert client.decide(ALICE, engineering, "approved").status_code == 200
    assert client.decide(BOB, engineering, "approved").json()["status"] == "deciding"
    client.wait_until_awaiting(started.execution, callbacks=2)
    decided = client.request(REQUESTER, engineering)
    assert (decided["status"], decided["decided_by"]) == ("approved", BOB)


def test_a_forged_outcome_against_a_recorded_decision_is_refused(client: Client, stack: LocalStack) -> None:
    started, engineering = start_release(client)
    assert client.decide(ALICE, engineering, "approved").status_code == 200

    forge(client, stack, engineering, outcome="rejected", approver=ALICE)

    refused = refused_callback(client, engineering)
    assert refused["details"] == {"problem": "no decision is recorded for this request"}
    assert client.request(REQUESTER, engineering)["tally"]["approvals"] == 1
    assert client.execution(started.execution)["state"] == "ACTIVE"


def test_only_an_identity_that_may_send_callbacks_reaches_the_workflow(
    client: Client, stack: LocalStack
) -> None:
    """start and cancel's identities hold no workflows.callbacks.send: the engine refuses them as
    Google's front end does, before the workflow sees anything."""
    started, engineering = start_release(client)
    url = leaked_callback_url(client, engineering)

    for role in ("start", "cancel", "notify"):
        response = requests.post(
            url,
            json={"request_id": engineering},
            headers={"Authorization": f"Bearer {token_of(stack, role)}"},
            timeout=HTTP_TIMEOUT,
        )
        assert response.status_code == 403, (role, response.text)
        assert response.json()["error"]["status"] == "PERMISSION_DENIED"
    assert requests.post(url, json={}, timeout=HTTP_TIMEOUT).status_code == 401
    assert [e for e in client.audit(REQUESTER, engineering) if e["event"] == "invalid_callback"] == []
    assert client.execution(started.execution)["state"] == "ACTIVE"
