"""The decide function, run under functions-framework against the local stand-ins."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from google.cloud import firestore

from approvals.emulator.functions import FunctionServer
from approvals.emulator.identity import IdentityProvider
from approvals.emulator.metadata import MetadataServer
from functions.common.links import digest
from tests.e2e.stack_client import poll
from tests.functions.function_support import pending, post
from tests.support import PROJECT, seed
from tests.support.servers import CallbackServer, Reply

ALICE = "alice@example.com"
BOB = "bob@example.com"
CAROL = "carol@example.com"
MAX_ATTEMPTS = 3
NOT_AN_APPROVER = "you are not an approver of this request"


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
    assert response.json() == {
        "request_id": request_id,
        "outcome": "approved",
        "status": "deciding",
        "tally": {
            "approvals": 1,
            "rejections": 0,
            "rules": {"approvers": 1},
            "voters": [ALICE],
            "seats": {ALICE: ALICE},
        },
    }
    [call] = callback_server.calls
    assert call.method == "POST"
    assert call.headers["Authorization"] == f"Bearer {metadata_server.access_token}"
    body = call.json()
    assert body["decided_at"].endswith("Z")
    decided_at = dt.datetime.fromisoformat(body.pop("decided_at"))
    # The body only wakes the workflow, which reads the decision and the votes from Firestore.
    assert body == {
        "request_id": request_id,
        "outcome": "approved",
        "approver": ALICE,
        "principal": ALICE,
        "comment": "Looks right",
    }
    document = seed.stored(db, request_id)
    assert document["status"] == "deciding"
    claim = {
        "outcome": "approved",
        "approver": ALICE,
        "principal": ALICE,
        "comment": "Looks right",
        "decided_at": decided_at,
        "round": "initial",
    }
    assert document["decision"] == claim
    assert seed.get(db, seed.CALLBACKS, request_id)["decision"] == claim
    assert seed.votes(db, request_id)[ALICE] == {
        "voter": ALICE,
        "principals": [ALICE],
        "on_behalf_of": None,
        "outcome": "approved",
        "comment": "Looks right",
        "at": decided_at,
        "identity_source": "firebase",
        "digest": digest(document["subject"], document["payload"]),
        "round": "initial",
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


def test_a_declared_group_member_decides(
    decide: FunctionServer, db: firestore.Client, identity: IdentityProvider, callback_server: CallbackServer
) -> None:
    """Membership is the platform's (stored from ApprovalPlatformArgs.groups), looked up by e-mail."""
    request_id = pending(db, callback_server, [ALICE, "group:translators"])
    seed.membership(db, "bob@example.com", ["reviewers", "translators"])

    response = vote(decide, identity, request_id, "bob@example.com", "rejected")

    assert response.status_code == 200, response.text
    [call] = callback_server.calls
    assert call.json()["principal"] == "group:translators"
    assert call.json()["approver"] == "bob@example.com"
    assert call.json()["comment"] == ""
    assert seed.stored(db, request_id)["decision"]["principal"] == "group:translators"
    [voted] = [event for event in seed.audit(db, request_id) if event["event"] == "voted"]
    assert voted["details"]["principals"] == ["group:translators"]


def test_a_forged_groups_claim_decides_nothing(
    decide: FunctionServer, db: firestore.Client, identity: IdentityProvider, callback_server: CallbackServer
) -> None:
    """A token's `groups` claim is not read: only the platform's declared groups count."""
    request_id = pending(db, callback_server, [ALICE, "group:translators"])
    seed.membership(db, "mallory@example.com", ["other"])
    before = seed.stored(db, request_id)
    forged = identity.sign({**identity.claims("mallory@example.com"), "groups": ["translators"]})

    response = post(decide, {"request_id": request_id, "outcome": "approved"}, forged)

    assert response.status_code == 403, response.text
    assert response.json() == {"error": NOT_AN_APPROVER}
    assert seed.stored(db, request_id) == before
    assert seed.votes(db, request_id) == {}
    assert callback_server.calls == []


