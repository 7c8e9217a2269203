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
from tests.e2e.stack_client import Client
from tests.support.stacks import dev_stack


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
    firestore_emulator: FirestoreEmulator,
    pubsub_emulator: PubSubEmulator,
) -> Iterator[LocalStack]:
    """The dev stack, started once per module and stopped at its end."""
    with dev_stack(tmp_path_factory.mktemp("stack"), firestore_emulator, pubsub_emulator) as running:
        yield running


@pytest.fixture
def client(stack: LocalStack) -> Client:
    """A fresh client per test (its own sign-ins) on the module's stack."""
    return Client.connect(stack.origin_url)
