"""emulator.tether: a ChildProcess's group ends when its launcher dies without stopping it.

The launcher here is a small script serving a directory with `python -m http.server` as a
ChildProcess, killed with SIGKILL: no JVM, so each test takes a second or two.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from approvals.engine.api.local_server import free_port
from tests.support.lines import Lines
from tests.support.processes import Process, descendants, still_running, wait_gone

ROOT = Path(__file__).resolve().parents[2]

# argv: the port, then options. Prints "ready" and, with --fork, then the pid of a child forked
# without exec that outlives the launcher; then waits to be killed.
LAUNCHER = """
import os, resource, sys, time
from approvals.emulator import process
if "--high-fd" in sys.argv:
    # The lifeline above select()'s limit of 1024, as in a process with many sockets open.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    process._LIFELINE = os.dup2(process._LIFELINE, 1100, inheritable=False)
port = sys.argv[1]
server = [sys.executable, "-m", "http.server", port, "--bind", "127.0.0.1"]
process.ChildProcess("server", server, ready_url=f"http://127.0.0.1:{port}/").start()
print("ready", flush=True)
if "--fork" in sys.argv:
    forked = os.fork()
    if forked == 0:
        time.sleep(600)
        os._exit(0)
    print("forked", forked, flush=True)
time.sleep(600)
"""


@contextlib.contextmanager
def ready_process(script: str, cwd: Path, *argv: str) -> Iterator[tuple[subprocess.Popen[str], Lines]]:
    """`python -c script argv` once it printed "ready"; it, and whatever it started, killed after."""
    process = subprocess.Popen(
        [sys.executable, "-c", script, *argv],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    started: set[Process] = set()
    try:
        assert process.stdout is not None
        output = Lines(process.stdout)
        output.wait_for(lambda line: line == "ready\n", timeout=60)
        started = descendants(process.pid)
        yield process, output
    finally:
        process.kill()
        process.wait()
        # Whatever outlived the launcher is ended here, not left to the next test.
        for pid, _ in still_running(started):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def launcher(*options: str) -> contextlib.AbstractContextManager[tuple[subprocess.Popen[str], Lines]]:
    """The launcher once its server is ready."""
    return ready_process(LAUNCHER, ROOT, str(free_port()), *options)


def test_the_group_ends_when_its_launcher_is_killed() -> None:
    with launcher() as (process, _):
        started = descendants(process.pid)
        assert len(started) == 2, "the server and its tether's watcher"

        process.kill()
        process.wait()

        assert wait_gone(started) == set()


def test_a_lifeline_above_fd_1024_still_ends_the_group() -> None:
    """select() refuses such a descriptor: the watcher would die at once, and the group live on."""
    with launcher("--high-fd") as (process, _):
        started = descendants(process.pid)

        process.kill()
        process.wait()

        assert wait_gone(started) == set()


def test_a_child_forked_without_exec_does_not_keep_the_group_alive() -> None:
    """Holding the lifeline's write end, it would keep the group alive: it gets a lifeline of its own."""
    with launcher("--fork") as (process, output):
        forked_pid = int(output.wait_for(lambda line: line.startswith("forked "), timeout=10).split()[1])
        try:
            below = descendants(process.pid)
            forked = {member for member in below if member[0] == forked_pid}
            assert forked, "the forked child runs"

            process.kill()
            process.wait()

            assert wait_gone(below - forked) == set()
            assert still_running(forked) == forked
        finally:
            # Forked after the launcher's processes were listed: launcher() does not know it.
            os.kill(forked_pid, signal.SIGKILL)


# argv: a folder, then options. A launcher with a Janitor for the folder (--stop: stopped at once);
# prints "ready", then waits to be killed.
JANITOR_LAUNCHER = """
import sys, time
from pathlib import Path
from approvals.emulator.process import Janitor
janitor = Janitor(Path(sys.argv[1]))
if "--stop" in sys.argv:
    janitor.stop()
print("ready", flush=True)
time.sleep(600)
"""


@contextlib.contextmanager
def janitor_launcher(folder: Path, *options: str) -> Iterator[subprocess.Popen[str]]:
    """The launcher once its janitor runs."""
    # Run from the folder's parent: where a crash's core file, if the system writes one, goes.
    with ready_process(JANITOR_LAUNCHER, folder.parent, str(folder), *options) as (process, _):
        yield process


def a_folder_with_files(tmp_path: Path) -> Path:
    folder = tmp_path / "approvals-local-x"
    (folder / "functions" / "start").mkdir(parents=True)
    (folder / "engine.sqlite").write_text("executions")
    (folder / "functions" / "start" / "main.py").write_text("source")
    return folder


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGSEGV], ids=["killed", "crashed"])
def test_a_janitor_removes_the_folder_once_its_launcher_is_gone(tmp_path: Path, signum: int) -> None:
    folder = a_folder_with_files(tmp_path)
    with janitor_launcher(folder) as process:
        janitor = descendants(process.pid)
        assert janitor, "the janitor runs"
        assert folder.is_dir()

        process.send_signal(signum)
        process.wait()

        assert wait_gone(janitor) == set()
        assert not folder.exists()


def test_a_stopped_janitor_ends_and_leaves_the_folder_to_its_owner(tmp_path: Path) -> None:
    folder = a_folder_with_files(tmp_path)
    with janitor_launcher(folder, "--stop") as process:
        assert descendants(process.pid) == set()

        process.kill()
        process.wait()

    assert (folder / "functions" / "start" / "main.py").read_text() == "source"
