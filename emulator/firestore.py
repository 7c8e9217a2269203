"""Runs the gcloud Firestore emulator on a free local port, optionally with security rules."""

from __future__ import annotations

import tempfile
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
        self,
        project: str = "demo-approvals",
        port: int | None = None,
        *,
        rules: Path | None = None,
        import_data: Path | None = None,
    ) -> None:
        """``import_data``: an export's ``NAME.overall_export_metadata`` (see export()) to start from."""
        self.rules = rules
        # "If set, all projects will use the security rules in this file" (gcloud's --rules help).
        rules_flag = [f"--rules={rules}"] if rules is not None else []
        import_flag = [f"--import-data={import_data}"] if import_data is not None else []
        super().__init__(
            "Firestore",
            ["gcloud", "emulators", "firestore", "start", *rules_flag, *import_flag],
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

    def export(self, directory: Path, name: str, database: str = "(default)") -> Path:
        """Write ``database``'s documents to ``directory``/``name``; returns the file --import-data reads.

        The emulator's REST export, as documented in
        https://cloud.google.com/firestore/docs/emulator#export_and_import_emulator_data (and
        https://cloud.google.com/sdk/gcloud/reference/emulators/firestore/start for --import-data).
        Not gcloud's --export-on-exit: with gcloud 528 it wrote nothing, whether the emulator
        was stopped with SIGTERM, SIGINT or its /shutdown endpoint. ``directory`` must exist.
        """
        body = {
            "database": f"projects/{self.project}/databases/{database}",
            "export_directory": str(directory.resolve()),
            "export_name": name,
        }
        self.call(
            "POST", f"/emulator/v1/projects/{urllib.parse.quote(self.project)}:export", body, timeout=60
        )
        return exported(directory, name)

    def replace_export(self, kept: Path, database: str = "(default)") -> None:
        """Export ``database`` as the directory ``kept``, replacing what is there once the new one is whole.

        The export goes to a fresh directory beside ``kept``; then the old export is moved aside, the
        new one moved in, and only then the old one deleted. Whatever interrupts it (the emulator gone,
        a timeout, a full disk, a second Ctrl-C between the two moves) leaves ``kept`` as it was: a next
        run imports the last good export, not half of one.
        """
        with tempfile.TemporaryDirectory(dir=kept.parent, prefix=f".{kept.name}-") as scratch:
            fresh = self.export(Path(scratch), kept.name, database).parent
            aside = Path(scratch) / "previous"
            try:
                if kept.exists():
                    kept.rename(aside)
                fresh.rename(kept)
            except BaseException:
                # Put the old export back before the scratch directory, which holds it, goes.
                if aside.exists() and not kept.exists():
                    aside.rename(kept)
                raise
            # The scratch directory goes, and the previous export with it.


def exported(directory: Path, name: str) -> Path:
    """The file --import-data reads of the export named ``name`` in ``directory``."""
    return directory / name / f"{name}.overall_export_metadata"
