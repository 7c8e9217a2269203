"""Runs the gcloud Firestore emulator on a free local port."""

from __future__ import annotations

import urllib.parse
import urllib.request

from emulator.gcloud import GcloudEmulator


class FirestoreEmulator(GcloudEmulator):
    """The real Firestore emulator. Point ``FIRESTORE_EMULATOR_HOST`` at :attr:`host`."""

    def __init__(self, project: str = "demo-approvals", port: int | None = None) -> None:
        super().__init__(
            "Firestore",
            ["gcloud", "emulators", "firestore", "start"],
            apt_package="google-cloud-cli-firestore-emulator",
            component="cloud-firestore-emulator",
            project=project,
            port=port,
        )

    def reset(self, database: str = "(default)") -> None:
        """Delete every document of ``database``."""
        path = (
            f"/emulator/v1/projects/{urllib.parse.quote(self.project)}"
            f"/databases/{urllib.parse.quote(database)}/documents"
        )
        request = urllib.request.Request(f"{self.url}{path}", method="DELETE")
        with urllib.request.urlopen(request, timeout=10):
            pass
