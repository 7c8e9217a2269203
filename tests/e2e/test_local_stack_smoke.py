"""Smoke test of `python -m emulator up`: the dev stack comes up, serves, guards, and goes away cleanly.

One stack on a virtual clock serves the in-process checks; the command line
runs its own. "No process left behind" is checked on /proc: every process
below ours that the stack started must be gone (or a zombie) after stop().
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests

from approvals.emulator.firestore import FirestoreEmulator
from approvals.emulator.gcloud import EmulatorError
from approvals.emulator.stack import REPO, LocalStack, StackError
from approvals.emulator.stack_plan import SUBSCRIPTION, StackPlan
from approvals.engine.api.local_server import free_port
from approvals.engine.runtime.clock import VirtualClock
from approvals.testing import Graph
from tests.support.lines import Lines
from tests.support.processes import Process, descendants, still_running, wait_gone

APPROVER = "alice@example.com"  # Pulumi.dev.yaml's approvals:approvers
REQUESTER = "carol@example.com"
STRANGER = "mallory@example.com"
FUNCTIONS = (
    "approvals-start",
    "approvals-decide",
    "approvals-cancel",
    "approvals-delegate",
    "approvals-link",
    "approvals-notify",
    "approvals-web",
)
STARTUP_TIMEOUT = 120.0


@pytest.fixture(scope="module")
def processes_before() -> set[Process]:
    return descendants(os.getpid())


@pytest.fixture(scope="module")
def smoke_stack(processes_before: set[Process]) -> Iterator[LocalStack]:
    """The dev stack on a virtual clock, shared by the tests of this module."""
    with LocalStack(stack="dev", clock=VirtualClock()) as running:
        yield running


def sign_in(stack: LocalStack, email: str) -> str:
    response = requests.post(f"{stack.origin_url}/local/sign-in", json={"email": email}, timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["email"] == email
    return response.json()["idToken"]


def test_every_service_is_healthy(smoke_stack: LocalStack) -> None:
    response = requests.get(f"{smoke_stack.origin_url}/local/health", timeout=30)

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["status"] == "ok"
    assert set(FUNCTIONS) | {"firestore", "pubsub", "engine", "executions", "hosting"} <= set(
        report["services"]
    )
    assert set(report["services"].values()) == {"ok"}


def test_the_page_is_served_at_the_origin(smoke_stack: LocalStack) -> None:
    response = requests.get(f"{smoke_stack.origin_url}/", timeout=10)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<title>Approvals</title>" in response.text
    # A header of the hosting config, applied by the origin.
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_starting_without_a_token_is_refused_through_the_proxy(smoke_stack: LocalStack) -> None:
    response = requests.post(
        f"{smoke_stack.origin_url}/api/start",
        json={"workflow": "translation-validation", "input": {"text": "Hello"}},
        timeout=30,
    )

    assert response.status_code == 401
    assert response.json()["error"] == "missing bearer token"


def test_a_requester_starts_a_translation_and_the_rules_guard_the_request(smoke_stack: LocalStack) -> None:
    response = requests.post(
        f"{smoke_stack.origin_url}/api/start",
        json={"workflow": "translation-validation", "input": {"text": "Hello"}},
        headers={"Authorization": f"Bearer {sign_in(smoke_stack, REQUESTER)}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    request_id = response.json()["request_id"]
    smoke_stack.engine.wait_idle()

    # Through the emulator's REST API with users' ID tokens: the security rules decide.
    url = (
        f"{smoke_stack.firestore.url}/v1/projects/{smoke_stack.project}/databases/(default)/documents"
        f"/approval_requests/{request_id}"
    )

    def read_as(email: str) -> requests.Response:
        return requests.get(
            url, headers={"Authorization": f"Bearer {sign_in(smoke_stack, email)}"}, timeout=10
        )

    as_approver = read_as(APPROVER)
    assert as_approver.status_code == 200, as_approver.text
    fields = as_approver.json()["fields"]
    assert fields["status"] == {"stringValue": "pending"}
    assert fields["requester"] == {"stringValue": REQUESTER}
    assert {"stringValue": APPROVER} in fields["approvers"]["arrayValue"]["values"]
    assert read_as(REQUESTER).status_code == 200
    assert read_as(STRANGER).status_code == 403


def test_the_local_endpoints(smoke_stack: LocalStack) -> None:
    config = requests.get(f"{smoke_stack.origin_url}/local/config", timeout=10).json()
    assert config["project"] == "approvals-dev"
    assert config["firestore"] == smoke_stack.firestore.url
    assert smoke_stack.pubsub is not None
    assert config["pubsub"] == smoke_stack.pubsub.url
    assert config["outbox"] == f"{smoke_stack.origin_url}/local/outbox"
    assert config["clock"] == "virtual"

    before = smoke_stack.engine.clock.now()
    advanced = requests.post(
        f"{smoke_stack.origin_url}/local/clock:advance", json={"seconds": 60}, timeout=30
    )
    assert advanced.status_code == 200, advanced.text
    assert smoke_stack.engine.clock.now() == before + 60

    bad = requests.post(
        f"{smoke_stack.origin_url}/local/sign-in", json={"email": "not an address"}, timeout=10
    )
    assert bad.status_code == 400
    assert requests.get(f"{smoke_stack.origin_url}/local/nothing", timeout=10).status_code == 404


def test_sign_in_takes_no_groups(smoke_stack: LocalStack) -> None:
    """As with Google sign-in, no token carries groups: members come from the stack's approvals:groups."""
    response = requests.post(
        f"{smoke_stack.origin_url}/local/sign-in",
        json={"email": STRANGER, "groups": ["reviewers"]},
        timeout=10,
    )

    assert response.status_code == 400, response.text
    assert "approvals:groups" in response.json()["error"]


