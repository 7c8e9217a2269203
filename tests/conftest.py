"""Session-wide local stand-ins: the Firestore and Pub/Sub emulators, identity and metadata servers.

Each starts only when a test asks for it, so suites that need none stay fast.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from approvals.emulator.firestore import FirestoreEmulator
from approvals.emulator.identity import IdentityProvider
from approvals.emulator.metadata import MetadataServer
from approvals.emulator.pubsub import PubSubEmulator
from tests.support import PROJECT
from tests.support.pubsub import Subscription


@pytest.fixture(scope="session")
def firestore_emulator() -> Iterator[FirestoreEmulator]:
    """The real gcloud Firestore emulator, started once per session."""
    with FirestoreEmulator(project=PROJECT) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def identity() -> Iterator[IdentityProvider]:
    """Mints Firebase ID tokens for PROJECT and serves their certificate."""
    with IdentityProvider(PROJECT) as provider:
        yield provider


@pytest.fixture(scope="session")
def metadata_server() -> Iterator[MetadataServer]:
    """Hands out the functions' service-account access token."""
    with MetadataServer() as server:
        yield server


@pytest.fixture(scope="session")
def pubsub_emulator() -> Iterator[PubSubEmulator]:
    """The real gcloud Pub/Sub emulator, started once per session."""
    with PubSubEmulator(project=PROJECT) as emulator:
        yield emulator


@pytest.fixture
def subscription(pubsub_emulator: PubSubEmulator) -> Iterator[Subscription]:
    """A pull subscription of its own on the events topic, deleted (with the topic) after the test."""
    created = Subscription(pubsub_emulator)
    yield created
    created.close()
