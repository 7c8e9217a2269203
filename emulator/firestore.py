"""Runs the gcloud Firestore emulator on a free local port."""

from __future__ import annotations

import shutil
import urllib.parse
import urllib.request
from typing import Self

from emulator.process import ChildProcess, ProcessError, free_port

INSTALL_HINT = (
    "The Firestore emulator needs the gcloud CLI with its Firestore emulator "
    "component and Java 17+: on Debian/Ubuntu add Google's cloud-sdk apt "
    "repository, then `apt-get install google-cloud-cli "
    "google-cloud-cli-firestore-emulator openjdk-17-jre-headless` (or, with a "
    "tarball install, `gcloud components install cloud-firestore-emulator`)."
)


class EmulatorError(RuntimeError):
    """gcloud or java is missing, or the emulator did not come up."""


class FirestoreEmulator(ChildProcess):
    """The real Firestore emulator. Point ``FIRESTORE_EMULATOR_HOST`` at :attr:`host`."""

    def __init__(self, project: str = "demo-approvals", port: int | None = None) -> None:
        self.project = project
        self.port = port or free_port()
        super().__init__(
            "the Firestore emulator",
            ["gcloud", "emulators", "firestore", "start", f"--host-port={self.host}"],
            ready_url=f"{self.url}/",
            env={"CLOUDSDK_CORE_DISABLE_PROMPTS": "1"},
        )

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """Base URL of the emulator's REST endpoint."""
        return f"http://{self.host}"

    def start(self, timeout: float = 60.0) -> Self:
        """Start the emulator and wait until it answers; say how to install what is missing."""
        missing = [name for name in ("gcloud", "java") if shutil.which(name) is None]
        if missing:
            raise EmulatorError(f"{', '.join(missing)} not found. {INSTALL_HINT}")
        try:
            return super().start(timeout)
        except ProcessError as error:
            raise EmulatorError(f"{error}\n{INSTALL_HINT}") from error

    def reset(self, database: str = "(default)") -> None:
        """Delete every document of ``database``."""
        path = (
            f"/emulator/v1/projects/{urllib.parse.quote(self.project)}"
            f"/databases/{urllib.parse.quote(database)}/documents"
        )
        request = urllib.request.Request(f"{self.url}{path}", method="DELETE")
        with urllib.request.urlopen(request, timeout=10):
            pass
