"""An engine on a virtual clock and a SQLite file per test, with its HTTP server and a side-effect target."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest
import requests
from google.cloud import firestore

from approvals.emulator.firestore import FirestoreEmulator
from approvals.emulator.translation import TranslationServer
from approvals.engine.api.server import WorkflowsServer, loopback_url
from approvals.engine.runtime.clock import VirtualClock
from approvals.engine.runtime.engine import Engine
from approvals.engine.runtime.store import Store
from tests.support import PROJECT
from tests.support.servers import RecordingServer

TOKEN = "caller-token"


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "engine.sqlite"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    store = Store(db_path)
    yield store
    store.close()


@pytest.fixture
def engine(store: Store, clock: VirtualClock) -> Iterator[Engine]:
    # Where its callback URLs point, and so where the `server` fixture listens.
    engine = Engine(
        store, clock, project="demo-approvals", project_number="123456789012", base_url=loopback_url()
    )
    yield engine
    engine.close()


@pytest.fixture
def server(engine: Engine) -> Iterator[WorkflowsServer]:
    with WorkflowsServer(engine) as server:
        yield server


@pytest.fixture
def db(firestore_emulator: FirestoreEmulator, monkeypatch: pytest.MonkeyPatch) -> firestore.Client:
    """A client on the emulated Firestore (the default database), emptied for the test."""
    firestore_emulator.reset()
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", firestore_emulator.host)
    return firestore.Client(project=PROJECT)


@pytest.fixture(scope="session")
def translator() -> Iterator[TranslationServer]:
    """The local translation stand-in (stateless, so shared by the session)."""
    with TranslationServer() as server:
        yield server


@pytest.fixture
def target() -> Iterator[RecordingServer]:
    """A local HTTP server the workflows call: its recorded calls are the side effects."""
    with RecordingServer() as server:
        yield server


class CallBack(Protocol):
    def __call__(
        self, url: str, body: object = None, *, method: str = "POST", token: str | None = TOKEN
    ) -> requests.Response: ...


@pytest.fixture
def call_back() -> CallBack:
    """Calls a callback URL as the decide function does: a JSON body and a bearer token."""

    def send(
        url: str, body: object = None, *, method: str = "POST", token: str | None = TOKEN
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.request(method, url, json=body, headers=headers, timeout=10)

    return send
