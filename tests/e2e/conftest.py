"""The whole local stack (`python -m emulator up`'s LocalStack) on a virtual clock, for the e2e tests.

One stack serves each test module (so the smoke test's own stack never runs
beside this one); each test gets a fresh Client on it. Nothing is reset
between tests: every /api/start draws a fresh request id, so tests never see
each other's requests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator.firestore import FirestoreEmulator
from emulator.pubsub import PubSubEmulator
from emulator.stack import LocalStack
from emulator.workflows.clock import VirtualClock
from tests.e2e.stack_client import Client


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
    firestore_emulator: FirestoreEmulator,
    pubsub_emulator: PubSubEmulator,
) -> Iterator[LocalStack]:
    """The dev stack on a virtual clock, started once per module and stopped at its end.

    Time moves only through POST /local/clock:advance, so a one-day approval
    timeout passes at once. It shares the session's emulators (its own
    project's data is gone when it stops), which saves seconds per module.
    """
    with LocalStack(
        stack="dev",
        clock=VirtualClock(),
        state_dir=tmp_path_factory.mktemp("stack"),
        firestore=firestore_emulator,
        pubsub=pubsub_emulator,
    ) as running:
        yield running


@pytest.fixture
def client(stack: LocalStack) -> Client:
    """A fresh client per test (its own sign-ins) on the module's stack."""
    return Client.connect(stack.origin_url)
