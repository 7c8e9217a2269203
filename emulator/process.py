"""Local services that run as child processes, each in a process group of its own."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Self

from approvals.engine.api.service import LocalService

# The lifeline of every child's tether (emulator.tether): only this process holds the write end, which
# the kernel closes when it exits, however it exits. Both ends are close-on-exec (PEP 446): a child
# gets the read end only through pass_fds, and no child ever holds the write end.
_LIFELINE, _LIFELINE_WRITE_END = os.pipe()
_TETHER = Path(__file__).with_name("tether.py")


def _own_lifeline() -> None:
    """In a child forked without exec (multiprocessing's fork, a library's os.fork): a lifeline of its own.

    Holding this process's write end, it would keep this process's services alive until it exited too.
    """
    global _LIFELINE, _LIFELINE_WRITE_END
    os.close(_LIFELINE)
    os.close(_LIFELINE_WRITE_END)
    _LIFELINE, _LIFELINE_WRITE_END = os.pipe()


os.register_at_fork(after_in_child=_own_lifeline)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_process_group(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM the group ``process`` leads, then SIGKILL what is left after ``grace``.

    The process must have been started with ``start_new_session=True``. The
    whole group is waited for because a launcher (gcloud, gunicorn's arbiter)
    can exit before its children do.
    """
    pgid = process.pid
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        process.wait()
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if process.poll() is not None and not _group_alive(pgid):
            return
        time.sleep(0.05)
    if _group_alive(pgid):
        os.killpg(pgid, signal.SIGKILL)
    process.wait(timeout=5)


# Reads its stdin, the lifeline, to end of file (this process gone), then removes the folder "$1"; a
# service still stopping may write into it meanwhile, so it tries again for as long as a tether's grace.
_JANITOR = (
    'cat >/dev/null; for _ in 1 2 3 4 5 6 7 8 9 10; do rm -rf -- "$1"; [ -e "$1" ] || exit 0; sleep 1; done'
)


class Janitor:
    """Removes ``folder`` once this process is gone without stop(): killed (SIGKILL) or crashed.

    The folder of a stack without --state-dir holds its executions and the functions' sources; a
    stack that stops removes it itself, but one killed cannot, and each such run left one in the
    temp folder. A shell, not a Python process: about 1 MB for it and its `cat`, for the life of
    the stack. In a session of its own, so that Ctrl-C, which the stack handles, does not end it.
    """

    def __init__(self, folder: Path) -> None:
        self._process = subprocess.Popen(
            ["/bin/sh", "-c", _JANITOR, "janitor", str(folder.resolve())],
            stdin=_LIFELINE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def stop(self) -> None:
        """End it (the shell and its `cat`, which waits on the lifeline), leaving the folder to its owner."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()


class ProcessError(RuntimeError):
    """A child service exited early or never answered."""


class ChildProcess(LocalService):
    """A command that serves HTTP on loopback, ready once ``ready_url`` answers at all.

    Its output goes to a temporary file, kept until stop() so that errors can
    quote it. A process group of its own lets stop() end the launcher and every
    child it started (gcloud's JVM, gunicorn's workers): no stray processes.
    The group is led by a tether (emulator.tether), which ends it when this
    process dies without a stop(): killed, or crashed.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        ready_url: str,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.ready_url = ready_url
        self.env = dict(env or {})
        self.cwd = cwd
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self, timeout: float = 60.0) -> Self:
        """Start the command and wait until it answers HTTP."""
        if self._process is not None:
            return self
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - kept open for output()
        self._process = subprocess.Popen(
            # A script, -I: it needs only the standard library, whatever PYTHONPATH, cwd or the install say.
            [sys.executable, "-I", str(_TETHER), str(_LIFELINE), *self.argv],
            env={**os.environ, **self.env},
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # No preexec_fn: with one, CPython runs the at-fork hook in the child, which would
            # swap the lifeline passed here for a pipe of its own, closed at exec: the tether
            # would end the service at once.
            pass_fds=(_LIFELINE,),
        )
        try:
            self._wait_until_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self, timeout: float) -> None:
        assert self._process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ProcessError(f"{self.name} exited early:\n{self.output()}")
            try:
                urllib.request.urlopen(self.ready_url, timeout=1).close()
                return
            except urllib.error.HTTPError:
                return  # any HTTP answer means it is serving
            except OSError:
                time.sleep(0.1)
        raise ProcessError(f"{self.name} did not answer within {timeout:.0f}s:\n{self.output()}")

    @property
    def running(self) -> bool:
        """Started, not stopped, and not exited."""
        return self._process is not None and self._process.poll() is None

    def output(self, size: int = 8000) -> str:
        """The end of what the process printed."""
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-size:]

    def stop(self, grace: float = 10.0) -> None:
        """End the process group: SIGTERM, then SIGKILL after ``grace`` seconds (0: at once,
        as a crash or an instance shut down mid-request would)."""
        process, self._process = self._process, None
        if process is not None:
            stop_process_group(process, grace)
        if self._log is not None:
            self._log.close()
            self._log = None
