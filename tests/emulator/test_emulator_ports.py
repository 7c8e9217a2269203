"""Ports for a stack's services: never one port for two of them.

A gcloud emulator that finds the port it chose taken starts on another one.

The Firestore emulator binds a WebSocket server to a port the system picks before it binds
its own, and now and then the system hands it the very port free_port() had just chosen: the
emulator then exits with "Address already in use", and every test on that emulator errored.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from approvals.emulator.firestore import FirestoreEmulator
from approvals.emulator.gcloud import EmulatorError
from approvals.engine.api import local_server
from approvals.engine.api.local_server import free_port


def _hold(port: int) -> socket.socket:
    """A listener on `port`, as the emulator's WebSocket server held it."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", port))
    holder.listen()
    return holder


def test_an_emulator_whose_chosen_port_is_taken_starts_on_another() -> None:
    emulator = FirestoreEmulator()
    taken = emulator.port
    with _hold(taken):
        emulator.start()
        try:
            assert emulator.port != taken
            assert emulator.host == f"127.0.0.1:{emulator.port}"
            emulator.reset()  # it answers where it says it is
        finally:
            emulator.stop()


def test_an_emulator_given_a_taken_port_says_so() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with _hold(port), pytest.raises(EmulatorError, match="Address already in use"):
        FirestoreEmulator(port=port).start()


class _Answering:
    """A socket whose bind(0) the system answers with the next of `ports`."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports

    def __call__(self) -> _Answering:
        return self

    def __enter__(self) -> _Answering:
        return self

    def __exit__(self, *_: Any) -> None:
        pass

    def bind(self, _: Any) -> None:
        self.port = self.ports.pop(0)

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)


def test_free_port_never_hands_out_a_port_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    """The system may answer two binds in a row with the same free port; two services given it,
    the first to listen answered for both (a stack's cancel function was its status function)."""
    monkeypatch.setattr(local_server, "_HANDED_OUT", set())
    monkeypatch.setattr(local_server.socket, "socket", _Answering([40001, 40001, 40002]))

    assert [free_port(), free_port()] == [40001, 40002]
