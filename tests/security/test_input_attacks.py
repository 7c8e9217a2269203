"""Hostile input on every JSON endpoint: a 4xx JSON answer naming the field, and nothing half-written.

Each body here once answered 200 and then failed the execution (leaving a
callback document and no request), or answered 500.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.e2e.stack_client import HTTP_TIMEOUT, Client

REQUESTER = "carol@example.com"
EXPENSE = {"amount": 12.5, "currency": "EUR", "reason": "train"}
ENDPOINTS = ("/api/start", "/api/decide", "/api/cancel", "/api/delegations")


def _post_raw(client: Client, path: str, data: bytes, email: str = REQUESTER) -> requests.Response:
    """POST ``data`` as it is (JSON a client library would refuse to write)."""
    return requests.post(
        f"{client.origin}{path}",
        data=data,
        headers={"Authorization": f"Bearer {client.token(email)}", "Content-Type": "application/json"},
        timeout=HTTP_TIMEOUT,
    )


def _executions_of(client: Client, workflow: str) -> int:
    """How many executions the engine holds of the dev stack's ``workflow``."""
    started = client.start(REQUESTER, workflow, EXPENSE if workflow == "expense-approval" else {"text": "x"})
    return len(client.executions(started.execution))


@pytest.mark.parametrize(
    ("raw_input", "field"),
    [
        ('{"amount": 1e400, "currency": "EUR", "reason": "r"}', "input.amount"),
        ('{"amount": 99999999999999999999, "currency": "EUR", "reason": "r"}', "input.amount"),
        ('{"amount": 1, "currency": "EUR", "reason": "\\ud800"}', "input.reason"),
        ('{"amount": 1, "currency": "EUR", "reason": "pay \\u202eRUE 01\\u202c"}', "input.reason"),
        ('{"amount": 1, "currency": "EUR", "reason": "a\\u0007b"}', "input.reason"),
        ('{"amount": 1, "currency": "EUR", "reason": "line\\r\\nBcc: x"}', "input.reason"),
    ],
    ids=[
        "overflowing-double",
        "beyond-int64",
        "lone-surrogate",
        "bidi-override",
        "c0-control",
        "carriage-return",
    ],
)
def test_start_refuses_input_that_would_half_write(client: Client, raw_input: str, field: str) -> None:
    before = _executions_of(client, "expense-approval")

    response = _post_raw(
        client, "/api/start", f'{{"workflow": "expense-approval", "input": {raw_input}}}'.encode()
    )

    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"] == f"{field} cannot be accepted"
    assert body["details"][0].startswith(f"{field}: ")
    # The refused start started nothing: only the probe's own execution is new.
    assert _executions_of(client, "expense-approval") == before + 1


@pytest.mark.parametrize("path", ENDPOINTS)
def test_json_nested_5000_deep_is_a_bad_request(client: Client, path: str) -> None:
    response = _post_raw(client, path, b'{"x": ' + b"[" * 5000 + b"]" * 5000 + b"}")

    assert response.status_code == 400
    assert response.json() == {"error": "body is nested too deeply"}


@pytest.mark.parametrize("path", ENDPOINTS)
def test_json_nested_past_the_limit_is_a_bad_request(client: Client, path: str) -> None:
    response = _post_raw(client, path, json.dumps({"x": json.loads("[" * 40 + "]" * 40)}).encode())

    assert response.status_code == 400
    assert "nested more than" in response.json()["details"][0]


@pytest.mark.parametrize("request_id", [".", "..", "__x__", "__name__", "a/b", "x\n"])
@pytest.mark.parametrize("path", ["/api/decide", "/api/cancel"])
def test_request_ids_firestore_refuses_are_bad_requests(client: Client, path: str, request_id: str) -> None:
    body: dict[str, Any] = {"request_id": request_id, **({"outcome": "approved"} if "decide" in path else {})}

    response = _post_raw(client, path, json.dumps(body).encode(), "alice@example.com")

    assert response.status_code == 400, response.text
    assert "request_id: must be a request id" in response.json()["details"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/decide", '{"request_id": "r1", "outcome": "approved", "comment": "\\udfff"}', "comment"),
        ("/api/cancel", '{"request_id": "r1", "reason": "\\ud800x"}', "reason"),
        (
            "/api/delegations",
            '{"delegate": "bob@example.com\\udc00", "ends_at": "2030-01-01T00:00:00Z"}',
            "delegate",
        ),
        ("/api/decide", '{"request_id": "r1", "outcome": "approved", "comment": "ok \\u2067x"}', "comment"),
    ],
    ids=["comment-surrogate", "reason-surrogate", "delegate-surrogate", "comment-bidi-isolate"],
)
def test_text_that_cannot_be_shown_as_stored_is_refused(
    client: Client, path: str, body: str, field: str
) -> None:
    response = _post_raw(client, path, body.encode(), "alice@example.com")

    assert response.status_code == 400, response.text
    assert response.json()["error"] == f"{field} cannot be accepted"


@pytest.mark.parametrize(
    "moment",
    ["0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59", "0001-01-01T00:30:00+01:00"],
)
@pytest.mark.parametrize("field", ["starts_at", "ends_at"])
def test_delegation_times_beyond_what_a_date_holds_are_bad_requests(
    client: Client, field: str, moment: str
) -> None:
    body = {"delegate": "dave@example.com", "ends_at": "2030-01-01T00:00:00Z", field: moment}

    response = _post_raw(client, "/api/delegations", json.dumps(body).encode(), "alice@example.com")

    assert response.status_code == 400, response.text
    assert f"{field}: must be an ISO 8601 date and time with a time zone" in response.json()["details"]


def test_a_trailing_newline_does_not_get_past_the_self_delegation_check(client: Client) -> None:
    body = {"delegate": "alice@example.com\n", "ends_at": "2030-01-01T00:00:00Z"}

    response = _post_raw(client, "/api/delegations", json.dumps(body).encode(), "alice@example.com")

    assert response.status_code == 400
    assert "delegate: must be an e-mail address" in response.json()["details"]
