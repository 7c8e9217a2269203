"""The link function, run under functions-framework against the Firestore emulator."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from google.cloud import firestore

from approvals.emulator.functions import FunctionServer
from tests.functions.function_support import pending
from tests.functions.link_support import LINK_KEY, Form, issue, submit
from tests.support import seed
from tests.support.servers import CallbackServer, Reply

ALICE = "alice@example.com"
BOB = "bob@example.com"
# Stands for the test's own valid token in parametrized forms.
TOKEN = "<token>"


@pytest.fixture(scope="module")
def link(function_env: dict[str, str], callback_server: CallbackServer) -> Iterator[FunctionServer]:
    env = {
        **function_env,
        "APPROVALS_LINK_KEY": LINK_KEY,
        "WORKFLOWS_EMULATOR_HOST": callback_server.host,
        "CALLBACK_MAX_ATTEMPTS": "1",
    }
    with FunctionServer("link", env) as function:
        yield function


def open_link(function: FunctionServer, token: str) -> requests.Response:
    """GET the link as it appears in a mail (Hosting serves the function at /link)."""
    return requests.get(f"{function.url}/link", params={"token": token}, timeout=30)


def post_form(function: FunctionServer, fields: dict[str, str]) -> requests.Response:
    return requests.post(f"{function.url}/link", data=fields, timeout=30)


def snapshot(db: firestore.Client, request_id: str) -> dict[str, Any]:
    """Everything a vote could change: the request, its votes and audit trail, the link uses."""
    return {
        "request": seed.get(db, seed.REQUESTS, request_id),
        "votes": seed.votes(db, request_id),
        "audit": seed.audit(db, request_id),
        "uses": [s.id for s in db.collection(seed.LINK_USES).stream()],
    }


def assert_security_headers(response: requests.Response) -> None:
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "form-action 'self'" in csp
    assert "script-src" not in csp
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"


def test_get_shows_the_request_and_changes_nothing(
    link: FunctionServer, db: firestore.Client, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [ALICE, BOB])
    before = snapshot(db, request_id)
    token = issue(db, request_id, BOB)

    # Mail scanners may fetch a link any number of times.
    pages = [open_link(link, token) for _ in range(2)]

    for page in pages:
        assert page.status_code == 200, page.text
        assert_security_headers(page)
    text = pages[0].text
    assert "Check the translation" in text
    assert "<dt>translation</dt><dd>Bonjour</dd>" in text
    assert BOB in text
    form = Form(text)
    assert form.action == "/link"
    assert form.fields == {"token": token}
    assert form.outcomes == ["approved", "rejected"]
    assert "<script" not in text
    assert snapshot(db, request_id) == before
    assert callback_server.calls == []


def test_page_escapes_what_the_workflow_stored(
    link: FunctionServer, db: firestore.Client, callback_server: CallbackServer
) -> None:
    payload = {"<b>key</b>": "<script>alert(1)</script>", "nested": {"a": ["<i>x</i>"]}}
    request_id = pending(db, callback_server, [BOB], payload=payload)

    page = open_link(link, issue(db, request_id, BOB))

    assert page.status_code == 200, page.text
    assert "<script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<dt>&lt;b&gt;key&lt;/b&gt;</dt>" in page.text
    assert "<i>" not in page.text
    assert "&lt;i&gt;x&lt;/i&gt;" in page.text


def test_post_votes_once(link: FunctionServer, db: firestore.Client, callback_server: CallbackServer) -> None:
    request_id = pending(db, callback_server, [ALICE, BOB], quorum=2)
    page = open_link(link, issue(db, request_id, BOB))

    first = submit(page, "approved", "Fine by me")
    second = submit(page, "rejected")

    assert first.status_code == 200, first.text
    assert "Decision recorded" in first.text
    assert "waits for the other approvers" in first.text
    assert_security_headers(first)
    [vote] = seed.votes(db, request_id).values()
    assert vote["voter"] == BOB
    assert vote["outcome"] == "approved"
    assert vote["comment"] == "Fine by me"
    assert vote["identity_source"] == "signed-link"
    [use] = db.collection(seed.LINK_USES).stream()
    assert (use.get("request_id"), use.get("approver")) == (request_id, BOB)
    assert second.status_code == 409
    assert "already used" in second.text
    assert_security_headers(second)
    assert seed.get(db, seed.REQUESTS, request_id)["status"] == "pending"  # type: ignore[index]
    assert callback_server.calls == []


def test_deciding_vote_calls_the_workflow_back(
    link: FunctionServer, db: firestore.Client, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [ALICE, BOB])
    page = open_link(link, issue(db, request_id, BOB))

    response = submit(page, "rejected", "Wrong tone")

    assert response.status_code == 200, response.text
    assert "It decided the request." in response.text
    [call] = callback_server.calls
    assert (call.json()["approver"], call.json()["outcome"]) == (BOB, "rejected")
    assert seed.get(db, seed.REQUESTS, request_id)["status"] == "deciding"  # type: ignore[index]
    assert submit(page, "rejected").status_code == 409


def test_link_after_the_payload_changed_conflicts(
    link: FunctionServer, db: firestore.Client, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [ALICE, BOB])
    token = issue(db, request_id, BOB)
    page = open_link(link, token)
    db.collection(seed.REQUESTS).document(request_id).update({"payload.translation": "Salut"})
    before = snapshot(db, request_id)

    reopened = open_link(link, token)
    posted = submit(page, "approved")

    for response in (reopened, posted):
        assert response.status_code == 409
        assert "changed since this link was sent" in response.text
        assert "Salut" not in response.text
    assert snapshot(db, request_id) == before
    assert callback_server.calls == []


def test_forged_link_is_unauthorized(
    link: FunctionServer, db: firestore.Client, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [BOB])
    body, _ = issue(db, request_id, BOB).split(".")
    forged = f"{body}.{'A' * 43}"
    before = snapshot(db, request_id)

    shown = open_link(link, forged)
    posted = post_form(link, {"token": forged, "outcome": "approved", "comment": ""})

    for response in (shown, posted):
        assert response.status_code == 401
        assert "signature is not valid" in response.text
        assert_security_headers(response)
    assert open_link(link, "").status_code == 401
    assert snapshot(db, request_id) == before


@pytest.mark.parametrize(
    ("setup", "status", "message"),
    [
        ({"status": "deciding"}, 409, "already decided"),
        ({"status": "cancelled"}, 409, "was cancelled"),
        ({"status": "expired"}, 409, "has expired"),
    ],
    ids=["decided", "cancelled", "expired"],
)
def test_closed_request_conflicts(
    link: FunctionServer,
    db: firestore.Client,
    callback_server: CallbackServer,
    setup: dict[str, Any],
    status: int,
    message: str,
) -> None:
    request_id = pending(db, callback_server, [BOB], **setup)
    token = issue(db, request_id, BOB)

    shown = open_link(link, token)
    posted = post_form(link, {"token": token, "outcome": "approved"})

    for response in (shown, posted):
        assert response.status_code == status
        assert message in response.text
    assert seed.votes(db, request_id) == {}


def test_expired_link_conflicts(
    link: FunctionServer, db: firestore.Client, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [BOB])
    token = issue(db, request_id, BOB, expires_in=dt.timedelta(seconds=-1))

    response = open_link(link, token)

    assert response.status_code == 409
    assert "The link has expired." in response.text


def test_link_for_someone_who_is_not_an_approver_is_forbidden(
    link: FunctionServer, db: firestore.Client, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [ALICE])

    response = submit(open_link(link, issue(db, request_id, BOB)), "approved")

    assert response.status_code == 403
    assert "not an approver" in response.text
    assert seed.votes(db, request_id) == {}


def test_link_to_an_unknown_request_is_not_found(link: FunctionServer, db: firestore.Client) -> None:
    request_id = seed.request(db, approvers=[BOB])
    token = issue(db, request_id, BOB)
    db.collection(seed.REQUESTS).document(request_id).delete()

    assert open_link(link, token).status_code == 404
    assert post_form(link, {"token": token, "outcome": "approved"}).status_code == 404


def test_undeliverable_decision_is_a_bad_gateway_and_the_link_stays_usable(
    link: FunctionServer, db: firestore.Client, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [BOB])
    page = open_link(link, issue(db, request_id, BOB))
    callback_server.default = Reply(503)

    failed = submit(page, "approved")

    assert failed.status_code == 502
    assert "ould not deliver the decision" in failed.text
    assert seed.votes(db, request_id) == {}
    callback_server.default = Reply(200)
    assert submit(page, "approved").status_code == 200


@pytest.mark.parametrize(
    "fields",
    [
        [("outcome", "approved")],
        [("token", TOKEN)],
        [("token", TOKEN), ("outcome", "maybe")],
        [("token", TOKEN), ("outcome", "approved"), ("comment", "x" * 2001)],
        [("token", TOKEN), ("token", TOKEN), ("outcome", "approved")],
    ],
    ids=["no-token", "no-outcome", "bad-outcome", "comment-too-long", "token-twice"],
)
def test_bad_form_is_a_bad_request(
    link: FunctionServer, db: firestore.Client, callback_server: CallbackServer, fields: list[tuple[str, str]]
) -> None:
    request_id = pending(db, callback_server, [BOB])
    token = issue(db, request_id, BOB)

    response = requests.post(
        f"{link.url}/link", data=[(k, token if v is TOKEN else v) for k, v in fields], timeout=30
    )

    assert response.status_code == 400
    assert_security_headers(response)
    assert seed.votes(db, request_id) == {}


def test_json_post_is_a_bad_request(link: FunctionServer, db: firestore.Client) -> None:
    request_id = seed.request(db, approvers=[BOB])
    token = issue(db, request_id, BOB)

    response = requests.post(f"{link.url}/link", json={"token": token, "outcome": "approved"}, timeout=30)

    assert response.status_code == 400
    assert seed.votes(db, request_id) == {}


def test_other_methods_are_not_allowed(link: FunctionServer) -> None:
    response = requests.put(f"{link.url}/link", timeout=30)

    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, POST"


def test_the_page_shows_misleading_characters_instead_of_obeying_them(
    link: FunctionServer, db: firestore.Client, callback_server: CallbackServer
) -> None:
    # Stored as a workflow started directly could store it: start refuses these characters.
    request_id = pending(db, callback_server, [ALICE], payload={"file": "\u202ecod.exe", "n\u0085": "x"})
    db.collection(seed.REQUESTS).document(request_id).update({"subject": "Pay \u2067Bob\u2069"})

    page = open_link(link, issue(db, request_id, ALICE))

    assert page.status_code == 200, page.text
    assert "[U+202E]cod.exe" in page.text
    assert "n[U+0085]" in page.text
    assert "Pay [U+2067]Bob[U+2069]" in page.text
    assert not any(c in page.text for c in "\u202e\u0085\u2067\u2069")