def test_someone_else_is_forbidden(
    decide: FunctionServer, db: firestore.Client, identity: IdentityProvider, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [ALICE, "group:translators"])
    seed.membership(db, "mallory@example.com", ["other"])
    before = seed.stored(db, request_id)

    response = post(
        decide, {"request_id": request_id, "outcome": "approved"}, identity.mint("mallory@example.com")
    )

    assert response.status_code == 403
    assert "error" in response.json()
    assert seed.stored(db, request_id) == before
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
    assert seed.stored(db, request_id)["decision"]["outcome"] == "approved"


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
    assert call.json()["approver"] == seed.stored(db, request_id)["decision"]["approver"]
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
    before = seed.stored(db, request_id)

    response = post(decide, {"request_id": request_id, "outcome": "approved"}, identity.mint(ALICE))

    assert response.status_code == 409
    assert "expired" in response.json()["error"]
    assert seed.stored(db, request_id) == before
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
    before = seed.stored(db, request_id)

    response = post(decide, {"request_id": request_id, "outcome": "approved"}, _bad_tokens(identity)[kind])

    assert response.status_code == 401
    assert response.json()["error"]
    assert seed.stored(db, request_id) == before
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
    assert seed.stored(db, request_id)["status"] == "deciding"


def test_undeliverable_callback_rolls_back(
    decide: FunctionServer, db: firestore.Client, identity: IdentityProvider, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [ALICE])
    before = seed.stored(db, request_id)
    callback_server.default = Reply(503, {"error": "unavailable"})

    failed = post(decide, {"request_id": request_id, "outcome": "approved"}, identity.mint(ALICE))

    assert failed.status_code == 502
    assert failed.json()["error"].startswith("could not deliver the decision (incident ")
    assert "503" not in failed.json()["error"] and callback_server.url_for("") not in failed.json()["error"]
    assert len(callback_server.calls) == MAX_ATTEMPTS
    assert seed.stored(db, request_id) == before

    # The claim was released, so the approver can simply try again.
    callback_server.default = Reply(200)
    retried = post(decide, {"request_id": request_id, "outcome": "rejected"}, identity.mint(ALICE))
    assert retried.status_code == 200, retried.text
    assert seed.stored(db, request_id)["decision"]["outcome"] == "rejected"


def test_callback_gone_is_not_retried(
    decide: FunctionServer, db: firestore.Client, identity: IdentityProvider, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [ALICE])
    callback_server.default = Reply(404, {"error": "execution finished"})

    response = post(decide, {"request_id": request_id, "outcome": "approved"}, identity.mint(ALICE))

    assert response.status_code == 502
    assert len(callback_server.calls) == 1
    assert seed.stored(db, request_id)["status"] == "pending"


@pytest.mark.parametrize("callback_url", [None, "http://127.0.0.1:9/elsewhere"], ids=["none", "foreign"])
def test_missing_or_foreign_callback_url_rolls_back(
    decide: FunctionServer,
    db: firestore.Client,
    identity: IdentityProvider,
    callback_server: CallbackServer,
    callback_url: str | None,
) -> None:
    request_id = seed.request(db, approvers=[ALICE], callback_url=callback_url)
    before = seed.stored(db, request_id)

    response = post(decide, {"request_id": request_id, "outcome": "approved"}, identity.mint(ALICE))

    assert response.status_code == 502
    assert seed.stored(db, request_id) == before
    assert callback_server.calls == []


def test_other_methods_are_not_allowed(decide: FunctionServer) -> None:
    response = requests.get(f"{decide.url}/", timeout=30)

    assert response.status_code == 405
    assert response.json() == {"error": "method not allowed"}


def recorded(db: firestore.Client, request_id: str, round_: str = "initial") -> list[tuple[str, str]]:
    """(voter, outcome) of a round's votes, oldest first: what the workflow recounts."""
    found = [v for v in seed.votes(db, request_id).values() if v["round"] == round_]
    return [(v["voter"], v["outcome"]) for v in sorted(found, key=lambda v: v["at"])]


def vote(
    decide: FunctionServer, identity: IdentityProvider, request_id: str, email: str, outcome: str = "approved"
) -> requests.Response:
    return post(decide, {"request_id": request_id, "outcome": outcome}, identity.mint(email))


