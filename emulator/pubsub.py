"""Runs the gcloud Pub/Sub emulator on a free local port."""

from __future__ import annotations

from emulator.gcloud import GcloudEmulator


class PubSubEmulator(GcloudEmulator):
    """The real Pub/Sub emulator. Point ``PUBSUB_EMULATOR_HOST`` at :attr:`host`.

    It serves the REST API (``/v1/projects/{project}/topics/...``) as well as gRPC.
    """

    def __init__(self, project: str = "demo-approvals", port: int | None = None) -> None:
        super().__init__(
            "Pub/Sub",
            # Only the beta track has it in the gcloud CLI.
            ["gcloud", "beta", "emulators", "pubsub", "start", f"--project={project}"],
            apt_package="google-cloud-cli-pubsub-emulator",
            component="pubsub-emulator",
            project=project,
            port=port,
        )
