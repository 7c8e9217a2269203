"""`--state-dir`: a stack stopped and started again on the same folder goes on where it stopped.

Each stack here runs its own emulators, as `python -m emulator up` does: a shared
Firestore emulator would keep the documents whatever the state dir holds.
"""

from __future__ import annotations

from pathlib import Path

from approvals.emulator.stack import LocalStack
from approvals.emulator.workflows.clock import VirtualClock
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
