"""The step library's Firestore writes on the engine, against a scripted Firestore stand-in.

Firestore answers a plain write ABORTED (409) when it contends with a
transaction on the same document, as the functions' vote transactions do on
the request document. The library retries that answer with backoff (a virtual
clock here, advanced past the waits), and never ALREADY_EXISTS, also a 409,
which is how a create refuses a reused id.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from approvals.engine.runtime.clock import VirtualClock
from approvals.engine.runtime.connectors import ConnectorSettings
from approvals.engine.runtime.engine import Engine
from approvals.engine.runtime.store import ExecutionRecord, Store
from approvals.workflow_templates import load_template, render
from tests.support import PROJECT
from tests.support.servers import RecordingServer, Reply
from tests.templates.examples import PLATFORM_ENV

# A database name the connector path does not need to quote.
DATABASE = "approvals"
ENV = {**PLATFORM_ENV, "APPROVALS_DATABASE": DATABASE}
DOCUMENTS = f"/v1/projects/{PROJECT}/databases/{DATABASE}/documents"
# Past every backoff wait of the library's retries (1 + 2 + 4 + 8 + 8 seconds).
PAST_BACKOFF = 60


def storing_a_note(subworkflow: str) -> str:
    """A workflow that stores one note through the library's `subworkflow`."""
    return f"""\
main:
  steps:
    - store_note:
        call: {subworkflow}
        args:
          collection: notes
          document_id: "n1"
          values:
            note: hello
        result: document
    - done:
        return: ${{document}}
"""


UPDATE = storing_a_note("firestore_update_document")
CREATE = storing_a_note("firestore_create_document")


# Asks the library's predicate about one error value.
CLASSIFY = """\
main:
  params: [error]
  steps:
    - classify:
        call: firestore_contention
        args:
          e: ${error}
        result: verdict
    - done:
        return: ${verdict}
"""

STORED = {"name": f"projects/{PROJECT}/databases/{DATABASE}/documents/notes/n1", "fields": {}}


def firestore_error(status: str) -> dict[str, Any]:
    return {"error": {"code": 409, "message": f"{status.lower()} on notes/n1", "status": status}}


ABORTED = Reply(409, firestore_error("ABORTED"))
ALREADY_EXISTS = Reply(409, firestore_error("ALREADY_EXISTS"))


class Writes:
    """Deploys a tiny workflow using the library and runs it against the stand-in."""

    def __init__(self, engine: Engine, firestore: RecordingServer, tmp_path: Path) -> None:
        self.engine = engine
        self.firestore = firestore
        self.tmp_path = tmp_path

    def run(self, source: str, argument: Any = None) -> str:
        path = self.tmp_path / "writes.yaml"
        path.write_text(source, encoding="utf-8")
        self.engine.deploy("writes", render(load_template(path), ENV), ENV)
        execution = self.engine.start("writes", argument)
        self.engine.wait_idle()
        return execution.id

    def finish(self, execution_id: str) -> ExecutionRecord:
        self.engine.advance(PAST_BACKOFF)
        return self.engine.get(execution_id)


@pytest.fixture
def writes(store: Store, clock: VirtualClock, tmp_path: Path) -> Iterator[Writes]:
    with RecordingServer() as firestore:
        firestore.default = Reply(200, STORED)
        settings = ConnectorSettings(firestore_host=firestore.host, project=PROJECT)
        engine = Engine(store, clock, project=PROJECT, connector_settings=settings)
        yield Writes(engine, firestore, tmp_path)
        engine.close()


# (workflow, HTTP method, path) of each library write.
WRITES = [
    pytest.param(UPDATE, "PATCH", f"{DOCUMENTS}/notes/n1", id="update"),
    pytest.param(CREATE, "POST", f"{DOCUMENTS}/notes", id="create"),
]


@pytest.mark.parametrize(("source", "method", "path"), WRITES)
def test_a_write_aborted_by_contention_is_retried_after_a_backoff(
    writes: Writes, source: str, method: str, path: str
) -> None:
    writes.firestore.script(ABORTED)

    execution_id = writes.run(source)
    # The retry waits on the clock.
    assert len(writes.firestore.calls) == 1
    assert writes.engine.get(execution_id).state == "ACTIVE"

    record = writes.finish(execution_id)
    assert record.state == "SUCCEEDED", record.error
    assert record.result == STORED
    first, second = writes.firestore.calls
    assert (first.method, second.method) == (method, method)
    assert first.path.split("?")[0] == second.path.split("?")[0] == path
    assert first.path == second.path
    assert first.json() == second.json() == {"fields": {"note": {"stringValue": "hello"}}}


def test_an_existing_document_is_not_retried_and_fails_the_create(writes: Writes) -> None:
    writes.firestore.script(ALREADY_EXISTS)

    record = writes.finish(writes.run(CREATE))

    assert len(writes.firestore.calls) == 1
    assert record.state == "FAILED"
    assert record.error["tags"] == ["HttpError"]
    assert record.error["code"] == 409
    assert record.error["body"]["error"]["status"] == "ALREADY_EXISTS"


@pytest.mark.parametrize(("source", "method", "path"), WRITES)
def test_contention_on_every_attempt_fails_after_five_retries(
    writes: Writes, source: str, method: str, path: str
) -> None:
    writes.firestore.default = ABORTED

    record = writes.finish(writes.run(source))

    calls = writes.firestore.calls
    assert len(calls) == 6
    assert {(call.method, call.path.split("?")[0]) for call in calls} == {(method, path)}
    assert record.state == "FAILED"
    assert (record.error["tags"], record.error["code"]) == (["HttpError"], 409)
    assert record.error["body"]["error"]["status"] == "ABORTED"


@pytest.mark.parametrize(
    ("error", "contention"),
    [
        pytest.param(
            {"tags": ["HttpError"], "code": 409, "body": firestore_error("ABORTED")}, True, id="aborted"
        ),
        pytest.param(
            {"tags": ["HttpError"], "code": 409, "body": firestore_error("ALREADY_EXISTS")},
            False,
            id="already-exists",
        ),
        pytest.param(
            {"tags": ["HttpError"], "code": 503, "body": {"error": {"status": "ABORTED"}}},
            False,
            id="not-409",
        ),
        pytest.param({"tags": ["HttpError"], "code": 409, "body": "conflict"}, False, id="text-body"),
        pytest.param({"tags": ["HttpError"], "code": 409, "body": {"error": "x"}}, False, id="text-error"),
        pytest.param({"tags": ["HttpError"], "code": 409}, False, id="no-body"),
        pytest.param({"tags": ["ValueError"], "message": "bad"}, False, id="runtime-error"),
        pytest.param({"tags": "HttpError", "code": 409}, False, id="tags-not-a-list"),
        pytest.param({"code": 409, "body": firestore_error("ABORTED")}, False, id="no-tags"),
        pytest.param("boom", False, id="string"),
        pytest.param(None, False, id="null"),
    ],
)
def test_only_an_aborted_http_error_counts_as_contention(
    writes: Writes, error: Any, contention: bool
) -> None:
    record = writes.engine.get(writes.run(CLASSIFY, error))

    assert record.state == "SUCCEEDED", record.error
    assert record.result is contention
    assert writes.firestore.calls == []
