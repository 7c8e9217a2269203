"""From the last vote a quorum needs to the execution's end, through the real decide function.

The path measured is the product's: an approver's POST to decide (ID token
check, the vote transaction that reads every earlier vote and finds the
quorum met, the callback with a metadata-server token), then the engine
resuming the execution, recording the decision in Firestore, auditing and
returning. The baseline is the same path with a quorum of 1, measured in the
same run: the single vote is then also the last one needed.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from tempfile import TemporaryDirectory

import requests

from approvals.database import Collections
from approvals.emulator.firestore import FirestoreEmulator
from approvals.emulator.functions import FunctionServer
from approvals.emulator.identity import IdentityProvider
from approvals.emulator.metadata import MetadataServer
from approvals.engine.api.server import WorkflowsServer, loopback_url
from approvals.engine.runtime.clock import RealClock
from approvals.engine.runtime.connectors import ConnectorSettings
from approvals.engine.runtime.engine import Engine
from approvals.engine.runtime.store import ACTIVE, Store
from approvals.workflow_templates import load_template, render

PROJECT = "demo-approvals-bench"
REQUESTER = "rita@example.com"
APPROVERS = ["ann@example.com", "ben@example.com", "cat@example.com"]
TEAM_WORKFLOW = """\
main:
  params: [input]
  steps:
    - ask:
        call: request_approval
        args:
          request_id: ${input.request_id}
          subject: "Release 1.2"
          payload:
            version: "1.2"
          requester: ${input.requester}
        result: decision
    - answer:
        return: ${decision}
"""
COLLECTIONS = {"APPROVALS_DATABASE": "(default)", **Collections().environment()}


class QuorumBench:
    """Firestore emulator, engine, identity and metadata servers, and decide under functions-framework."""

    def __init__(self, stack: contextlib.ExitStack, folder: Path) -> None:
        firestore = stack.enter_context(FirestoreEmulator(project=PROJECT))
        self.identity = stack.enter_context(IdentityProvider(PROJECT))
        metadata = stack.enter_context(MetadataServer())
        settings = ConnectorSettings(firestore_host=firestore.host, project=PROJECT)
        self.engine = Engine(
            Store(folder / "engine.db"),
            RealClock(),
            project=PROJECT,
            connector_settings=settings,
            base_url=loopback_url(),
        )
        stack.callback(self.engine.close)
        server = stack.enter_context(WorkflowsServer(self.engine))
        env = {
            **COLLECTIONS,
            "GOOGLE_CLOUD_PROJECT": PROJECT,
            "FIRESTORE_EMULATOR_HOST": firestore.host,
            "FIREBASE_AUTH_CERTS_URL": self.identity.certs_url,
            "GCE_METADATA_HOST": metadata.host,
            "WORKFLOWS_EMULATOR_HOST": server.host,
        }
        self.decide = stack.enter_context(FunctionServer("decide", env))
        path = folder / "team.yaml"
        path.write_text(TEAM_WORKFLOW, encoding="utf-8")
        self.template = load_template(path)
        self.tokens = {email: self.identity.mint(email) for email in APPROVERS}
        self.session = requests.Session()
        self.runs = 0

    def deploy(self, quorum: int) -> str:
        workflow = f"quorum-{quorum}"
        env = {
            **COLLECTIONS,
            "APPROVERS": json.dumps(APPROVERS),
            "APPROVAL_TIMEOUT_SECONDS": "3600",
            "APPROVAL_TEMPLATE": "bench",
            "APPROVAL_POLICY": json.dumps({"mode": "quorum", "quorum": quorum}),
        }
        self.engine.deploy(workflow, render(self.template, env), env)
        return workflow

    def vote(self, request_id: str, approver: str) -> None:
        response = self.session.post(
            f"{self.decide.url}/",
            json={"request_id": request_id, "outcome": "approved"},
            headers={"Authorization": f"Bearer {self.tokens[approver]}"},
            timeout=30,
        )
        response.raise_for_status()

    def last_vote_to_completion(self, workflow: str, quorum: int) -> tuple[float, float]:
        """(seconds from the last vote's POST to the execution's end, of which the POST itself)."""
        self.runs += 1
        request_id = f"{workflow}-{self.runs}"
        execution = self.engine.start(workflow, {"request_id": request_id, "requester": REQUESTER})
        self._wait_for_callback(execution.id)
        for approver in APPROVERS[: quorum - 1]:
            self.vote(request_id, approver)
        started = time.perf_counter()
        self.vote(request_id, APPROVERS[quorum - 1])
        answered = time.perf_counter()
        record = self.engine.wait(execution.id, timeout=30)
        ended = time.perf_counter()
        if record.state != "SUCCEEDED" or record.result["status"] != "approved":
            raise RuntimeError(f"{workflow} did not approve: {record.state} {record.error}")
        return ended - started, answered - started

    def _wait_for_callback(self, execution_id: str) -> None:
        self.engine.wait_idle(timeout=30)
        record = self.engine.get(execution_id)
        if record.state != ACTIVE or not any(
            callback.waiters for callback in self.engine.list_callbacks(execution_id)
        ):
            raise RuntimeError(f"execution {execution_id} never waited: {record.error}")


@contextlib.contextmanager
def _bench() -> Iterator[QuorumBench]:
    with TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
        yield QuorumBench(stack, Path(folder))


def report(samples: int = 30) -> list[str]:
    lines = []
    with _bench() as bench:
        workflows = {quorum: bench.deploy(quorum) for quorum in (1, 3)}
        figures: dict[int, tuple[list[float], list[float]]] = {quorum: ([], []) for quorum in workflows}
        # Alternate so that load on the machine falls on both alike; the first round warms up.
        bench.last_vote_to_completion(workflows[1], 1)
        bench.last_vote_to_completion(workflows[3], 3)
        for _ in range(samples):
            for quorum, workflow in workflows.items():
                total, post = bench.last_vote_to_completion(workflow, quorum)
                figures[quorum][0].append(total)
                figures[quorum][1].append(post)
    medians = {quorum: statistics.median(totals) for quorum, (totals, _) in figures.items()}
    for quorum, (totals, posts) in figures.items():
        p95 = statistics.quantiles(totals, n=20)[-1]
        lines.append(
            f"quorum {quorum}: last vote to execution end p50 {medians[quorum] * 1000:.1f} ms, "
            f"p95 {p95 * 1000:.1f} ms (decide answered in p50 {statistics.median(posts) * 1000:.1f} ms)"
        )
    lines.append(f"quorum 3 / quorum 1 (baseline): {medians[3] / medians[1]:.2f}x over {samples} runs each")
    return lines
