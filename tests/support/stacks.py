"""The dev stack as the e2e and page tests run it, and their `stack` and `client` fixtures."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from approvals.emulator.firestore import FirestoreEmulator
from approvals.emulator.pubsub import PubSubEmulator
from approvals.emulator.stack import LocalStack
from approvals.engine.runtime.clock import VirtualClock
from tests.e2e.stack_client import Client


@contextlib.contextmanager
def dev_stack(
    state_dir: Path,
    firestore: FirestoreEmulator,
    pubsub: PubSubEmulator,
    config: Mapping[str, str] | None = None,
) -> Iterator[LocalStack]:
    """The dev stack on a virtual clock, sharing the session's emulators.

    Time moves only through POST /local/clock:advance, so a one-day approval
    timeout passes at once. Sharing the emulators saves seconds per stack;
    the stack's own project data is gone when it stops.
    """
    with LocalStack(
        stack="dev",
        clock=VirtualClock(),
        state_dir=state_dir,
        config=config,
        firestore=firestore,
        pubsub=pubsub,
    ) as running:
        yield running


# The fixtures below are imported by tests/e2e/conftest.py and tests/web/conftest.py.


def running_dev_stack(
    tmp_path_factory: pytest.TempPathFactory,
    firestore_emulator: FirestoreEmulator,
    pubsub_emulator: PubSubEmulator,
) -> Iterator[LocalStack]:
    """The dev stack (serving the built page) for as long as the fixture made of this lives."""
    with dev_stack(tmp_path_factory.mktemp("stack"), firestore_emulator, pubsub_emulator) as running:
        yield running


# Started once per module and stopped at its end (tests/security shares one per package).
stack = pytest.fixture(scope="module", name="stack")(running_dev_stack)


def stack_configured(config: Mapping[str, str]) -> Callable[..., Iterator[LocalStack]]:
    """A module's `stack` fixture: the dev stack with `config` over Pulumi.dev.yaml's."""

    @pytest.fixture(scope="module", name="stack")
    def configured(
        tmp_path_factory: pytest.TempPathFactory,
        firestore_emulator: FirestoreEmulator,
        pubsub_emulator: PubSubEmulator,
    ) -> Iterator[LocalStack]:
        with dev_stack(
            tmp_path_factory.mktemp("stack"), firestore_emulator, pubsub_emulator, config
        ) as running:
            yield running

    return configured


@pytest.fixture
def client(stack: LocalStack) -> Client:
    """A fresh client per test (its own sign-ins) on the module's stack, over HTTP as another user."""
    return Client.connect(stack.origin_url)