def test_the_outbox_keeps_what_the_mail_relay_is_sent(smoke_stack: LocalStack) -> None:
    outbox = f"{smoke_stack.origin_url}/local/outbox"
    mail = {"to": STRANGER, "subject": "Hello", "text": "Hi\n", "link": f"{smoke_stack.origin_url}/link"}

    def strangers_mails() -> list[dict[str, str]]:
        # Only the stranger's: notify may still be mailing the approvers of the
        # translation an earlier test started.
        return [m for m in requests.get(outbox, timeout=10).json()["mails"] if m.get("to") == STRANGER]

    before = strangers_mails()

    sent = requests.post(outbox, json=mail, timeout=10)
    assert sent.status_code == 200, sent.text
    assert requests.post(outbox, json={"to": STRANGER}, timeout=10).status_code == 400
    assert requests.delete(outbox, timeout=10).headers["Allow"] == "GET, POST"

    assert strangers_mails() == [*before, mail]


def test_the_plan_wires_notifications_to_local_services(smoke_stack: LocalStack) -> None:
    plan = smoke_stack.plan
    events = "projects/approvals-dev/topics/approvals-approval-events"

    assert plan.topics == (events,)
    [subscription] = plan.subscriptions
    assert (subscription.topic, subscription.push_function) == (events, "approvals-notify")
    assert all(w.env["APPROVALS_EVENTS_TOPIC"] == events for w in plan.workflows)
    readers = {f.name: f.secret_env for f in plan.functions if f.secret_env}
    link_key = {"APPROVALS_LINK_KEY": "projects/approvals-dev/secrets/approvals-link-key"}
    assert readers == {"approvals-link": link_key, "approvals-notify": link_key}