def test_quorum_of_two_decides_on_the_second_approval(
    decide: FunctionServer, db: firestore.Client, identity: IdentityProvider, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [ALICE, BOB, CAROL], quorum=2)

    first = vote(decide, identity, request_id, ALICE)

    assert first.status_code == 200, first.text
    assert first.json()["status"] == "pending"
    assert first.json()["tally"] == {
        "approvals": 1,
        "rejections": 0,
        "rules": {"approvers": 1},
        "voters": [ALICE],
        "seats": {ALICE: ALICE},
    }
    assert callback_server.calls == []
    assert seed.stored(db, request_id)["status"] == "pending"
    assert seed.stored(db, request_id)["tally"] == first.json()["tally"]

    second = vote(decide, identity, request_id, CAROL)

    assert second.json()["status"] == "deciding"
    [call] = callback_server.calls
    assert call.json()["approver"] == CAROL
    assert recorded(db, request_id) == [(ALICE, "approved"), (CAROL, "approved")]
    assert vote(decide, identity, request_id, BOB).status_code == 409


def test_voting_twice_conflicts(
    decide: FunctionServer, db: firestore.Client, identity: IdentityProvider, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [ALICE, BOB], quorum=2)
    assert vote(decide, identity, request_id, ALICE).ok

    again = vote(decide, identity, request_id, ALICE, "rejected")

    assert again.status_code == 409
    assert again.json() == {"error": "you have already voted on this request"}
    assert seed.stored(db, request_id)["tally"]["voters"] == [ALICE]


def test_every_rule_needs_its_quorum(
    decide: FunctionServer, db: firestore.Client, identity: IdentityProvider, callback_server: CallbackServer
) -> None:
    rules = [
        {"name": "legal", "approvers": ["group:legal"], "quorum": 1},
        {"name": "tech", "approvers": [ALICE, BOB, CAROL], "quorum": 2},
    ]
    request_id = pending(db, callback_server, [ALICE, BOB, CAROL, "group:legal"], rules=rules)

    # Alice is in legal too: her one vote counts for both rules.
    seed.membership(db, ALICE, ["legal"])
    by_alice = vote(decide, identity, request_id, ALICE)
    assert by_alice.json()["tally"]["rules"] == {"legal": 1, "tech": 1}
    assert seed.votes(db, request_id)[ALICE]["principals"] == [ALICE, "group:legal"]
    assert by_alice.json()["status"] == "pending"

    by_bob = vote(decide, identity, request_id, BOB)

    assert by_bob.json()["status"] == "deciding"
    assert by_bob.json()["tally"]["rules"] == {"legal": 1, "tech": 2}
    assert len(callback_server.calls) == 1


def test_rules_are_anded(
    decide: FunctionServer, db: firestore.Client, identity: IdentityProvider, callback_server: CallbackServer
) -> None:
    rules = [
        {"name": "legal", "approvers": ["group:legal"], "quorum": 1},
        {"name": "tech", "approvers": [ALICE, BOB], "quorum": 2},
    ]
    request_id = pending(db, callback_server, [ALICE, BOB, "group:legal"], rules=rules)

    assert vote(decide, identity, request_id, ALICE).json()["status"] == "pending"
    # Tech's quorum is met, legal has nobody yet.
    assert vote(decide, identity, request_id, BOB).json()["status"] == "pending"
    assert callback_server.calls == []

    seed.membership(db, CAROL, ["legal"])
    by_legal = vote(decide, identity, request_id, CAROL)

    assert by_legal.json()["status"] == "deciding"
    [call] = callback_server.calls
    assert call.json()["principal"] == "group:legal"
    assert len(recorded(db, request_id)) == 3


def test_one_rejection_vetoes(
    decide: FunctionServer, db: firestore.Client, identity: IdentityProvider, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [ALICE, BOB, CAROL], quorum=2)
    assert vote(decide, identity, request_id, ALICE).json()["status"] == "pending"

    rejected = vote(decide, identity, request_id, BOB, "rejected")

    assert rejected.json()["status"] == "deciding"
    [call] = callback_server.calls
    assert call.json()["outcome"] == "rejected"
    assert recorded(db, request_id) == [(ALICE, "approved"), (BOB, "rejected")]
    assert seed.stored(db, request_id)["decision"]["outcome"] == "rejected"


def test_rejection_quorum_of_two(
    decide: FunctionServer, db: firestore.Client, identity: IdentityProvider, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [ALICE, BOB, CAROL], quorum=3, rejection_quorum=2)

    first = vote(decide, identity, request_id, ALICE, "rejected")
    assert first.json()["status"] == "pending"
    assert first.json()["tally"]["rejections"] == 1
    assert callback_server.calls == []

    second = vote(decide, identity, request_id, BOB, "rejected")

    assert second.json()["status"] == "deciding"
    [call] = callback_server.calls
    assert call.json()["outcome"] == "rejected"


