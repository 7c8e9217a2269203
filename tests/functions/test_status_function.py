"""The status function, on the Firestore emulator and the engine's gRPC Executions API.

Each request's execution really runs on the engine, asleep on a virtual clock: it stays
ACTIVE until the test advances the clock, as a real execution stays until its workflow
returns. A status is final only once every stage is closed and the execution has ended.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from google.cloud import firestore

from approvals.emulator.functions import FunctionServer
from approvals.emulator.identity import IdentityProvider
from approvals.engine.api.grpc_api import ExecutionsService
from approvals.engine.runtime.engine import Engine
from tests.support import PROJECT, seed

ALICE = "alice@example.com"
BOB = "bob@example.com"
REQUESTER = seed.REQUESTER
STRANGER = "mallory@example.com"
DAY = 86400  # how long the conftest's workflow sleeps (ASLEEP_SECONDS)


@pytest.fixture(scope="module")
def status(function_env: dict[str, str], engine: Engine) -> Iterator[FunctionServer]:
    with ExecutionsService(engine) as service:
        env = {**function_env, "WORKFLOWS_EMULATOR_GRPC_HOST": service.host}
        with FunctionServer("status", env) as function:
            yield function


def running(db: firestore.Client, engine: Engine, **kw: Any) -> str:
    """A pending request whose execution sleeps on the engine; the id start would have answered."""
    execution = engine.start("asleep")
    name = f"projects/{PROJECT}/locations/{engine.location}/workflows/asleep/executions/{execution.id}"
    return seed.request(db, approvers=[ALICE], execution_name=name, **kw)


def ask(status: FunctionServer, request_id: str, token: str | None, **query: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = f"{status.url}/api/requests/{request_id}"
    return requests.get(url, params=query, headers=headers, timeout=60)


class LongPoll:
    """A client that read the status once and now waits for news in the background, as
    `request --wait` does."""

    def __init__(self, status: FunctionServer, request_id: str, token: str) -> None:
        self.since = ask(status, request_id, token).json()["version"]
        self._answers: list[requests.Response] = []
        self._thread = threading.Thread(
            target=lambda: self._answers.append(ask(status, request_id, token, wait=30, since=self.since))
        )
        self._thread.start()

    def answer(self) -> requests.Response:
        self._thread.join(timeout=40)
        [answer] = self._answers
        return answer


def decide(db: firestore.Client, request_id: str, outcome: str) -> None:
    """What the workflow stores once alice's decision is delivered."""
    db.collection(seed.REQUESTS).document(request_id).update(
        {"status": outcome, "decided_by": ALICE, "comment": "fine", "decided_at": firestore.SERVER_TIMESTAMP}
    )


def test_the_requester_and_the_approver_read_a_pending_request(
    status: FunctionServer, db: firestore.Client, engine: Engine, identity: IdentityProvider
) -> None:
    request_id = running(db, engine)

    for email in (REQUESTER, ALICE):
        response = ask(status, request_id, identity.mint(email))
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["request_id"], body["status"], body["final"], body["outcome"]) == (
            request_id,
            "pending",
            False,
            None,
        )
        assert [stage["status"] for stage in body["stages"]] == ["pending"]
        # Nothing internal: no execution, callback, voters or payload.
        assert not {"execution_name", "callback_url", "payload", "voters"} & set(body)
        assert response.headers["Cache-Control"] == "no-store"


def test_whoever_may_not_read_a_request_learns_nothing_of_it(
    status: FunctionServer, db: firestore.Client, engine: Engine, identity: IdentityProvider
) -> None:
    request_id = running(db, engine)

    hidden = ask(status, request_id, identity.mint(STRANGER))
    missing = ask(status, "no-such-request", identity.mint(STRANGER))

    assert (hidden.status_code, hidden.json()) == (404, {"error": "no such request"})
    assert (missing.status_code, missing.json()) == (404, {"error": "no such request"})
    assert ask(status, request_id, None).status_code == 401


def test_a_long_poll_answers_with_the_final_decision(
    status: FunctionServer, db: firestore.Client, engine: Engine, identity: IdentityProvider
) -> None:
    request_id = running(db, engine)
    waiting = LongPoll(status, request_id, identity.mint(REQUESTER))

    decide(db, request_id, "approved")
    engine.advance(DAY)  # the workflow returns once it stored the decision

    body = waiting.answer().json()
    assert (body["status"], body["final"], body["outcome"]) == ("approved", True, "approved")
    assert (body["decided_by"], body["comment"]) == (ALICE, "fine")
    assert body["version"] != waiting.since


