"""Fixtures for running the Cloud Functions against the local stand-ins."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from google.cloud import firestore

from approvals.emulator.firestore import FirestoreEmulator
from approvals.emulator.google_tokens import GoogleCertsServer, GoogleTokenSigner
from approvals.emulator.identity import IdentityProvider
from approvals.emulator.metadata import MetadataServer
from approvals.engine.runtime.clock import VirtualClock
from approvals.engine.runtime.engine import Engine
from approvals.engine.runtime.store import Store
from tests.support import PROJECT, seed
from tests.support.servers import CallbackServer

# A named database proves the functions honour APPROVALS_DATABASE.
DATABASE = "approvals"


@pytest.fixture(scope="session")
def db(firestore_emulator: FirestoreEmulator) -> Iterator[firestore.Client]:
    """A Firestore client on the emulator, as the workflow would write."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FIRESTORE_EMULATOR_HOST", firestore_emulator.host)
        yield firestore.Client(project=PROJECT, database=DATABASE)


@pytest.fixture(autouse=True)
def _empty_database(firestore_emulator: FirestoreEmulator) -> None:
    firestore_emulator.reset(DATABASE)


@pytest.fixture(scope="session")
def google_signer() -> GoogleTokenSigner:
    """Plays Google's key that signs service accounts' ID tokens."""
    return GoogleTokenSigner()


@pytest.fixture(scope="session")
def google_certs(google_signer: GoogleTokenSigner) -> Iterator[GoogleCertsServer]:
    """Publishes ``google_signer``'s certificate as Google publishes its own."""
    with GoogleCertsServer(google_signer) as server:
        yield server


@pytest.fixture(scope="session")
def function_env(
    firestore_emulator: FirestoreEmulator,
    identity: IdentityProvider,
    metadata_server: MetadataServer,
    google_certs: GoogleCertsServer,
) -> dict[str, str]:
    """The environment every function gets."""
    return {
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "APPROVALS_DATABASE": DATABASE,
        "APPROVALS_REQUESTS_COLLECTION": seed.REQUESTS,
        "APPROVALS_CALLBACKS_COLLECTION": seed.CALLBACKS,
        "APPROVALS_WORKFLOWS_COLLECTION": seed.WORKFLOWS,
        "APPROVALS_AUDIT_COLLECTION": seed.AUDIT,
        "APPROVALS_DELEGATIONS_COLLECTION": seed.DELEGATIONS,
        "APPROVALS_LINK_USES_COLLECTION": seed.LINK_USES,
        "APPROVALS_MEMBERSHIPS_COLLECTION": seed.MEMBERSHIPS,
        "APPROVALS_REQUESTERS_COLLECTION": seed.REQUESTERS,
        "APPROVALS_STARTS_COLLECTION": seed.STARTS,
        "FIRESTORE_EMULATOR_HOST": firestore_emulator.host,
        "FIREBASE_AUTH_CERTS_URL": identity.certs_url,
        "GOOGLE_OIDC_CERTS_URL": google_certs.certs_url,
        "GCE_METADATA_HOST": metadata_server.host,
    }


@pytest.fixture(scope="module")
def callback_server() -> Iterator[CallbackServer]:
    """Stands in for the workflow's callback endpoints; emptied before each test that uses it."""
    with CallbackServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_callback(request: pytest.FixtureRequest) -> None:
    if "callback_server" in request.fixturenames:
        request.getfixturevalue("callback_server").reset()


# A request's execution, as the cancel and status functions meet it: asleep for a day on a
# virtual clock, so it stays ACTIVE until a test cancels it or advances the clock.
ASLEEP_SECONDS = 86400
ASLEEP = f"""
main:
  steps:
    - wait:
        call: sys.sleep
        args:
          seconds: {ASLEEP_SECONDS}
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    store = Store(Path(tmp_path_factory.mktemp("engine")) / "engine.sqlite")
    engine = Engine(store, VirtualClock(), project=PROJECT)
    engine.deploy("asleep", ASLEEP)
    yield engine
    engine.close()
    store.close()
