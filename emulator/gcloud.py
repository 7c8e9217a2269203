"""The gcloud CLI's local emulators: one way to launch them, and one error that says how to install them."""

from __future__ import annotations

import json
import shutil
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any, Self

from approvals.emulator.process import ChildProcess, ProcessError
from approvals.engine.api.local_server import free_port
from approvals.engine.api.service import Loopback


class EmulatorError(RuntimeError):
    """gcloud or java is missing, or the emulator did not come up."""


# How many free ports an emulator that could not bind tries before it gives up.
PORT_ATTEMPTS = 3


class GcloudEmulator(ChildProcess, Loopback):
    """A ``gcloud ... emulators ... start`` command serving on a free (or given) 127.0.0.1 port.

    ``command`` is given without ``--host-port``, which this adds. ``product``,
    ``apt_package`` and ``component`` name what to install when gcloud, Java
    or the emulator component is missing.
    """

    def __init__(
        self,
        product: str,
        command: Sequence[str],
        *,
        apt_package: str,
        component: str,
        project: str,
        port: int | None,
    ) -> None:
        self.project = project
        self.port = port or free_port()
        self.install_hint = (
            f"The {product} emulator needs the gcloud CLI with its {product} emulator "
            "component and Java 17+: on Debian/Ubuntu add Google's cloud-sdk apt "
            f"repository, then `apt-get install google-cloud-cli {apt_package} "
            "openjdk-17-jre-headless` (or, with a tarball install, "
            f"`gcloud components install {component}`)."
        )
        self._command = list(command)
        self._port_given = port is not None
        super().__init__(
            f"the {product} emulator", [], ready_url="", env={"CLOUDSDK_CORE_DISABLE_PROMPTS": "1"}
        )
        self._listen_on(self.port)

    def check(self) -> None:
        """Raise EmulatorError, saying how to install them, when gcloud or Java is not on PATH."""
        missing = [name for name in ("gcloud", "java") if shutil.which(name) is None]
        if missing:
            raise EmulatorError(f"{', '.join(missing)} not found. {self.install_hint}")

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
    ) -> None:
        """One call to the emulator's REST API (``path`` from its root, ``body`` sent as JSON).

        An error status raises urllib's HTTPError.
        """
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={**({"Content-Type": "application/json"} if data is not None else {}), **(headers or {})},
        )
        with urllib.request.urlopen(request, timeout=timeout):
            pass

    def start(self, timeout: float = 60.0) -> Self:
        """Start the emulator and wait until it answers; say how to install what is missing."""
        self.check()
        attempts = 1
        while True:
            try:
                return super().start(timeout)
            except ProcessError as error:
                # The Firestore emulator binds a WebSocket server to a port the system picks
                # before its own: now and then it takes the one free_port() just chose, and the
                # emulator exits. A port this class chose is chosen again; a given one is not.
                taken = "Address already in use" in str(error)
                if not taken or self._port_given or attempts == PORT_ATTEMPTS:
                    raise EmulatorError(f"{error}\n{self.install_hint}") from error
            attempts += 1
            self._listen_on(free_port())

    def _listen_on(self, port: int) -> None:
        """Serve on `port`: the command's --host-port, and where it answers once ready."""
        self.port = port
        self.argv = [*self._command, f"--host-port={self.host}"]
        self.ready_url = f"{self.url}/"