def test_a_closed_stage_is_not_final_while_its_execution_runs_on(
    status: FunctionServer, db: firestore.Client, engine: Engine, identity: IdentityProvider
) -> None:
    """A chain: the first stage is approved, the workflow then asks a second one."""
    request_id = running(db, engine)
    decide(db, request_id, "approved")
    token = identity.mint(REQUESTER)

    first = ask(status, request_id, token).json()
    execution_name = seed.stored(db, request_id)["execution_name"]
    seed.request(
        db,
        approvers=[ALICE],
        execution_name=execution_name,
        request_id=f"{request_id}-legal",
        origin_request_id=request_id,
        stage="legal",
    )
    second = ask(status, request_id, token).json()

    assert (first["status"], first["final"]) == ("pending", False)
    assert (second["status"], second["final"]) == ("pending", False)
    assert [stage["stage"] for stage in second["stages"]] == ["approval", "legal"]


def test_an_approver_of_one_stage_reads_that_stage_only(
    status: FunctionServer, db: firestore.Client, engine: Engine, identity: IdentityProvider
) -> None:
    """A chain whose second stage has its own approver: alice does not read bob's legal note."""
    request_id = running(db, engine)
    decide(db, request_id, "approved")
    execution_name = seed.stored(db, request_id)["execution_name"]
    legal = seed.request(
        db,
        approvers=[BOB],
        execution_name=execution_name,
        request_id=f"{request_id}-legal",
        origin_request_id=request_id,
        stage="legal",
    )
    db.collection(seed.REQUESTS).document(legal).update({"comment": "secret legal note", "decided_by": BOB})

    alice = ask(status, request_id, identity.mint(ALICE)).json()
    requester = ask(status, request_id, identity.mint(REQUESTER)).json()

    assert [stage["stage"] for stage in alice["stages"]] == ["approval"]
    assert "secret legal note" not in str(alice)
    assert (alice["decided_by"], alice["comment"]) == (ALICE, "fine")
    assert [stage["stage"] for stage in requester["stages"]] == ["approval", "legal"]


def test_a_long_poll_with_nothing_new_answers_the_same_version_when_its_wait_is_over(
    status: FunctionServer, db: firestore.Client, engine: Engine, identity: IdentityProvider
) -> None:
    request_id = running(db, engine)
    token = identity.mint(REQUESTER)
    seen = ask(status, request_id, token).json()["version"]

    body = ask(status, request_id, token, wait=1, since=seen).json()

    assert (body["version"], body["final"]) == (seen, False)


@pytest.mark.parametrize("wait", ["51", "-1", "soon", "1.5", "²", "007"])
def test_a_wait_beyond_the_bound_is_refused(
    status: FunctionServer, db: firestore.Client, engine: Engine, identity: IdentityProvider, wait: str
) -> None:
    request_id = running(db, engine)

    response = ask(status, request_id, identity.mint(REQUESTER), wait=wait)

    assert response.status_code == 400
    assert response.json()["details"] == ["wait: must be a whole number of seconds, 0 to 50"]


def test_a_request_its_workflow_has_not_written_yet_is_pending_for_its_requester_only(
    status: FunctionServer, db: firestore.Client, identity: IdentityProvider
) -> None:
    """start answers before the workflow asks: a pipeline may ask for the status first."""
    request_id = "started-not-asked-yet"
    seed.start_record(db, request_id, REQUESTER, "expense-approval")

    mine = ask(status, request_id, identity.mint(REQUESTER))
    theirs = ask(status, request_id, identity.mint(ALICE))

    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert (body["status"], body["final"], body["stages"]) == ("pending", False, [])
    # The approvers learn of it when the workflow asks them, not before.
    assert (theirs.status_code, theirs.json()) == (404, {"error": "no such request"})


def test_a_long_poll_answers_when_the_workflow_writes_the_request(
    status: FunctionServer, db: firestore.Client, engine: Engine, identity: IdentityProvider
) -> None:
    request_id = "started-then-asked"
    seed.start_record(db, request_id, REQUESTER, "expense-approval")
    waiting = LongPoll(status, request_id, identity.mint(REQUESTER))

    running(db, engine, request_id=request_id)

    assert [stage["status"] for stage in waiting.answer().json()["stages"]] == ["pending"]


def test_a_start_whose_workflow_never_asked_ends_in_an_error(
    status: FunctionServer, db: firestore.Client, identity: IdentityProvider
) -> None:
    request_id = "started-long-ago"
    seed.start_record(db, request_id, REQUESTER, "expense-approval")
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=11)
    db.collection(seed.STARTS).document(request_id).update({"started_at": long_ago})

    body = ask(status, request_id, identity.mint(REQUESTER)).json()

    assert (body["status"], body["final"], body["outcome"]) == ("error", True, "error")
