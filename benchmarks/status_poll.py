"""From a decision to the exit of the pipeline waiting for it: `python -m approvals request --wait`.

The path measured is the product's, on the local stack (the dev program, the real
clock): the CLI, a process of its own, has started an expense request and is
long-polling `GET /api/requests/{id}` through the hosting origin; an approver's
POST to decide delivers the callback, the workflow records the decision and
returns, the status function's Firestore listener fires, it sees the execution
ended, and the CLI prints the outcome and exits 0. The clock starts as the
decide POST is sent, once the workflow has asked (decide answers 404 before).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import requests

from approvals.emulator.stack import LocalStack

REQUESTER = "carol@example.com"  # any example.com address may claim an expense (Pulumi.dev.yaml)
APPROVER = "alice@example.com"
EXPENSE = {"amount": 120, "currency": "EUR", "reason": "benchmark"}
ASKED_WITHIN_SECONDS = 30.0


class Waiting:
    """One CLI asking and waiting, until it exits."""

    def __init__(self, origin: str) -> None:
        command = [sys.executable, "-m", "approvals", "request", "expense-approval", "--wait"]
        command += ["--input", json.dumps(EXPENSE), "--url", origin, "--local-sign-in", REQUESTER]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        if not first:
            raise RuntimeError(f"the CLI asked nothing (exit {self.process.wait()})")
        self.request_id: str = json.loads(first)["request_id"]

    def exit_status(self) -> int:
        return self.process.wait(timeout=120)


def decide(session: requests.Session, origin: str, token: str, request_id: str) -> float:
    """POST the approval once the workflow has asked; returns when the POST that counted was sent."""
    deadline = time.monotonic() + ASKED_WITHIN_SECONDS
    while True:
        sent = time.perf_counter()
        response = session.post(
            f"{origin}/api/decide",
            json={"request_id": request_id, "outcome": "approved"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        if response.status_code != 404 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if response.status_code != 200:
        raise RuntimeError(f"decide answered {response.status_code}: {response.text}")
    return sent


def decision_to_exit(stack: LocalStack, session: requests.Session, token: str) -> tuple[float, float]:
    """(seconds from the decide POST to the CLI's exit, of which decide's answer)."""
    waiting = Waiting(stack.origin_url)
    sent = decide(session, stack.origin_url, token, waiting.request_id)
    answered = time.perf_counter()
    status = waiting.exit_status()
    exited = time.perf_counter()
    if status != 0:
        raise RuntimeError(f"the CLI exited {status} for an approved request {waiting.request_id}")
    return exited - sent, answered - sent


def report(samples: int = 30) -> list[str]:
    totals: list[float] = []
    posts: list[float] = []
    with TemporaryDirectory() as folder, LocalStack(state_dir=Path(folder)) as stack:
        token = stack.sign_in(APPROVER)["idToken"]
        session = requests.Session()
        decision_to_exit(stack, session, token)  # warms every function up
        for _ in range(samples):
            total, post = decision_to_exit(stack, session, token)
            totals.append(total)
            posts.append(post)
    p95 = statistics.quantiles(totals, n=20)[-1] if len(totals) > 1 else totals[0]
    return [
        f"decision to CLI exit p50 {statistics.median(totals) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms "
        f"over {samples} requests (decide answered in p50 {statistics.median(posts) * 1000:.0f} ms)"
    ]
