"""The local Workflows engine: step cost, 10,000 waiting executions, callback round trip.

Step cost is compared with PyPI's `workflows-emulator` 1.10.0, in this process
and this run, on what both can run (it has no callbacks). It has no licence, so
it is never vendored: the first run installs it into `.bench/` (git-ignored)
and imports it from there.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import logging
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from approvals.engine.api.server import WorkflowsServer, loopback_url
from approvals.engine.runtime.clock import VirtualClock
from approvals.engine.runtime.engine import Engine
from approvals.engine.runtime.store import SUCCEEDED, Store

REPO = Path(__file__).resolve().parent.parent
BASELINE_DIR = REPO / ".bench" / "workflows-emulator"
BASELINE = "workflows-emulator==1.10.0"
BIG_LIST = 10_000
# Cost per step = the difference between a 50-step run and a longer one, long
# enough that the per-execution cost of storing the 10,000-element argument (and
# its jitter) does not drown it; the baseline's steps are ~100x dearer, so a
# shorter difference already gives it a clear signal.
LONG = {"ours": 5050, "theirs": 150}


def assign_workflow(steps: int) -> str:
    """`steps` assign steps, each reading the previous result; the argument is kept whole."""
    lines = ["main:", "  params: [args]", "  steps:", "    - init:", "        assign:", "          - x: 0"]
    for index in range(steps):
        lines += [f"    - step{index}:", "        assign:", "          - x: ${x + 1}"]
    lines += ["    - done:", "        return: ${x + len(args.big)}"]
    return "\n".join(lines) + "\n"


def install_baseline(timeout: float = 600) -> Path:
    """BASELINE_DIR, holding workflows-emulator and its dependencies; installed on first use.

    pip installs into a fresh folder that is renamed into place once complete, so an
    interrupted install never leaves a half-filled BASELINE_DIR for later runs to trip on.
    """
    if BASELINE_DIR.is_dir():
        return BASELINE_DIR
    BASELINE_DIR.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=BASELINE_DIR.parent, prefix="installing-") as folder:
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--target", folder, BASELINE]
        try:
            subprocess.run(command, check=True, timeout=timeout, capture_output=True, text=True)
        except subprocess.TimeoutExpired as error:
            raise RuntimeError(f"installing {BASELINE} from PyPI took over {timeout:.0f} s; retry") from error
        except subprocess.CalledProcessError as error:
            raise RuntimeError(f"installing {BASELINE} from PyPI failed:\n{error.stderr}") from error
        # Another run may have finished the same install meanwhile: keep its copy.
        with contextlib.suppress(OSError):
            Path(folder).rename(BASELINE_DIR)
    return BASELINE_DIR


def _load_baseline() -> Callable[[dict[str, Any], dict[str, Any]], Any]:
    # Appended, not prepended: our own packages win where both ship one.
    sys.path.append(str(install_baseline()))
    logging.getLogger("workflows_emulator").disabled = True
    from workflows_emulator.main import execute_workflow

    return execute_workflow


def _median_seconds(run: Callable[[], Any], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def step_cost(repeat: int = 15) -> list[str]:
    """Per-execution time of assign workflows, ours against workflows-emulator, and the cost per step."""
    baseline = _load_baseline()
    timings: dict[tuple[str, int, int], float] = {}
    with tempfile.TemporaryDirectory() as folder:
        engine = Engine(Store(Path(folder) / "bench.sqlite"), VirtualClock())
        try:
            for steps, items in itertools.product((50, *LONG.values()), (0, BIG_LIST)):
                source = assign_workflow(steps)
                workflow_id = f"assign-{steps}-{items}"
                engine.deploy(workflow_id, source)
                argument = {"big": list(range(items))}
                config = yaml.safe_load(source)

                def ours(workflow_id: str = workflow_id, argument: dict[str, Any] = argument) -> None:
                    execution = engine.start(workflow_id, argument)
                    engine.wait_idle()
                    assert engine.get(execution.id).state == SUCCEEDED

                def theirs(config: dict[str, Any] = config, argument: dict[str, Any] = argument) -> None:
                    # It consumes its config (pops "main"), so each run gets a fresh copy.
                    baseline(copy.deepcopy(config), {"args": argument})

                if steps in (50, LONG["ours"]):
                    timings["ours", steps, items] = _median_seconds(ours, repeat)
                if steps in (50, LONG["theirs"]):
                    timings["theirs", steps, items] = _median_seconds(theirs, max(1, repeat // 3))
        finally:
            engine.close()

    def per_step_us(engine_name: str, items: int) -> float:
        long = LONG[engine_name]
        return (timings[engine_name, long, items] - timings[engine_name, 50, items]) / (long - 50) * 1e6

    lines = []
    for label, items in (("50 assign steps", 0), (f"50 steps, {BIG_LIST:,}-element list held", BIG_LIST)):
        ours_s, theirs_s = timings["ours", 50, items], timings["theirs", 50, items]
        lines.append(
            f"{label:36} ours {ours_s * 1000:7.2f} ms  workflows-emulator {theirs_s * 1000:8.2f} ms"
            f"  {theirs_s / ours_s:6.1f}x faster"
        )
    for engine_name, label in (("ours", "ours"), ("theirs", "workflows-emulator")):
        small, big = per_step_us(engine_name, 0), per_step_us(engine_name, BIG_LIST)
        lines.append(
            f"cost per step, {label:18} {small:9.1f} us without the list, {big:9.1f} us with it"
            f"  ({big / small:5.1f}x)"
        )
    return lines


WAITER = """
main:
  steps:
    - create:
        call: events.create_callback_endpoint
        result: callback
    - wait:
        call: events.await_callback
        args:
          callback: ${callback}
          timeout: 86400
        result: request
    - done:
        return: ${request.http_request.body}
