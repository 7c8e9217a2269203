"""A pipeline waits for a person: `python -m approvals request ... --wait` against the local stack.

The CLI runs as a pipeline runs it, a process of its own that signs in, asks, prints the
request, long-polls its status and exits with the outcome. People decide beside it over
HTTP (decide, cancel), and the stack's virtual clock lets a request expire at once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from approvals.emulator.stack import LocalStack
from tests.e2e.stack_client import Client, poll

REQUESTER = "carol@example.com"  # any example.com address may claim an expense
ALICE = "alice@example.com"  # approves expenses
EXPENSE = {"amount": 120, "currency": "EUR", "reason": "train to the customer"}
DAY = 86400  # the expense workflow's timeout in Pulumi.dev.yaml


class Pipeline:
    """The CLI, running: its first line is the request it made; it exits with the outcome."""

    def __init__(self, stack: LocalStack, *options: str) -> None:
        command = [sys.executable, "-m", "approvals", "request", "expense-approval"]
        command += ["--input", json.dumps(EXPENSE), "--url", stack.origin_url, "--local-sign-in", REQUESTER]
        self.process = subprocess.Popen(
            [*command, *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        assert first, self.process.stderr.read() if self.process.stderr else ""
        self.request_id: str = json.loads(first)["request_id"]
        self.progress: list[str] = []

    def wait_for_progress(self, text: str) -> None:
        """Read the CLI's progress lines until one shows `text`."""
        assert self.process.stderr is not None
        while not self.progress or text not in self.progress[-1]:
            line = self.process.stderr.readline()
            assert line, "".join(self.progress)
            self.progress.append(line)

    def outcome(self) -> tuple[int, dict[str, object] | None, str]:
        """The exit status, the decision it printed (if any), and its progress lines."""
        out, err = self.process.communicate(timeout=120)
        return (
            self.process.returncode,
            (json.loads(out) if out.strip() else None),
            "".join(self.progress) + err,
        )


def written(client: Client, email: str, request_id: str) -> dict[str, object]:
    """The request as its workflow wrote it: start answers before the workflow asks."""
    path = f"approval_requests/{request_id}"
    poll(lambda: client.read_document(email, path), lambda r: r.status_code == 200, path)
    return client.request(email, request_id)


@pytest.fixture
def pipeline(stack: LocalStack, client: Client) -> Iterator[Pipeline]:
    running = Pipeline(stack, "--wait")
    # People decide (and the clock runs) once the workflow waits for them, as in the cloud.
    client.wait_until_awaiting(str(written(client, REQUESTER, running.request_id)["execution_name"]))
    # ...and once the pipeline has seen the request pending, so that it waits for the decision.
    running.wait_for_progress("pending (manager: 0 approved, 0 rejected)")
    yield running
    running.process.kill()
    running.process.wait()


def test_an_approval_lets_the_pipeline_go_on(pipeline: Pipeline, client: Client) -> None:
    decided = client.decide(ALICE, pipeline.request_id, "approved", "go ahead")
    assert decided.status_code == 200, decided.text

    status, decision, progress = pipeline.outcome()

    assert status == 0, progress
    assert decision is not None
    assert (decision["outcome"], decision["decided_by"], decision["comment"]) == (
        "approved",
        ALICE,
        "go ahead",
    )
    assert "pending (manager: 0 approved, 0 rejected)" in progress  # the first stage, its votes


def test_a_rejection_stops_the_pipeline(pipeline: Pipeline, client: Client) -> None:
    client.decide(ALICE, pipeline.request_id, "rejected", "too expensive")

    status, decision, _ = pipeline.outcome()

    assert (status, decision and decision["outcome"]) == (1, "rejected")


def test_an_expired_request_stops_the_pipeline(pipeline: Pipeline, client: Client) -> None:
    client.advance(DAY + 60)

    status, decision, _ = pipeline.outcome()

    assert (status, decision and decision["outcome"]) == (2, "expired")


def test_a_cancelled_request_stops_the_pipeline(pipeline: Pipeline, client: Client) -> None:
    cancelled = client.cancel(REQUESTER, pipeline.request_id, "not needed")
    assert cancelled.status_code == 200, cancelled.text

    status, decision, _ = pipeline.outcome()

    assert (status, decision and decision["outcome"]) == (2, "cancelled")


def test_a_wait_that_runs_out_leaves_the_request_open(stack: LocalStack, client: Client) -> None:
    running = Pipeline(stack, "--wait", "--timeout", "1")

    status, decision, progress = running.outcome()

    assert (status, decision) == (3, None)
    assert f"still waiting after 1 s: request {running.request_id}" in progress
    assert written(client, REQUESTER, running.request_id)["status"] == "pending"


def test_without_wait_the_pipeline_only_asks(stack: LocalStack, client: Client) -> None:
    running = Pipeline(stack)

    status, decision, _ = running.outcome()

    assert (status, decision) == (0, None)
    assert written(client, ALICE, running.request_id)["status"] == "pending"
