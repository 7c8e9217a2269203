"""The decide function, run under functions-framework against the local stand-ins."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from google.cloud import firestore

from emulator.functions import FunctionServer
from emulator.identity import IdentityProvider
from emulator.metadata import MetadataServer
from tests.support import PROJECT, seed
from tests.support.servers import CallbackServer, Reply

ALICE = "alice@example.com"
MAX_ATTEMPTS = 3


@pytest.fixture(scope="module")
def callback_server() -> Iterator[CallbackServer]:
    with CallbackServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_callback(callback_server: CallbackServer) -> None:
    callback_server.reset()


@pytest.fixture(scope="module")
def decide(function_env: dict[str, str], callback_server: CallbackServer) -> Iterator[FunctionServer]:
    env = {
        **function_env,
        # The local Workflows host is the only place callbacks may go to.
        "WORKFLOWS_EMULATOR_HOST": callback_server.host,
        "CALLBACK_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
        "CALLBACK_INITIAL_BACKOFF_SECONDS": "0.01",
    }
    with FunctionServer("decide", env) as function:
        yield function


def post(function: FunctionServer, body: Any, token: str | None, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(f"{function.url}/", json=body, headers=headers, timeout=30, **kwargs)


def pending(db: firestore.Client, callback_server: CallbackServer, approvers: list[str], **kw: Any) -> str:
    return seed.request(db, approvers=approvers, callback_url=callback_server.url_for("placeholder"), **kw)


def stored(db: firestore.Client, request_id: str) -> dict[str, Any]:
    document = seed.get(db, seed.REQUESTS, request_id)
    assert document is not None
    return document


def test_decision_is_recorded_and_called_back(
    decide: FunctionServer,
    db: firestore.Client,
    identity: IdentityProvider,
    metadata_server: MetadataServer,
    callback_server: CallbackServer,
) -> None:
    request_id = pending(db, callback_server, [ALICE])

    # The e-mail in the token differs in case from the approvers entry.
    response = post(
        decide,
        {"request_id": request_id, "outcome": "approved", "comment": "Looks right"},
        identity.mint("Alice@Example.com"),
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"request_id": request_id, "outcome": "approved", "status": "deciding"}
    [call] = callback_server.calls
    assert call.method == "POST"
    assert call.headers["Authorization"] == f"Bearer {metadata_server.access_token}"
    body = call.json()
    assert set(body) == {"request_id", "outcome", "approver", "principal", "comment", "decided_at"}
    assert body["request_id"] == request_id
    assert body["outcome"] == "approved"
    assert body["approver"] == ALICE
    assert body["principal"] == ALICE
    assert body["comment"] == "Looks right"
    assert body["decided_at"].endswith("Z")
    decided_at = dt.datetime.fromisoformat(body["decided_at"])
    document = stored(db, request_id)
    assert document["status"] == "deciding"
    assert document["decision"] == {
        "outcome": "approved",
        "approver": ALICE,
        "principal": ALICE,
        "comment": "Looks right",
        "decided_at": decided_at,
    }


def test_access_token_is_fetched_once_and_reused(
    decide: FunctionServer,
    db: firestore.Client,
    identity: IdentityProvider,
    metadata_server: MetadataServer,
    callback_server: CallbackServer,
) -> None:
    first, second = (pending(db, callback_server, [ALICE]) for _ in range(2))
    assert post(decide, {"request_id": first, "outcome": "approved"}, identity.mint(ALICE)).ok
    served = metadata_server.tokens_served

    assert post(decide, {"request_id": second, "outcome": "approved"}, identity.mint(ALICE)).ok

    assert served >= 1
    assert metadata_server.tokens_served == served
    assert len(callback_server.calls) == 2


def test_group_member_decides_through_groups_claim(
    decide: FunctionServer, db: firestore.Client, identity: IdentityProvider, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [ALICE, "group:translators"])

    response = post(
        decide,
        {"request_id": request_id, "outcome": "rejected"},
        identity.mint("bob@example.com", groups=["reviewers", "translators"]),
    )

    assert response.status_code == 200, response.text
    [call] = callback_server.calls
    assert call.json()["principal"] == "group:translators"
    assert call.json()["approver"] == "bob@example.com"
    assert call.json()["comment"] == ""
    assert stored(db, request_id)["decision"]["principal"] == "group:translators"


def test_someone_else_is_forbidden(
    decide: FunctionServer, db: firestore.Client, identity: IdentityProvider, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [ALICE, "group:translators"])
    before = stored(db, request_id)

    response = post(
        decide,
        {"request_id": request_id, "outcome": "approved"},
        identity.mint("mallory@example.com", groups=["other"]),
    )

    assert response.status_code == 403
    assert "error" in response.json()
    assert stored(db, request_id) == before
    assert callback_server.calls == []


def test_second_decision_conflicts(
    decide: FunctionServer, db: firestore.Client, identity: IdentityProvider, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [ALICE, "bob@example.com"])
    first = post(decide, {"request_id": request_id, "outcome": "approved"}, identity.mint(ALICE))

    second = post(decide, {"request_id": request_id, "outcome": "rejected"}, identity.mint("bob@example.com"))

    assert first.status_code == 200, first.text
    assert second.status_code == 409
    assert len(callback_server.calls) == 1
    assert stored(db, request_id)["decision"]["outcome"] == "approved"


def test_concurrent_decisions_have_one_winner(
    decide: FunctionServer, db: firestore.Client, identity: IdentityProvider, callback_server: CallbackServer
) -> None:
    approvers = [f"approver{i}@example.com" for i in range(4)]
    request_id = pending(db, callback_server, approvers)
    tokens = [identity.mint(email) for email in approvers]

    with ThreadPoolExecutor(len(tokens)) as pool:
        responses = list(
            pool.map(lambda t: post(decide, {"request_id": request_id, "outcome": "approved"}, t), tokens)
        )

    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409]
    [call] = callback_server.calls
    winner = next(r for r in responses if r.status_code == 200)
    assert call.json()["approver"] == stored(db, request_id)["decision"]["approver"]
    assert winner.json()["status"] == "deciding"


@pytest.mark.parametrize(
    "setup",
    [{"status": "expired"}, {"due_in": dt.timedelta(minutes=-1)}],
    ids=["status-expired", "past-due"],
)
def test_expired_request_conflicts(
    decide: FunctionServer,
    db: firestore.Client,
    identity: IdentityProvider,
    callback_server: CallbackServer,
    setup: dict[str, Any],
) -> None:
    request_id = pending(db, callback_server, [ALICE], **setup)
    before = stored(db, request_id)

    response = post(decide, {"request_id": request_id, "outcome": "approved"}, identity.mint(ALICE))

    assert response.status_code == 409
    assert "expired" in response.json()["error"]
    assert stored(db, request_id) == before
    assert callback_server.calls == []


def test_unknown_request_is_not_found(decide: FunctionServer, identity: IdentityProvider) -> None:
    response = post(decide, {"request_id": "nope", "outcome": "approved"}, identity.mint(ALICE))

    assert response.status_code == 404
    assert response.json() == {"error": "no such request"}


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"outcome": "approved"}',
        b'{"request_id": "r1"}',
        b'{"request_id": "r1", "outcome": "maybe"}',
        b'{"request_id": 7, "outcome": "approved"}',
        b'{"request_id": "a/b", "outcome": "approved"}',
        b'{"request_id": "r1", "outcome": "approved", "comment": 5}',
        b'{"request_id": "r1", "outcome": "approved", "comment": "' + b"x" * 2001 + b'"}',
        b'{"request_id": "r1", "outcome": "approved", "approver": "x@example.com"}',
    ],
    ids=[
        "not-json",
        "not-object",
        "no-request-id",
        "no-outcome",
        "bad-outcome",
        "request-id-not-string",
        "request-id-path",
        "comment-not-string",
        "comment-too-long",
        "extra-field",
    ],
)
def test_malformed_decision_is_bad_request(
    decide: FunctionServer, identity: IdentityProvider, callback_server: CallbackServer, body: bytes
) -> None:
    response = requests.post(
        f"{decide.url}/",
        data=body,
        headers={"Authorization": f"Bearer {identity.mint(ALICE)}", "Content-Type": "application/json"},
        timeout=30,
    )

    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"]
    assert callback_server.calls == []


def test_oversized_body_is_refused(decide: FunctionServer, identity: IdentityProvider) -> None:
    body = {"request_id": "r1", "outcome": "approved", "comment": "x" * 100_000}

    response = post(decide, body, identity.mint(ALICE))

    assert response.status_code == 413
    assert response.json() == {"error": "body is too large"}


def test_comment_at_the_limit_is_accepted(
    decide: FunctionServer, db: firestore.Client, identity: IdentityProvider, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [ALICE])

    response = post(
        decide, {"request_id": request_id, "outcome": "approved", "comment": "x" * 2000}, identity.mint(ALICE)
    )

    assert response.status_code == 200, response.text


def _bad_tokens(identity: IdentityProvider) -> dict[str, str | None]:
    forger = IdentityProvider(PROJECT, kid=identity.kid)
    claims = identity.claims(ALICE)
    without_email = {k: v for k, v in claims.items() if k != "email"}
    return {
        "missing": None,
        "garbage": "not-a-token",
        "expired": identity.mint(ALICE, expires_in=-600),
        "wrong-audience": identity.sign({**claims, "aud": "another-project"}),
        "wrong-issuer": identity.sign({**claims, "iss": "https://securetoken.google.com/another-project"}),
        "wrong-key": forger.sign(claims),
        "unknown-kid": identity.sign(claims, headers={"kid": "unknown"}),
        "not-rs256": identity.sign(claims, headers={"alg": "HS256"}),
        "no-subject": identity.sign({**claims, "sub": ""}),
        "no-email": identity.sign(without_email),
        "email-unverified": identity.mint(ALICE, email_verified=False),
    }


BAD_TOKENS = [
    "missing",
    "garbage",
    "expired",
    "wrong-audience",
    "wrong-issuer",
    "wrong-key",
    "unknown-kid",
    "not-rs256",
    "no-subject",
    "no-email",
    "email-unverified",
]


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_bad_token_is_unauthorized(
    decide: FunctionServer,
    db: firestore.Client,
    identity: IdentityProvider,
    callback_server: CallbackServer,
    kind: str,
) -> None:
    request_id = pending(db, callback_server, [ALICE])
    before = stored(db, request_id)

    response = post(decide, {"request_id": request_id, "outcome": "approved"}, _bad_tokens(identity)[kind])

    assert response.status_code == 401
    assert response.json()["error"]
    assert stored(db, request_id) == before
    assert callback_server.calls == []


def test_busy_callback_is_retried(
    decide: FunctionServer, db: firestore.Client, identity: IdentityProvider, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [ALICE])
    # Retry-After: 0 is honoured, so the test does not wait.
    callback_server.script(Reply(429, {"error": "slot busy"}, {"Retry-After": "0"}), Reply(200))

    response = post(decide, {"request_id": request_id, "outcome": "approved"}, identity.mint(ALICE))

    assert response.status_code == 200, response.text
    first, second = callback_server.calls
    assert first.body == second.body
    assert stored(db, request_id)["status"] == "deciding"


def test_undeliverable_callback_rolls_back(
    decide: FunctionServer, db: firestore.Client, identity: IdentityProvider, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [ALICE])
    before = stored(db, request_id)
    callback_server.default = Reply(503, {"error": "unavailable"})

    failed = post(decide, {"request_id": request_id, "outcome": "approved"}, identity.mint(ALICE))

    assert failed.status_code == 502
    assert "could not deliver" in failed.json()["error"]
    assert len(callback_server.calls) == MAX_ATTEMPTS
    assert stored(db, request_id) == before

    # The claim was released, so the approver can simply try again.
    callback_server.default = Reply(200)
    retried = post(decide, {"request_id": request_id, "outcome": "rejected"}, identity.mint(ALICE))
    assert retried.status_code == 200, retried.text
    assert stored(db, request_id)["decision"]["outcome"] == "rejected"


def test_callback_gone_is_not_retried(
    decide: FunctionServer, db: firestore.Client, identity: IdentityProvider, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [ALICE])
    callback_server.default = Reply(404, {"error": "execution finished"})

    response = post(decide, {"request_id": request_id, "outcome": "approved"}, identity.mint(ALICE))

    assert response.status_code == 502
    assert len(callback_server.calls) == 1
    assert stored(db, request_id)["status"] == "pending"


@pytest.mark.parametrize("callback_url", [None, "http://127.0.0.1:9/elsewhere"], ids=["none", "foreign"])
def test_missing_or_foreign_callback_url_rolls_back(
    decide: FunctionServer,
    db: firestore.Client,
    identity: IdentityProvider,
    callback_server: CallbackServer,
    callback_url: str | None,
) -> None:
    request_id = seed.request(db, approvers=[ALICE], callback_url=callback_url)
    before = stored(db, request_id)

    response = post(decide, {"request_id": request_id, "outcome": "approved"}, identity.mint(ALICE))

    assert response.status_code == 502
    assert stored(db, request_id) == before
    assert callback_server.calls == []


def test_other_methods_are_not_allowed(decide: FunctionServer) -> None:
    response = requests.get(f"{decide.url}/", timeout=30)

    assert response.status_code == 405
    assert response.json() == {"error": "method not allowed"}
