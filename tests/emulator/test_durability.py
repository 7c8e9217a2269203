"""Restarting the engine on the same SQLite file: waiting executions resume, nothing repeats.

Side effects are http.post calls to a local recording server; replaying the
journal must not send any of them again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from approvals.engine.api.local_server import free_port
from approvals.engine.api.server import WorkflowsServer, loopback_url
from approvals.engine.runtime.clock import VirtualClock
from approvals.engine.runtime.engine import Engine
from approvals.engine.runtime.store import CallbackRecord, ExecutionRecord, Store
from tests.support.servers import RecordingServer

CallBack = Callable[..., requests.Response]


def approval(target: str) -> str:
    """Announces itself, publishes its callback URL, waits, naps, then reports the decision."""
    return f"""
main:
  params: [args]
  steps:
    - announce:
        call: http.post
        args:
          url: {target}/before
          body:
            id: ${{args.id}}
            uuid: ${{uuid.generate()}}
    - create:
        call: events.create_callback_endpoint
        args:
          http_callback_method: POST
        result: callback
    - publish:
        call: http.post
        args:
          url: {target}/url
          body:
            id: ${{args.id}}
            url: ${{callback.url}}
    - wait:
        call: events.await_callback
        args:
          callback: ${{callback}}
          timeout: 86400
        result: request
    - nap:
        call: sys.sleep
        args:
          seconds: 60
    - report:
        call: http.post
        args:
          url: {target}/after
          body:
            id: ${{args.id}}
            decision: ${{request.http_request.body}}
    - done:
        return: ${{request.http_request.body}}
"""


class Restartable:
    """An engine and its HTTP server on one SQLite file that a test can stop and start again.

    The server comes back on its first port, so callback URLs handed out before a restart still work.
    """

    def __init__(self, path: Path, clock: VirtualClock) -> None:
        self.path = path
        self.clock = clock
        self.port: int | None = None
        self.store: Store | None = None
        self.engine: Engine | None = None
        self.server: WorkflowsServer | None = None

    def start(self) -> Engine:
        self.store = Store(self.path)
        self.port = self.port or free_port()
        self.engine = Engine(self.store, self.clock, base_url=loopback_url(self.port))
        self.server = WorkflowsServer(self.engine).start()
        return self.engine

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
        if self.engine is not None:
            self.engine.close()
        if self.store is not None:
            self.store.close()
        self.server = self.engine = self.store = None


@pytest.fixture
def node(db_path: Path, clock: VirtualClock) -> Restartable:
    node = Restartable(db_path, clock)
    yield node
    node.stop()


def paths(target: RecordingServer) -> list[str]:
    return [call.path for call in target.calls]


def test_waiting_executions_survive_a_restart(
    node: Restartable, target: RecordingServer, call_back: CallBack
) -> None:
    engine = node.start()
    engine.deploy("approval", approval(target.url))
    ids = [engine.start("approval", {"id": n}).id for n in range(3)]
    engine.wait_idle()
    urls = {call.json()["id"]: call.json()["url"] for call in target.calls if call.path == "/url"}
    before = {call.json()["id"]: call.json()["uuid"] for call in target.calls if call.path == "/before"}
    assert len(urls) == len(before) == 3

    node.stop()
    engine = node.start()
    engine.wait_idle()
    # Replaying up to the await performed nothing again.
    assert sorted(paths(target)) == ["/before"] * 3 + ["/url"] * 3

    for n in range(3):
        assert call_back(urls[n], {"n": n}).status_code == 200
    engine.advance(60)

    for n, execution_id in enumerate(ids):
        done = engine.get(execution_id)
        assert (done.state, done.result) == ("SUCCEEDED", {"n": n})
    assert sorted(paths(target)) == ["/after"] * 3 + ["/before"] * 3 + ["/url"] * 3
    assert sorted(call.json()["id"] for call in target.calls if call.path == "/after") == [0, 1, 2]


def test_a_callback_answered_200_survives_an_immediate_stop(
    node: Restartable, target: RecordingServer, call_back: CallBack
) -> None:
    """The 200 is sent only once the request is committed, so a crash right after loses nothing."""
    engine = node.start()
    engine.deploy("approval", approval(target.url))
    execution_id = engine.start("approval", {"id": 7}).id
    engine.wait_idle()
    [url] = [call.json()["url"] for call in target.calls if call.path == "/url"]

    assert call_back(url, "yes").status_code == 200
    node.stop()
    engine = node.start()
    engine.advance(60)

    assert engine.get(execution_id).result == "yes"
    assert paths(target).count("/after") == 1
    assert paths(target).count("/before") == 1


def test_a_restart_keeps_sleep_and_await_deadlines(node: Restartable, target: RecordingServer) -> None:
    engine = node.start()
    engine.deploy("approval", approval(target.url))
    execution_id = engine.start("approval", {"id": 1}).id
    engine.advance(86400 - 10)

    node.stop()
    engine = node.start()
    engine.advance(9)
    assert engine.get(execution_id).state == "ACTIVE"
    engine.advance(1)

    failed = engine.get(execution_id)
    assert failed.state == "FAILED"
    assert "TimeoutError" in failed.error["tags"]


def test_replayed_host_values_are_the_journaled_ones(node: Restartable, target: RecordingServer) -> None:
    engine = node.start()
    engine.deploy(
        "stamps",
        """
