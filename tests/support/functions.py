"""Runs a Cloud Function under functions-framework, as Cloud Run would."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from emulator.process import free_port, stop_process_group

REPO = Path(__file__).resolve().parents[2]
FUNCTIONS = REPO / "functions"


class FunctionProcess:
    """``functions-framework --target NAME`` for ``functions/NAME/main.py``."""

    def __init__(self, name: str, env: dict[str, str]) -> None:
        self.name = name
        self.env = env
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL of the function."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> Self:
        """Start the function and wait until it answers HTTP."""
        framework = Path(sys.executable).with_name("functions-framework")
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - read by output()
        self._process = subprocess.Popen(
            [
                str(framework),
                "--target",
                self.name,
                "--source",
                str(FUNCTIONS / self.name / "main.py"),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            # As deployed: common/ importable, nothing else from the repo.
            env={**os.environ, "PYTHONPATH": str(FUNCTIONS), **self.env},
            cwd=FUNCTIONS / self.name,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.output()}")
            try:
                urllib.request.urlopen(f"{self.url}/", timeout=1).close()
                return self
            except urllib.error.HTTPError:
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not start within {timeout:.0f}s:\n{self.output()}")

    def output(self) -> str:
        """What the function printed so far."""
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def stop(self) -> None:
        """Stop the server and its workers."""
        process, self._process = self._process, None
        if process is not None:
            stop_process_group(process)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if self._log is not None:
            self._log.close()
            self._log = None