"""


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def _post(url: str, body: bytes) -> int:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Authorization": "Bearer bench", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status


def waiting_executions(count: int = 10_000) -> list[str]:
    """`count` executions waiting on callbacks in one engine: memory, time to wait, time to resume."""
    with tempfile.TemporaryDirectory() as folder:
        before = _rss_mib()
        engine = Engine(Store(Path(folder) / "bench.sqlite"), VirtualClock(), base_url=loopback_url())
        with WorkflowsServer(engine):
            engine.deploy("waiter", WAITER)
            start = time.perf_counter()
            executions = [engine.start("waiter").id for _ in range(count)]
            engine.wait_idle(timeout=600)
            to_wait = time.perf_counter() - start
            waiting = _rss_mib()
            urls = [
                engine.callback_url("waiter", execution, engine.list_callbacks(execution)[0].id)
                for execution in executions
            ]
            start = time.perf_counter()
            with ThreadPoolExecutor(max_workers=8) as pool:
                statuses = list(pool.map(lambda url: _post(url, b'{"ok": true}'), urls))
            engine.wait_idle(timeout=600)
            to_resume = time.perf_counter() - start
            resumed = sum(engine.get(e).state == SUCCEEDED for e in executions)
        engine.close()
    assert statuses.count(200) == count
    return [
        f"{count:,} executions reached the wait in {to_wait:6.1f} s ({count / to_wait:,.0f}/s)",
        f"memory while all wait: {waiting:7.1f} MiB RSS ({waiting - before:6.1f} MiB for the executions,"
        f" {(waiting - before) * 1024 / count:5.1f} KiB each; goal <= 1024 MiB)",
        f"resumed {resumed:,}/{count:,} over HTTP in {to_resume:6.1f} s ({count / to_resume:,.0f}/s)",
    ]


def callback_round_trip(samples: int = 200) -> list[str]:
    """From the HTTP POST to a callback until the execution has finished."""
    with tempfile.TemporaryDirectory() as folder:
        engine = Engine(Store(Path(folder) / "bench.sqlite"), VirtualClock(), base_url=loopback_url())
        with WorkflowsServer(engine) as server:
            engine.deploy("waiter", WAITER)
            round_trips, plain_posts = [], []
            for _ in range(samples):
                execution = engine.start("waiter").id
                engine.wait_idle()
                url = engine.callback_url("waiter", execution, engine.list_callbacks(execution)[0].id)
                start = time.perf_counter()
                _post(url, b'{"ok": true}')
                engine.wait(execution, timeout=30)
                round_trips.append(time.perf_counter() - start)
                # Baseline: the same POST to the same server, answered without touching the engine.
                start = time.perf_counter()
                with contextlib.suppress(urllib.error.HTTPError):
                    _post(f"{server.url}/healthz-not-a-route", b"{}")
                plain_posts.append(time.perf_counter() - start)
        engine.close()

    def percentile(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100)[q - 1] * 1000

    base = statistics.median(plain_posts) * 1000
    return [
        f"callback POST -> execution finished: p50 {percentile(round_trips, 50):6.2f} ms"
        f"  p99 {percentile(round_trips, 99):6.2f} ms  ({samples} samples)",
        f"baseline, a POST the server answers at once: p50 {base:6.2f} ms"
        f"  (round trip p50 = {percentile(round_trips, 50) / base:4.1f}x)",
    ]