def test_an_escalation_starts_a_new_round_of_votes(
    decide: FunctionServer, db: firestore.Client, identity: IdentityProvider, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [ALICE, BOB], quorum=2, rejection_quorum=2)
    assert vote(decide, identity, request_id, ALICE).json()["tally"]["approvals"] == 1
    assert vote(decide, identity, request_id, BOB, "rejected").json()["tally"]["rejections"] == 1
    # What the workflow writes at the first deadline when escalate_to is set.
    rule = {"name": "escalation", "approvers": [ALICE, CAROL], "quorum": 1}
    db.collection(seed.REQUESTS).document(request_id).update(
        {"approvers": [ALICE, CAROL], "rules": [rule], "escalated": True}
    )

    # Bob's rejection no longer counts, and alice, an approver of both rounds, votes again.
    again = vote(decide, identity, request_id, ALICE)

    assert again.status_code == 200, again.text
    assert (again.json()["status"], again.json()["tally"]["voters"]) == ("deciding", [ALICE])
    [call] = callback_server.calls
    assert call.json()["approver"] == ALICE
    assert recorded(db, request_id, "escalation") == [(ALICE, "approved")]
    assert vote(decide, identity, request_id, BOB).status_code == 403
    # Both rounds stay on record.
    assert sorted(seed.votes(db, request_id)) == [
        ALICE,
        BOB,
        f"escalation:{ALICE}",
    ]


@pytest.mark.parametrize("prevent", [True, False], ids=["prevented", "allowed"])
def test_self_approval(
    decide: FunctionServer,
    db: firestore.Client,
    identity: IdentityProvider,
    callback_server: CallbackServer,
    prevent: bool,
) -> None:
    request_id = pending(db, callback_server, [ALICE, BOB], requester=ALICE, prevent_self_approval=prevent)

    response = vote(decide, identity, request_id, ALICE)

    if prevent:
        assert response.status_code == 403
        assert response.json() == {"error": "you may not vote on your own request"}
        assert seed.votes(db, request_id) == {}
    else:
        assert response.status_code == 200, response.text


def test_active_delegate_votes_on_behalf_of_the_approver(
    decide: FunctionServer, db: firestore.Client, identity: IdentityProvider, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [ALICE, CAROL], quorum=2)
    seed.delegation(db, ALICE, BOB)

    response = vote(decide, identity, request_id, BOB)

    assert response.status_code == 200, response.text
    assert response.json()["tally"]["rules"] == {"approvers": 1}
    ballot = seed.votes(db, request_id)[BOB]
    assert ballot["principals"] == [ALICE]
    assert ballot["on_behalf_of"] == ALICE
    [voted] = seed.audit(db, request_id)
    assert voted["actor"] == BOB
    assert voted["details"]["on_behalf_of"] == ALICE

    assert vote(decide, identity, request_id, CAROL).json()["status"] == "deciding"
    assert recorded(db, request_id) == [(BOB, "approved"), (CAROL, "approved")]


def test_delegate_of_the_requester_may_not_vote(
    decide: FunctionServer, db: firestore.Client, identity: IdentityProvider, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [ALICE, CAROL], requester=ALICE)
    seed.delegation(db, ALICE, BOB)

    assert vote(decide, identity, request_id, BOB).status_code == 403


@pytest.mark.parametrize(
    "window",
    [
        {"starts_in": dt.timedelta(days=-2), "ends_in": dt.timedelta(minutes=-1)},
        {"starts_in": dt.timedelta(hours=1), "ends_in": dt.timedelta(days=1)},
    ],
    ids=["ended", "not-started"],
)
def test_inactive_delegation_is_forbidden(
    decide: FunctionServer,
    db: firestore.Client,
    identity: IdentityProvider,
    callback_server: CallbackServer,
    window: dict[str, dt.timedelta],
) -> None:
    request_id = pending(db, callback_server, [ALICE])
    seed.delegation(db, ALICE, BOB, **window)

    response = vote(decide, identity, request_id, BOB)

    assert response.status_code == 403
    assert response.json() == {"error": NOT_AN_APPROVER}


def test_delegation_chains_are_not_followed(
    decide: FunctionServer, db: firestore.Client, identity: IdentityProvider, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [ALICE])
    seed.delegation(db, ALICE, BOB)
    seed.delegation(db, BOB, CAROL)

    assert vote(decide, identity, request_id, CAROL).status_code == 403
    assert vote(decide, identity, request_id, BOB).status_code == 200


