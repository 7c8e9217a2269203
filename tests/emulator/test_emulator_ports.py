"""A gcloud emulator that finds the port it chose taken starts on another one.

The Firestore emulator binds a WebSocket server to a port the system picks before it binds
its own, and now and then the system hands it the very port free_port() had just chosen: the
emulator then exits with "Address already in use", and every test on that emulator errored.
"""

from __future__ import annotations

import socket

import pytest

from approvals.emulator.firestore import FirestoreEmulator
from approvals.emulator.gcloud import EmulatorError


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
