"""The attack suite: each attack of the hardening review, replayed against the local dev stack.

One stack serves the whole package (starting one costs seconds); every attack
starts its own requests, so attacks never see each other's.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from approvals.emulator.firestore import FirestoreEmulator
from approvals.emulator.pubsub import PubSubEmulator
from approvals.emulator.stack import LocalStack
from tests.e2e.stack_client import Client
from tests.support.stacks import dev_stack


@pytest.fixture(scope="package")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
    firestore_emulator: FirestoreEmulator,
    pubsub_emulator: PubSubEmulator,
) -> Iterator[LocalStack]:
    with dev_stack(tmp_path_factory.mktemp("stack"), firestore_emulator, pubsub_emulator) as running:
        yield running


@pytest.fixture
def client(stack: LocalStack) -> Client:
    return Client.connect(stack.origin_url)


def token_of(stack: LocalStack, role: str) -> str:
    """The access token the local metadata server hands the platform's ``role`` function (its identity)."""
    [name] = [name for name in stack.metadata_servers if name.endswith(f"-{role}")]
    return stack.metadata_servers[name].access_token