def test_racing_last_votes_call_back_once(
    decide: FunctionServer, db: firestore.Client, identity: IdentityProvider, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [ALICE, BOB, CAROL], quorum=2)
    assert vote(decide, identity, request_id, ALICE).ok
    tokens = [identity.mint(BOB), identity.mint(CAROL)]

    with ThreadPoolExecutor(len(tokens)) as pool:
        responses = list(
            pool.map(lambda t: post(decide, {"request_id": request_id, "outcome": "approved"}, t), tokens)
        )

    assert sorted(r.status_code for r in responses) == [200, 409]
    [call] = callback_server.calls
    winner = seed.stored(db, request_id)["decision"]["approver"]
    assert call.json()["approver"] == winner
    assert {voter for voter, _ in recorded(db, request_id)} == {ALICE, winner}
    assert sorted(seed.votes(db, request_id)) == sorted([ALICE, winner])


def test_failed_callback_withdraws_only_the_deciding_vote(
    decide: FunctionServer, db: firestore.Client, identity: IdentityProvider, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [ALICE, BOB], quorum=2)
    assert vote(decide, identity, request_id, ALICE).ok
    before = seed.stored(db, request_id)
    callback_server.default = Reply(404, {"error": "execution finished"})

    failed = vote(decide, identity, request_id, BOB)

    assert failed.status_code == 502
    assert seed.stored(db, request_id) == before
    assert list(seed.votes(db, request_id)) == [ALICE]
    assert [(e["event"], e["actor"]) for e in seed.audit(db, request_id)] == [
        ("voted", ALICE),
        ("voted", BOB),
        ("vote_withdrawn", BOB),
    ]
    # Approvers read the trail: it says what happened, not where the callback went.
    assert (
        seed.audit(db, request_id)[-1]["details"]["reason"]
        == "the decision could not be delivered to the workflow"
    )

    callback_server.default = Reply(200)
    assert vote(decide, identity, request_id, BOB).json()["status"] == "deciding"


def test_votes_are_audited(
    decide: FunctionServer, db: firestore.Client, identity: IdentityProvider, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [ALICE, BOB], quorum=2)
    document = seed.stored(db, request_id)

    assert post(
        decide, {"request_id": request_id, "outcome": "approved", "comment": "fine"}, identity.mint(ALICE)
    ).ok

    [voted] = seed.audit(db, request_id)
    assert voted["event"] == "voted"
    assert voted["actor"] == ALICE
    details = voted["details"]
    latency = details.pop("latency_seconds")
    assert details == {
        "outcome": "approved",
        "principals": [ALICE],
        "on_behalf_of": None,
        "comment": "fine",
        "identity_source": "firebase",
        "digest": digest(document["subject"], document["payload"]),
    }
    assert latency == (voted["at"] - document["created_at"]).total_seconds()
    assert 0 < latency < 60


def test_cancelled_request_conflicts(
    decide: FunctionServer, db: firestore.Client, identity: IdentityProvider, callback_server: CallbackServer
) -> None:
    request_id = pending(db, callback_server, [ALICE], status="cancelled")

    response = vote(decide, identity, request_id, ALICE)

    assert response.status_code == 409
    assert response.json() == {"error": "the request was cancelled"}


@pytest.mark.parametrize("first", [BOB, ALICE], ids=["delegate-first", "approver-first"])
def test_an_approver_and_their_delegate_hold_one_seat(
    decide: FunctionServer,
    db: firestore.Client,
    identity: IdentityProvider,
    callback_server: CallbackServer,
    first: str,
) -> None:
    """Alice's delegate votes for her, or she does: the other is refused, so the quorum still needs Carol."""
    request_id = pending(db, callback_server, [ALICE, CAROL], quorum=2)
    seed.delegation(db, ALICE, BOB)
    second = ALICE if first == BOB else BOB
    assert vote(decide, identity, request_id, first).status_code == 200

    response = vote(decide, identity, request_id, second)

    assert response.status_code == 409
    through = " (by bob@example.com)" if first == BOB else ""
    assert response.json() == {"error": f"alice@example.com has already voted on this request{through}"}
    assert sorted(seed.votes(db, request_id)) == [first]
    assert seed.stored(db, request_id)["status"] == "pending"
    assert seed.stored(db, request_id)["tally"]["seats"] == {ALICE: first}
    assert callback_server.calls == []