def test_the_plan_reads_who_may_invoke_each_function(smoke_stack: LocalStack) -> None:
    """Only notify is private: the pusher alone may invoke it, and Pub/Sub pushes to it as the pusher."""
    plan = smoke_stack.plan
    pusher = "approvals-pusher@approvals-dev.iam.gserviceaccount.com"
    notify = "https://europe-west1-approvals-dev.cloudfunctions.net/approvals-notify"

    assert [f.name for f in plan.functions if not plan.is_public(f.name)] == ["approvals-notify"]
    assert plan.invokers("approvals-notify") == {f"serviceAccount:{pusher}"}
    assert set(smoke_stack.front_ends) == {"approvals-notify"}
    [subscription] = plan.subscriptions
    assert (subscription.oidc_service_account, subscription.token_audience) == (pusher, notify)
    assert (
        subscription.ack_deadline_seconds,
        subscription.minimum_backoff,
        subscription.maximum_backoff,
    ) == (
        60,
        10.0,
        600.0,
    )


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        (
            {"pushConfig": {"pushEndpoint": "https://example.com/hook"}},
            "pushes to https://example.com/hook, which is no function",
        ),
        (
            {"topic": "projects/approvals-dev/topics/elsewhere"},
            "its topic projects/approvals-dev/topics/elsewhere is not one the program creates",
        ),
        (
            {"filter": 'attributes.event = "requested"'},
            "a message filter (the Pub/Sub emulator ignores filters) does not run locally",
        ),
    ],
    ids=["push-elsewhere", "unknown-topic", "filter"],
)
def test_a_subscription_the_stack_cannot_serve_is_refused(
    smoke_stack: LocalStack, change: dict[str, Any], refusal: str
) -> None:
    [subscription] = smoke_stack.graph.of_type(SUBSCRIPTION)
    graph = Graph(
        tuple(
            replace(r, outputs={**r.outputs, **change}) if r is subscription else r
            for r in smoke_stack.graph.resources
        ),
        smoke_stack.graph.outputs,
    )

    with pytest.raises(StackError, match=re.escape(refusal)):
        StackPlan.read(graph)


def test_stop_leaves_no_process_behind(smoke_stack: LocalStack, processes_before: set[Process]) -> None:
    # After the tests above, which share the stack: this one stops it (the fixture's stop is then a no-op).
    started = descendants(os.getpid()) - processes_before
    assert started, "the stack should run child processes"

    smoke_stack.stop()

    assert wait_gone(started) == set()


def test_a_failure_half_way_stops_what_was_started(monkeypatch: pytest.MonkeyPatch) -> None:
    before = descendants(os.getpid())
    running_at_stop: set[Process] = set()
    stop = LocalStack.stop

    def failing_start(self: FirestoreEmulator, timeout: float = 60.0) -> FirestoreEmulator:
        raise EmulatorError("the Firestore emulator did not come up (simulated)")

    def recording_stop(self: LocalStack) -> None:
        running_at_stop.update(descendants(os.getpid()) - before)
        stop(self)

    # The failure surfaces once the function servers run: stop() must end them.
    monkeypatch.setattr(FirestoreEmulator, "start", failing_start)
    monkeypatch.setattr(LocalStack, "stop", recording_stop)
    stack = LocalStack(stack="dev", clock=VirtualClock())

    with pytest.raises(EmulatorError, match="simulated"):
        stack.start()
    stack.stop()  # safe after a failed start

    assert running_at_stop, "the function servers should have been running"
    assert wait_gone(running_at_stop) == set()


def test_a_busy_port_is_refused_before_anything_starts() -> None:
    with busy_port() as port, pytest.raises(StackError, match=f"port {port} is in use: pass --port"):
        LocalStack(stack="dev", port=port).start()


def test_a_state_dir_whose_callback_port_is_busy_is_refused_before_anything_starts(tmp_path: Path) -> None:
    """Its pending requests name that port in their callback URLs: another would leave them undecidable."""
    with busy_port() as port:
        (tmp_path / "engine-port").write_text(f"{port}\n")

        with pytest.raises(StackError, match=f"port {port} is in use: the engine's callback URLs name it"):
            LocalStack(stack="dev", state_dir=tmp_path).start()


