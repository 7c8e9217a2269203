"""The start function, unchanged, starts real executions on the local engine.

Only the Executions client's endpoint differs from production: the function
reaches the engine's gRPC Executions service through WORKFLOWS_EMULATOR_GRPC_HOST.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from google.cloud import firestore

from approvals.emulator.firestore import FirestoreEmulator
from approvals.emulator.functions import FunctionServer
from approvals.emulator.identity import IdentityProvider
from approvals.emulator.metadata import MetadataServer
from approvals.engine.api.grpc_api import ExecutionsService
from approvals.engine.runtime.engine import Engine
from approvals.engine.runtime.store import SUCCEEDED
from tests.support import PROJECT, seed

DATABASE = "start-on-engine"
ECHO = """
main:
  params: [args]
  steps:
    - reply:
        return: ${"Hello " + args.name + ", from " + args.requester}
"""


@pytest.fixture
def db(firestore_emulator: FirestoreEmulator) -> Iterator[firestore.Client]:
    firestore_emulator.reset(DATABASE)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FIRESTORE_EMULATOR_HOST", firestore_emulator.host)
        yield firestore.Client(project=PROJECT, database=DATABASE)


@pytest.fixture
def start(
    engine: Engine,
    db: firestore.Client,
    firestore_emulator: FirestoreEmulator,
    identity: IdentityProvider,
    metadata_server: MetadataServer,
) -> Iterator[FunctionServer]:
    engine.deploy("echo", ECHO)
    seed.workflow(
        db,
        "echo",
        f"projects/{PROJECT}/locations/{engine.location}/workflows/echo",
        {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
    )
    env = {
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "APPROVALS_DATABASE": DATABASE,
        "APPROVALS_WORKFLOWS_COLLECTION": seed.WORKFLOWS,
        "FIRESTORE_EMULATOR_HOST": firestore_emulator.host,
        "FIREBASE_AUTH_CERTS_URL": identity.certs_url,
        # start's own token, which it sends the Executions API.
        "GCE_METADATA_HOST": metadata_server.host,
    }
    with (
        ExecutionsService(engine) as service,
        FunctionServer("start", {**env, "WORKFLOWS_EMULATOR_GRPC_HOST": service.host}) as function,
    ):
        yield function


def test_the_start_function_runs_a_workflow_on_the_engine(
    start: FunctionServer, engine: Engine, identity: IdentityProvider
) -> None:
    response = requests.post(
        f"{start.url}/",
        json={"workflow": "echo", "input": {"name": "Ada"}},
        headers={"Authorization": f"Bearer {identity.mint('ada@example.com')}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    started = response.json()
    engine.wait_idle()
    execution = engine.get(started["execution_id"])
    assert execution.state == SUCCEEDED
    assert execution.result == "Hello Ada, from ada@example.com"
    assert execution.argument["request_id"] == started["request_id"]
    assert started["execution"].endswith(f"/workflows/echo/executions/{execution.id}")