def test_a_decide_killed_mid_delivery_leaves_a_claim_the_next_vote_delivers(
    function_env: dict[str, str],
    db: firestore.Client,
    identity: IdentityProvider,
    callback_server: CallbackServer,
) -> None:
    request_id = pending(db, callback_server, [ALICE, BOB])
    # The workflow's front end asks decide to come back in 30 s: it is killed while it waits.
    callback_server.script(Reply(503, {"error": "busy"}, {"Retry-After": "30"}))
    env = {**function_env, "WORKFLOWS_EMULATOR_HOST": callback_server.host}
    with FunctionServer("decide", env) as doomed:

        def vote_until_killed() -> None:
            with contextlib.suppress(requests.RequestException):
                vote(doomed, identity, request_id, ALICE)

        threading.Thread(target=vote_until_killed, daemon=True).start()
        poll(lambda: callback_server.calls, bool, "the first delivery attempt")
        doomed.stop(grace=0)
    stuck = seed.stored(db, request_id)
    assert (stuck["status"], stuck["decision"]["approver"]) == ("deciding", ALICE)

    with FunctionServer("decide", {**env, "CLAIM_TIMEOUT_SECONDS": "0"}) as recovered:
        response = vote(recovered, identity, request_id, BOB)

    assert response.status_code == 409
    assert response.json() == {"error": "the request was already decided"}
    # alice's recorded decision went to the workflow; bob's vote was not needed.
    [_, redelivered] = callback_server.calls
    assert (redelivered.json()["outcome"], redelivered.json()["approver"]) == ("approved", ALICE)
    assert list(seed.votes(db, request_id)) == [ALICE]
    assert seed.audit(db, request_id)[-1]["event"] == "decision_redelivered"


def test_delivery_stops_retrying_within_its_time_budget(
    function_env: dict[str, str],
    db: firestore.Client,
    identity: IdentityProvider,
    callback_server: CallbackServer,
) -> None:
    request_id = pending(db, callback_server, [ALICE])
    before = seed.stored(db, request_id)
    callback_server.default = Reply(503, {"error": "unavailable"})
    env = {
        **function_env,
        "WORKFLOWS_EMULATOR_HOST": callback_server.host,
        "CALLBACK_MAX_ATTEMPTS": "50",
        "CALLBACK_INITIAL_BACKOFF_SECONDS": "0.5",
        "CALLBACK_BUDGET_SECONDS": "1",
    }
    with FunctionServer("decide", env) as budgeted:
        response = vote(budgeted, identity, request_id, ALICE)

    # 503, a 0.5 s pause, 503, and a 1 s pause would overrun the budget: it withdraws at once.
    assert response.status_code == 502
    assert len(callback_server.calls) == 2
    assert seed.stored(db, request_id) == before


def test_a_sealed_claim_names_nobody_on_the_request(
    decide: FunctionServer, db: firestore.Client, identity: IdentityProvider, callback_server: CallbackServer
) -> None:
    """votes_visible after_decision: while the request is deciding, approvers read counts only; the
    decision the workflow reads is on the callback document, which no client reads."""
    request_id = pending(db, callback_server, [ALICE, BOB], quorum=2)
    db.collection(seed.REQUESTS).document(request_id).update({"votes_visible": "after_decision"})
    # The workflow has not taken the callback yet: the request stays deciding.
    callback_server.default = Reply(200)

    assert vote(decide, identity, request_id, ALICE).json()["tally"] == {
        "approvals": 1,
        "rejections": 0,
        "rules": {"approvers": 1},
    }
    answer = post(
        decide, {"request_id": request_id, "outcome": "approved", "comment": "fine"}, identity.mint(BOB)
    )

    assert answer.json()["status"] == "deciding"
    stored = seed.stored(db, request_id)
    assert stored["status"] == "deciding"
    assert "decision" not in stored
    assert stored["tally"] == {"approvals": 2, "rejections": 0, "rules": {"approvers": 2}}
    claim = seed.get(db, seed.CALLBACKS, request_id)["decision"]
    assert (claim["approver"], claim["comment"], claim["round"]) == (BOB, "fine", "initial")
    assert [(e["event"], e["actor"]) for e in seed.audit(db, request_id)] == [("voted", ""), ("voted", "")]
