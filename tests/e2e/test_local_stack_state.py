"""`--state-dir`: a stack stopped and started again on the same folder goes on where it stopped.

Each stack here runs its own emulators, as `python -m emulator up` does: a shared
Firestore emulator would keep the documents whatever the state dir holds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from approvals.emulator.firestore import FirestoreEmulator
from approvals.emulator.stack import LocalStack, StackError
from approvals.engine.runtime.clock import VirtualClock
from tests.e2e.stack_client import Client

APPROVER = "alice@example.com"  # Pulumi.dev.yaml's translation approvers
REQUESTER = "carol@example.com"


def test_a_request_pending_when_the_stack_stopped_is_decided_after_a_restart(tmp_path: Path) -> None:
    with LocalStack(stack="dev", clock=VirtualClock(), state_dir=tmp_path) as first:
        client = Client.connect(first.origin_url)
        started = client.start(REQUESTER, "translation-validation", {"text": "Hello"})
        client.wait_until_awaiting(started.execution)
        pending = client.request(APPROVER, started.request_id)
        assert pending["status"] == "pending"

    with LocalStack(stack="dev", clock=VirtualClock(), state_dir=tmp_path) as second:
        client = Client.connect(second.origin_url)
        assert client.request(APPROVER, started.request_id) == pending

        decided = client.decide(APPROVER, started.request_id, "approved")

        assert decided.status_code == 200, decided.text
        assert client.result(started.execution)["approved"] is True
        document = client.request(APPROVER, started.request_id)
        assert (document["status"], document["decided_by"]) == ("approved", APPROVER)


def test_an_export_that_fails_as_the_stack_stops_is_one_line_and_the_stack_still_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception there would end `up`'s shutdown in a traceback and exit status 1."""

    def timed_out(self: FirestoreEmulator, directory: Path, name: str, database: str = "(default)") -> Path:
        raise TimeoutError("timed out")

    lines: list[str] = []
    stack = LocalStack(stack="dev", clock=VirtualClock(), state_dir=tmp_path, progress=lines.append)
    with stack:
        monkeypatch.setattr(FirestoreEmulator, "export", timed_out)

    kept = tmp_path / "firestore"
    assert (
        lines[-1] == f"error: could not save Firestore's data to {kept}: timed out; there is no previous save"
    )
    assert not stack.firestore.running  # stopped all the same
    assert [path for path in tmp_path.iterdir() if path.name.startswith(".firestore")] == []  # no scratch


@pytest.mark.parametrize(
    "content", [b"not a port\n", b"70000\n", b"\xff\xfe\x00"], ids=["text", "range", "bytes"]
)
def test_an_engine_port_file_that_holds_no_port_is_refused_before_anything_starts(
    tmp_path: Path, content: bytes
) -> None:
    (tmp_path / "engine-port").write_bytes(content)

    with pytest.raises(StackError, match=r"engine-port holds .*, not the engine's callback port"):
        LocalStack(stack="dev", state_dir=tmp_path).start()
