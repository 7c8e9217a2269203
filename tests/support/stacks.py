"""The dev stack as the e2e and page tests run it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path

from emulator.firestore import FirestoreEmulator
from emulator.pubsub import PubSubEmulator
from emulator.stack import LocalStack
from emulator.workflows.clock import VirtualClock


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
