"""Runs the gcloud Pub/Sub emulator on a free local port."""

from __future__ import annotations

import shutil
from typing import Self

from emulator.firestore import EmulatorError
from emulator.process import ChildProcess, ProcessError, free_port

INSTALL_HINT = (
    "The Pub/Sub emulator needs the gcloud CLI with its Pub/Sub emulator "
    "component and Java: on Debian/Ubuntu `apt-get install google-cloud-cli "
    "google-cloud-cli-pubsub-emulator openjdk-17-jre-headless` (or, with a "
    "tarball install, `gcloud components install pubsub-emulator`)."
)


class PubSubEmulator(ChildProcess):
    """The real Pub/Sub emulator. Point ``PUBSUB_EMULATOR_HOST`` at :attr:`host`.

    It serves the REST API (``/v1/projects/{project}/topics/...``) as well as gRPC.
    """

    def __init__(self, project: str = "demo-approvals", port: int | None = None) -> None:
        self.project = project
        self.port = port or free_port()
        super().__init__(
            "the Pub/Sub emulator",
            # Only the beta track has it in the gcloud CLI.
            [
                "gcloud",
                "beta",
                "emulators",
                "pubsub",
                "start",
                f"--host-port={self.host}",
                f"--project={project}",
            ],
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
