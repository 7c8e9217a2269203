"""Runs the gcloud Firestore emulator on a free local port, optionally with security rules."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from approvals.emulator.gcloud import GcloudEmulator

# The emulator's admin credential: requests bearing it bypass security rules,
# as the Admin SDK and server-side service accounts do on Google Cloud.
OWNER_TOKEN = "owner"


class FirestoreEmulator(GcloudEmulator):
    """The real Firestore emulator. Point ``FIRESTORE_EMULATOR_HOST`` at :attr:`host`.

    With ``rules`` (a Firestore rules file) it enforces them on requests that
    carry a user's ID token as ``Authorization: Bearer``; it reads the token's
    claims without checking its signature.
    """

    def __init__(
        self, project: str = "demo-approvals", port: int | None = None, *, rules: Path | None = None
    ) -> None:
        self.rules = rules
        # "If set, all projects will use the security rules in this file" (gcloud's --rules help).
        rules_flag = [f"--rules={rules}"] if rules is not None else []
        super().__init__(
            "Firestore",
            ["gcloud", "emulators", "firestore", "start", *rules_flag],
            apt_package="google-cloud-cli-firestore-emulator",
            component="cloud-firestore-emulator",
            project=project,
            port=port,
        )

    def reset(self, database: str = "(default)", *, project: str | None = None) -> None:
        """Delete every document of ``database`` (of ``project``, by default the emulator's own)."""
        self.call(
            "DELETE",
            f"/emulator/v1/projects/{urllib.parse.quote(project or self.project)}"
            f"/databases/{urllib.parse.quote(database)}/documents",
        )

    def load_rules(self, project: str, rules: str) -> None:
        """Enforce ``rules`` (a rules file's text) on ``project`` from now on, whatever --rules said."""
        body = {"rules": {"files": [{"name": "firestore.rules", "content": rules}]}}
        path = f"/emulator/v1/projects/{urllib.parse.quote(project)}:securityRules"
        self.call("PUT", path, body, timeout=30)

    def write_document(
        self, path: str, fields: Mapping[str, Any], *, database: str = "(default)", project: str | None = None
    ) -> None:
        """Create or replace the document at ``path`` (``collection/id``) as an admin, past the rules.

        ``fields`` are in the REST API's Value form (``{"name": {"stringValue": "x"}}``).
        """
        self.call(
            # Without an update mask: the whole document is replaced.
            "PATCH",
            f"/v1/projects/{urllib.parse.quote(project or self.project)}"
            f"/databases/{urllib.parse.quote(database)}/documents/{urllib.parse.quote(path)}",
            {"fields": dict(fields)},
            headers={"Authorization": f"Bearer {OWNER_TOKEN}"},
        )
