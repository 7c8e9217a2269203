"""Who may ask: a stranger signed in with a verified address, and a flood from one requester."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from approvals.emulator.stack import LocalStack
from tests.e2e.stack_client import HTTP_TIMEOUT, Client, link_request_id
from tests.security.conftest import token_of

EXPENSE = {"amount": 12.5, "currency": "EUR", "reason": "train"}
# Pulumi.dev.yaml's translation-validation: the default limit, 10 waiting requests each.
LIMIT = 10


def start(client: Client, email: str, workflow: str = "expense-approval") -> requests.Response:
    given = EXPENSE if workflow == "expense-approval" else {"text": "Hello"}
    return requests.post(
        f"{client.origin}/api/start",
        json={"workflow": workflow, "input": given},
        headers={"Authorization": f"Bearer {client.token(email)}"},
        timeout=HTTP_TIMEOUT,
    )


def test_a_stranger_with_a_verified_address_cannot_ask(client: Client) -> None:
    probe = client.start("carol@example.com", "expense-approval", EXPENSE)
    before = len(client.executions(probe.execution))

    response = start(client, "mallory@evil.test")

    assert response.status_code == 403
    assert response.json() == {"error": "you may not ask this workflow for approval"}
    assert len(client.executions(probe.execution)) == before


def test_a_flood_from_one_requester_stops_at_the_limit(client: Client) -> None:
    flooder = f"flood-{uuid.uuid4().hex[:8]}@example.com"
    client.token(flooder)

    with ThreadPoolExecutor(max_workers=4) as pool:
        burst = list(
            pool.map(lambda _: start(client, flooder, "translation-validation").status_code, range(12))
        )
    # Racing starts of one requester queue on their document; some are told to retry (503).
    assert set(burst) <= {200, 429, 503}
    assert burst.count(200) <= LIMIT
    more = [
        start(client, flooder, "translation-validation").status_code
        for _ in range(LIMIT + 1 - burst.count(200))
    ]

    assert more[-1] == 429
    assert burst.count(200) + more.count(200) == LIMIT
    # Someone else still gets through.
    assert (
        start(client, f"other-{uuid.uuid4().hex[:8]}@example.com", "translation-validation").status_code
        == 200
    )


def create_execution(
    client: Client, workflow: str, argument: dict[str, Any], token: str | None
) -> requests.Response:
    """POST to the engine's Executions API (REST) as the holder of ``token``."""
    return requests.post(
        f"{client.engine}/v1/{workflow}/executions",
        json={"argument": json.dumps(argument)},
        headers={"Authorization": f"Bearer {token}"} if token else {},
        timeout=HTTP_TIMEOUT,
    )


def test_only_identities_granted_executions_create_may_start_one(client: Client, stack: LocalStack) -> None:
    probe = client.start("carol@example.com", "expense-approval", EXPENSE)
    workflow = probe.execution.rsplit("/executions/", 1)[0]
    argument = {**EXPENSE, "request_id": uuid.uuid4().hex, "requester": "ceo@example.com"}
    before = len(client.executions(probe.execution))

    assert create_execution(client, workflow, argument, None).status_code == 401
    assert create_execution(client, workflow, argument, "made-up").status_code == 401
    # decide may send callbacks, and nothing else of the Workflows APIs.
    refused = create_execution(client, workflow, argument, token_of(stack, "decide"))
    assert refused.status_code == 403
    assert "workflows.executions.create" in refused.json()["error"]["message"]
    assert len(client.executions(probe.execution)) == before


def test_a_workflow_started_directly_names_an_unverified_requester(client: Client, stack: LocalStack) -> None:
    """grant_invoke lets a system start executions itself: whatever requester it writes is marked."""
    probe = client.start("carol@example.com", "expense-approval", EXPENSE)
    workflow = probe.execution.rsplit("/executions/", 1)[0]
    request_id = uuid.uuid4().hex
    argument = {**EXPENSE, "request_id": request_id, "requester": "ceo@example.com"}
    # An identity holding the executionStarter role, as grant_invoke gives one.
    response = create_execution(client, workflow, argument, token_of(stack, "start"))
    assert response.status_code == 200, response.text
    client.wait_until_awaiting(response.json()["name"])

    direct = client.request("alice@example.com", request_id)
    assert (direct["requester"], direct["requester_verified"]) == ("ceo@example.com", False)
    assert client.request("alice@example.com", probe.request_id)["requester_verified"] is True
    [mail] = client.wait_for_mails(
        lambda m: m["to"] == "alice@example.com" and "link" in m and link_request_id(m["link"]) == request_id,
        1,
    )
    assert "ceo@example.com (not verified" in mail["text"]


def test_the_requester_cancels_a_chain_with_the_id_start_gave(client: Client) -> None:
    started = client.start("rita@example.com", "release-approval", {"subject": "Release 3", "details": "-"})
    client.wait_until_awaiting(started.execution)

    response = client.cancel("rita@example.com", started.request_id, "wrong milestone")

    assert response.status_code == 200, response.text
    assert response.json() == {"request_id": f"{started.request_id}-engineering", "status": "cancelled"}
    assert client.wait_until_ended(started.execution)["state"] == "CANCELLED"


def test_the_requester_cancels_an_expense_s_second_stage_with_the_id_start_gave(client: Client) -> None:
    """The manager's stage is named by the start id itself; finance's waits under its own name."""
    started = client.start("carol@example.com", "expense-approval", {**EXPENSE, "amount": 5000})
    client.wait_until_awaiting(started.execution)
    assert client.decide("alice@example.com", started.request_id, "approved").status_code == 200
    client.wait_until_awaiting(started.execution, callbacks=2)

    response = client.cancel("carol@example.com", started.request_id)

    assert response.status_code == 200, response.text
    assert response.json()["request_id"] == f"{started.request_id}-finance"
    assert client.wait_until_ended(started.execution)["state"] == "CANCELLED"
