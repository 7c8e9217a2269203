"""Runs a Cloud Function folder under functions-framework, as Cloud Run would."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from approvals.emulator.process import ChildProcess
from approvals.engine.api.local_server import free_port
from approvals.engine.api.service import Loopback

FUNCTIONS = Path(str(resources.files("approvals.functions")))


class FunctionServer(ChildProcess, Loopback):
    """``functions-framework --target NAME`` for ``functions/NAME/main.py`` on loopback.

    ``source`` replaces that folder with one laid out like the deployed archive
    (main.py at its root, shared packages beside it), e.g. one the local stack
    unpacked from the program's source archive.
    """

    def __init__(
        self, name: str, env: Mapping[str, str], port: int | None = None, *, source: Path | None = None
    ) -> None:
        self.port = port or free_port()
        framework = Path(sys.executable).with_name("functions-framework")
        folder = source or FUNCTIONS / name
        super().__init__(
            name,
            [
                str(framework),
                "--target",
                name,
                "--source",
                str(folder / "main.py"),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            ready_url=f"{self.url}/",
            # As deployed: the folder plus common/ importable, nothing else of the repo.
            env={"PYTHONPATH": str(source or FUNCTIONS), **env},
            cwd=folder,
        )
