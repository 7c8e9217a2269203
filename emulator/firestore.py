"""Runs the gcloud Firestore emulator on a free local port."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from types import TracebackType
from typing import IO, Self

from emulator.process import free_port, stop_process_group

INSTALL_HINT = (
    "The Firestore emulator needs the gcloud CLI with its Firestore emulator "
    "component and Java 17+: on Debian/Ubuntu add Google's cloud-sdk apt "
    "repository, then `apt-get install google-cloud-cli "
    "google-cloud-cli-firestore-emulator openjdk-17-jre-headless` (or, with a "
    "tarball install, `gcloud components install cloud-firestore-emulator`)."
)


class EmulatorError(RuntimeError):
    """gcloud or java is missing, or the emulator did not come up."""


class FirestoreEmulator:
    """The real Firestore emulator in its own process group.

    Point ``FIRESTORE_EMULATOR_HOST`` at :attr:`host`.
    """

    def __init__(self, project: str = "demo-approvals", port: int | None = None) -> None:
        self.project = project
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """Base URL of the emulator's REST endpoint."""
        return f"http://{self.host}"

    def start(self, timeout: float = 60.0) -> Self:
        """Start the emulator and wait until it answers."""
        if self._process is not None:
            return self
        gcloud = shutil.which("gcloud")
        missing = [name for name in ("gcloud", "java") if shutil.which(name) is None]
        if gcloud is None or missing:
            raise EmulatorError(f"{', '.join(missing)} not found. {INSTALL_HINT}")
        # Kept open until stop(): it holds the output log_tail() reports.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115
        self._process = subprocess.Popen(
            [gcloud, "emulators", "firestore", "start", f"--host-port={self.host}"],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "CLOUDSDK_CORE_DISABLE_PROMPTS": "1"},
            # gcloud starts java as a child: a group of its own lets stop()
            # end both without leaving a stray JVM behind.
            start_new_session=True,
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
                raise EmulatorError(
                    f"the Firestore emulator exited early:\n{self.log_tail()}\n{INSTALL_HINT}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise EmulatorError(
            f"the Firestore emulator did not answer within {timeout:.0f}s:\n{self.log_tail()}"
        )

    def log_tail(self, size: int = 4000) -> str:
        """The end of the emulator's output, for error messages."""
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-size:]

    def reset(self, database: str = "(default)") -> None:
        """Delete every document of ``database``."""
        path = (
            f"/emulator/v1/projects/{urllib.parse.quote(self.project)}"
            f"/databases/{urllib.parse.quote(database)}/documents"
        )
        request = urllib.request.Request(f"{self.url}{path}", method="DELETE")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def stop(self) -> None:
        """Stop the emulator's whole process group."""
        process, self._process = self._process, None
        if process is not None:
            stop_process_group(process)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
