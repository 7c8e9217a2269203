"""Runs the gcloud Pub/Sub emulator on a free local port."""

from __future__ import annotations

from typing import Any

from approvals.emulator.gcloud import GcloudEmulator


class PubSubEmulator(GcloudEmulator):
    """The real Pub/Sub emulator. Point ``PUBSUB_EMULATOR_HOST`` at :attr:`host`.

    It serves the REST API (``/v1/projects/{project}/topics/...``) as well as
    gRPC, for any project, whatever ``project`` it was started with.
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

    def create_topic(self, name: str) -> None:
        """Create the topic ``projects/P/topics/T``."""
        self.call("PUT", f"/v1/{name}", {})

    def create_subscription(self, name: str, topic: str, *, ack_deadline_seconds: int | None = None) -> None:
        """Create the pull subscription ``projects/P/subscriptions/S`` on ``topic``.

        Never a push one: the emulator pushes without a token (it accepts an ``oidcToken`` but
        never signs one), so the local stack pushes its push subscriptions itself (emulator.pusher).
        """
        body: dict[str, Any] = {"topic": topic}
        if ack_deadline_seconds is not None:
            body["ackDeadlineSeconds"] = ack_deadline_seconds
        self.call("PUT", f"/v1/{name}", body)

    def delete(self, name: str) -> None:
        """Delete the topic or subscription ``name``."""
        self.call("DELETE", f"/v1/{name}")