main:
  steps:
    - first:
        assign:
          - t: ${sys.now()}
          - u: ${uuid.generate()}
    - nap:
        call: sys.sleep
        args:
          seconds: 30
    - done:
        return: ${[t, u, sys.now()]}
""",
    )
    execution_id = engine.start("stamps").id
    engine.wait_idle()
    started = node.clock.now()

    node.stop()
    node.clock.advance(10)  # the engine was down for a while
    engine = node.start()
    engine.advance(20)

    t, u, end = engine.get(execution_id).result
    assert t == started
    assert end == started + 30
    assert len(u) == 36


def test_a_file_from_before_labels_opens_and_keeps_its_executions(tmp_path: Path) -> None:
    """An engine file written before executions had labels and a call log level (the Execution
    resource's "labels" and "callLogLevel") still opens: its executions read back, new ones keep both."""
    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE executions (
            number INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, workflow TEXT NOT NULL,
            revision TEXT NOT NULL, argument TEXT, state TEXT NOT NULL, result TEXT, error TEXT,
            start_time REAL NOT NULL, end_time REAL);
        INSERT INTO executions (id, workflow, revision, argument, state, start_time)
            VALUES ('old', 'wf', '000001-abc', 'null', 'SUCCEEDED', 0);
        """
    )
    old.close()

    store = Store(path)
    try:
        store.create_execution(
            ExecutionRecord(
                "new", "wf", "000001-abc", None, "ACTIVE", 1.0, labels={"a": "b"}, call_log_level="LOG_NONE"
            )
        )
        before, after = store.execution("old"), store.execution("new")
    finally:
        store.close()

    assert before is not None and (before.state, before.labels, before.call_log_level) == (
        "SUCCEEDED",
        None,
        None,
    )
    assert after is not None and (after.labels, after.call_log_level) == ({"a": "b"}, "LOG_NONE")


def test_a_file_from_before_several_waiters_keeps_its_waiter(tmp_path: Path) -> None:
    """An engine file written when an endpoint had one waiter (callbacks.waiting and .deadline)
    still opens, and the await waiting there keeps waiting until its deadline."""
    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE callbacks (
            id TEXT PRIMARY KEY, execution TEXT NOT NULL, method TEXT NOT NULL, created REAL NOT NULL,
            request TEXT, waiting TEXT, deadline REAL);
        INSERT INTO callbacks VALUES ('waited', 'e', 'POST', 0, NULL, 'effect-1', 99.0);
        INSERT INTO callbacks VALUES ('idle', 'e', 'POST', 0, NULL, NULL, NULL);
        """
    )
    old.close()

    for opening in range(2):  # opened again, it moves nothing twice
        store = Store(path)
        try:
            waited, idle = store.callback("waited"), store.callback("idle")
            store.create_callback(CallbackRecord(f"new-{opening}", "e", "POST", 1.0))
        finally:
            store.close()

        assert waited is not None and waited.waiters == (("effect-1", 99.0),)
        assert idle is not None and idle.waiters == ()