def test_a_program_without_an_approvals_platform_is_refused(tmp_path: Path) -> None:
    program = tmp_path / "__main__.py"
    program.write_text("import pulumi\n\npulumi.export('nothing', 1)\n")

    with pytest.raises(StackError, match="registers no ApprovalPlatform"):
        LocalStack(program, stack="dev").start()


@contextlib.contextmanager
def busy_port() -> Iterator[int]:
    """A port something listens on while the block runs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


# The command line


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT,
        check=False,
    )


@contextlib.contextmanager
def up(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`python -m emulator up ARGS` once ready, and what it printed until then; killed after the block."""
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "up", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        output = Lines(process.stdout)
        output.wait_for(lambda line: "Press Ctrl-C" in line, timeout=STARTUP_TIMEOUT)
        yield process, output.text
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_up_serves_until_ctrl_c_then_exits_cleanly() -> None:
    port = free_port()
    with up("--port", str(port)) as (process, text):
        for progress in ("firestore emulator", "pubsub emulator", "workflows engine", *FUNCTIONS, "hosting"):
            assert f"  {progress} " in text, text
        assert f"origin               http://127.0.0.1:{port}\n" in text
        assert f"http://127.0.0.1:{port}/api/start" in text
        assert f"mail outbox (local)  http://127.0.0.1:{port}/local/outbox " in text

        health = requests.get(f"http://127.0.0.1:{port}/local/health", timeout=30)
        assert health.status_code == 200, health.text
        assert run_cli("health", "--url", f"http://127.0.0.1:{port}").returncode == 0
        started = descendants(process.pid)

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0

    assert wait_gone(started) == set()
    assert run_cli("health", "--url", f"http://127.0.0.1:{port}").returncode == 1


def can_listen(port: int) -> bool:
    """Whether a new server could listen on ``port`` (as the stack's do: SO_REUSEADDR)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        sock.listen()
        return True


def janitor_folder(pid: int) -> Path | None:
    """The folder the process ``pid`` removes if it is the stack's janitor (emulator.process.Janitor)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return None
    return Path(argv[-2]) if argv[-3:-2] == ["janitor"] else None


def test_up_killed_leaves_no_process_behind() -> None:
    """Killed with SIGKILL, it cannot stop its services: they end themselves, JVMs and workers included."""
    with up("--port", str(free_port())) as (process, text):
        started = descendants(process.pid)
        ports = {int(port) for port in re.findall(r"http://127\.0\.0\.1:(\d+)", text)}
        [folder] = [folder for pid, _ in started if (folder := janitor_folder(pid)) is not None]
        assert (folder / "engine.sqlite").exists()
        try:
            process.kill()
            process.wait()

            assert wait_gone(started) == set()
            assert [port for port in ports if not can_listen(port)] == []
            assert not folder.exists(), "the run's temporary folder: its executions, the functions' sources"
        finally:
            # Whatever outlived the launcher is ended here, not left to the next test.
            for pid, _ in still_running(started):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(os.getpgid(pid), signal.SIGKILL)


def test_up_on_a_busy_port_says_so() -> None:
    with busy_port() as port:
        done = run_cli("up", "--port", str(port))

    assert done.returncode == 1
    assert f"port {port} is in use: pass --port" in done.stderr


def test_up_prints_only_its_own_lines() -> None:
    """No warning from Google's client libraries (about Python versions they will stop supporting)."""
    with busy_port() as port:
        done = run_cli("up", "--port", str(port))

    assert done.stdout.splitlines()[0] == "Starting the local stack 'dev' ..."
    assert done.stderr.splitlines() == [f"error: port {port} is in use: pass --port with a free port"]


def test_up_without_gcloud_says_how_to_install_it() -> None:
    # Only the interpreter's folder: no gcloud (nor java) on PATH.
    done = run_cli(
        "up", "--port", str(free_port()), env={**os.environ, "PATH": str(Path(sys.executable).parent)}
    )

    assert done.returncode == 1
    assert "gcloud" in done.stderr
    assert "apt-get install google-cloud-cli google-cloud-cli-firestore-emulator" in done.stderr
