"""The start function, run under functions-framework against the local stand-ins."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest
import requests
from google.cloud import firestore

from approvals.emulator.functions import FunctionServer
from approvals.emulator.google_tokens import GoogleTokenSigner
from approvals.emulator.identity import IdentityProvider
from approvals.emulator.jwt import signing_input
from approvals.emulator.metadata import MetadataServer
from approvals.engine.api.local_server import free_port
from tests.functions.function_support import post
from tests.support import PROJECT, seed
from tests.support.metadata import identity_token
from tests.support.servers import ExecutionsServer, Failure

WORKFLOW_NAME = f"projects/{PROJECT}/locations/us-central1/workflows/translate"
# start's URL, as the platform gives it: a service account's ID token must be for it.
START_AUDIENCE = "https://approvals.example.com/api/start"
DEPLOYER = f"deployer@{PROJECT}.iam.gserviceaccount.com"
INPUT_SCHEMA = {
    "type": "object",
    "title": "Translation request",
    "required": ["text"],
    "properties": {
        "text": {"type": "string", "minLength": 1, "maxLength": 100},
        "source_url": {"type": "string", "format": "uri"},
        "priority": {"type": "integer", "minimum": 1, "maximum": 5},
        "budget": {"type": "number", "minimum": 0},
        "urgent": {"type": "boolean"},
        "language": {"type": "string", "enum": ["fr", "de"]},
    },
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def executions_api() -> Iterator[ExecutionsServer]:
    with ExecutionsServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _registry(db: firestore.Client, executions_api: ExecutionsServer) -> None:
    executions_api.reset()
    seed.workflow(db, "translate", WORKFLOW_NAME, INPUT_SCHEMA)


@pytest.fixture(scope="module")
def start(function_env: dict[str, str], executions_api: ExecutionsServer) -> Iterator[FunctionServer]:
    env = {
        **function_env,
        "WORKFLOWS_EMULATOR_GRPC_HOST": executions_api.host,
        "APPROVALS_START_AUDIENCES": json.dumps(["https://other.example.com/api/start", START_AUDIENCE]),
    }
    with FunctionServer("start", env) as fn:
        yield fn


def test_start_runs_the_workflow_with_requester_and_request_id(
    start: FunctionServer,
    identity: IdentityProvider,
    executions_api: ExecutionsServer,
    metadata_server: MetadataServer,
) -> None:
    given = {"text": "Hello", "source_url": "https://example.com/doc", "priority": 2, "urgent": True}

    response = post(start, {"workflow": "translate", "input": given}, identity.mint("Alice@Example.com"))

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"workflow", "execution", "execution_id", "request_id"}
    assert body["workflow"] == "translate"
    assert body["execution"] == f"{WORKFLOW_NAME}/executions/{body['execution_id']}"
    assert re.fullmatch(r"[0-9a-f]{32}", body["request_id"])
    [call] = executions_api.calls
    assert call.parent == WORKFLOW_NAME
    assert call.argument == {**given, "request_id": body["request_id"], "requester": "alice@example.com"}
    # The function's own token, from its metadata server (in production the client's credentials).
    assert call.metadata["authorization"] == f"Bearer {metadata_server.access_token}"


def test_unknown_workflow_is_not_found(
    start: FunctionServer, identity: IdentityProvider, executions_api: ExecutionsServer
) -> None:
    response = post(start, {"workflow": "nope", "input": {"text": "Hello"}}, identity.mint("a@example.com"))

    assert response.status_code == 404
    assert response.json() == {"error": "unknown workflow nope"}
    assert executions_api.calls == []


def test_invalid_input_lists_every_problem(
    start: FunctionServer, identity: IdentityProvider, executions_api: ExecutionsServer
) -> None:
    given = {
        "source_url": "not a uri",
        "priority": 9,
        "budget": "lots",
        "urgent": "yes",
        "language": "es",
        "extra": 1,
        "request_id": "mine",
    }

    response = post(start, {"workflow": "translate", "input": given}, identity.mint("a@example.com"))

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid input"
    assert sorted(d.split(":")[0] for d in body["details"]) == sorted(
        [
            "text",
            "source_url",
            "priority",
            "budget",
            "urgent",
            "language",
            "extra",
            "request_id",
            "request_id",
        ]
    )
    assert executions_api.calls == []


@pytest.mark.parametrize(
    "body",
    [
        {"input": {}},
        {"workflow": "translate", "input": []},
        {"workflow": "a/b"},
        {"workflow": "translate", "x": 1},
    ],
    ids=["no-workflow", "input-not-object", "bad-key", "extra-field"],
)
def test_malformed_request_is_bad_request(
    start: FunctionServer, identity: IdentityProvider, body: dict[str, Any]
) -> None:
    response = post(start, body, identity.mint("a@example.com"))

    assert response.status_code == 400
    assert response.json()["error"]


def test_non_finite_number_is_bad_request(
    start: FunctionServer, identity: IdentityProvider, executions_api: ExecutionsServer
) -> None:
    response = requests.post(
        f"{start.url}/",
        data=b'{"workflow": "translate", "input": {"text": "a", "budget": NaN}}',
        headers={"Authorization": f"Bearer {identity.mint('a@example.com')}"},
        timeout=30,
    )

    assert response.status_code == 400
    assert response.json() == {"error": "body is not valid JSON"}
    assert executions_api.calls == []


def test_missing_token_is_unauthorized(start: FunctionServer, executions_api: ExecutionsServer) -> None:
    response = post(start, {"workflow": "translate", "input": {"text": "Hello"}}, None)

    assert response.status_code == 401
    assert response.json() == {"error": "missing bearer token"}
    assert executions_api.calls == []


@pytest.mark.parametrize(
    ("code", "details"),
    [
        (grpc.StatusCode.PERMISSION_DENIED, "Permission denied on workflow"),
        (grpc.StatusCode.UNAVAILABLE, "The service is currently unavailable"),
    ],
    ids=["permission-denied", "unavailable"],
)
def test_executions_api_failure_is_bad_gateway(
    start: FunctionServer,
    db: firestore.Client,
    identity: IdentityProvider,
    executions_api: ExecutionsServer,
    code: grpc.StatusCode,
    details: str,
) -> None:
    executions_api.failure = Failure(code, details)

    response = post(
        start, {"workflow": "translate", "input": {"text": "Hello"}}, identity.mint("a@example.com")
    )

    assert response.status_code == 502
    error = response.json()["error"]
    incident = re.fullmatch(r"could not start the workflow \(incident ([0-9a-f]{12})\)", error)
    assert incident, error
    # The API's text names the project and the permission: the log has it, the caller does not.
    assert details in start.output() and incident[1] in start.output()
    assert len(executions_api.calls) == 1
    # The failed start does not count against the requester's limit.
    assert list(db.collection(seed.STARTS).stream()) == []


def test_unreachable_executions_api_is_bad_gateway(
    function_env: dict[str, str], identity: IdentityProvider
) -> None:
    nobody = f"127.0.0.1:{free_port()}"
    with FunctionServer("start", {**function_env, "WORKFLOWS_EMULATOR_GRPC_HOST": nobody}) as unreachable:
        response = post(
            unreachable, {"workflow": "translate", "input": {"text": "Hello"}}, identity.mint("a@example.com")
        )
        logged = unreachable.output()

    assert response.status_code == 502
    assert "UNAVAILABLE" in logged
    assert "UNAVAILABLE" not in response.json()["error"]


def test_misconfigured_registry_is_a_server_error(
    start: FunctionServer, db: firestore.Client, identity: IdentityProvider, executions_api: ExecutionsServer
) -> None:
    seed.workflow(db, "broken", WORKFLOW_NAME, {"type": "object", "patternProperties": {}})

    response = post(start, {"workflow": "broken", "input": {}}, identity.mint("a@example.com"))

    assert response.status_code == 500
    assert response.json() == {"error": "workflow broken is misconfigured"}
    assert executions_api.calls == []


def test_other_methods_are_not_allowed(start: FunctionServer) -> None:
    response = requests.put(f"{start.url}/", timeout=30)

    assert response.status_code == 405
    assert response.json() == {"error": "method not allowed"}


def start_as(start: FunctionServer, identity: IdentityProvider, email: str) -> requests.Response:
    return post(start, {"workflow": "translate", "input": {"text": "Hello"}}, identity.mint(email))


@pytest.mark.parametrize(
    ("requesters", "email", "allowed"),
    [
        (["domain:example.com"], "mallory@evil.test", False),
        (["domain:example.com"], "Ann@Example.com", True),
        (["domain:example.com"], "ann@sub.example.com", False),
        (["ann@example.com"], "bob@example.com", False),
        (["ann@example.com"], "ANN@example.com", True),
        (["group:finance"], "fiona@other.test", True),
        (["group:finance"], "ann@example.com", False),
    ],
    ids=[
        "stranger",
        "same-domain",
        "sub-domain",
        "other-person",
        "listed-person",
        "group-member",
        "no-group",
    ],
)
def test_only_the_workflows_requesters_may_ask(
    start: FunctionServer,
    db: firestore.Client,
    identity: IdentityProvider,
    executions_api: ExecutionsServer,
    requesters: list[str],
    email: str,
    allowed: bool,
) -> None:
    seed.workflow(db, "translate", WORKFLOW_NAME, INPUT_SCHEMA, requesters=requesters)
    db.collection(seed.MEMBERSHIPS).document("fiona@other.test").set({"groups": ["finance"]})

    response = start_as(start, identity, email)

    if allowed:
        assert response.status_code == 200, response.text
        record = seed.get(db, seed.STARTS, response.json()["request_id"])
        assert record is not None and record["requester"] == email.lower()
        assert record["workflow_id"] == "translate"
    else:
        assert response.status_code == 403
        assert response.json() == {"error": "you may not ask this workflow for approval"}
        assert executions_api.calls == []


def test_a_requester_may_have_only_so_many_requests_waiting(
    start: FunctionServer, db: firestore.Client, identity: IdentityProvider, executions_api: ExecutionsServer
) -> None:
    seed.workflow(db, "translate", WORKFLOW_NAME, INPUT_SCHEMA, max_pending=3)

    # Six at once, before the workflow writes any request: never more than three start.
    with ThreadPoolExecutor(max_workers=6) as pool:
        burst = list(pool.map(lambda _: start_as(start, identity, "ann@example.com"), range(6)))
    codes = [a.status_code for a in burst]
    assert set(codes) <= {200, 429, 503} and codes.count(200) <= 3
    more = [start_as(start, identity, "ann@example.com") for _ in range(4 - codes.count(200))]
    assert [a.status_code for a in more] == [200] * (3 - codes.count(200)) + [429]
    assert "3 requests to this workflow waiting" in more[-1].json()["error"]
    assert len(executions_api.calls) == 3
    answers = [*burst, *more]
    # Another requester is not held back by ann's.
    assert start_as(start, identity, "bob@example.com").status_code == 200
    # Once one of ann's requests is decided, she may ask again.
    started = [a.json()["request_id"] for a in answers if a.status_code == 200]
    for request_id in started:
        seed.request(db, approvers=["x@example.com"], request_id=request_id, requester="ann@example.com")
        db.collection(seed.REQUESTS).document(request_id).update({"workflow_id": "translate"})
    db.collection(seed.REQUESTS).document(started[0]).update({"status": "approved"})
    assert start_as(start, identity, "ann@example.com").status_code == 200
    assert start_as(start, identity, "ann@example.com").status_code == 429


def test_starts_past_the_grace_period_leave_the_requesters_document(
    start: FunctionServer, db: firestore.Client, identity: IdentityProvider, executions_api: ExecutionsServer
) -> None:
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    db.collection(seed.REQUESTERS).document("ann@example.com").set(
        {"translate": {"old-start": long_ago}, "other-workflow": {"kept": long_ago}}
    )

    response = start_as(start, identity, "ann@example.com")

    assert response.status_code == 200, response.text
    stored = seed.get(db, seed.REQUESTERS, "ann@example.com")
    assert stored is not None
    assert list(stored["translate"]) == [response.json()["request_id"]]
    assert "kept" in stored["other-workflow"]


# Service accounts: a Google-signed ID token for start's URL, minted by a metadata server.


@pytest.fixture(scope="module")
def deployer_metadata(google_signer: GoogleTokenSigner) -> Iterator[MetadataServer]:
    """The metadata server of a pipeline running as DEPLOYER, signing with the key start trusts."""
    with MetadataServer(service_account=DEPLOYER, signer=google_signer) as server:
        yield server


def start_with(start: FunctionServer, token: str) -> requests.Response:
    return post(start, {"workflow": "translate", "input": {"text": "Hello"}}, token)


@pytest.mark.parametrize("requesters", [[DEPLOYER], ["group:pipelines"]], ids=["named", "group-member"])
def test_a_service_account_among_the_requesters_asks_with_its_id_token(
    start: FunctionServer,
    db: firestore.Client,
    executions_api: ExecutionsServer,
    deployer_metadata: MetadataServer,
    requesters: list[str],
) -> None:
    seed.workflow(db, "translate", WORKFLOW_NAME, INPUT_SCHEMA, requesters=requesters)
    db.collection(seed.MEMBERSHIPS).document(DEPLOYER).set({"groups": ["pipelines"]})

    response = start_with(start, identity_token(deployer_metadata, START_AUDIENCE))

    assert response.status_code == 200, response.text
    request_id = response.json()["request_id"]
    [call] = executions_api.calls
    assert call.argument == {"text": "Hello", "request_id": request_id, "requester": DEPLOYER}
    # The start record is what makes the workflow store requester_verified: true.
    record = seed.get(db, seed.STARTS, request_id)
    assert record is not None and record["requester"] == DEPLOYER


def _unsigned(claims: dict[str, Any]) -> str:
    return signing_input({"alg": "none", "typ": "JWT"}, claims) + "."


REFUSED_TOKENS: dict[str, tuple[Callable[[GoogleTokenSigner], str], str]] = {
    "wrong-audience": (
        lambda g: g.id_token(DEPLOYER, "https://elsewhere.example.com/api/start"),
        "invalid token: Token has wrong audience",
    ),
    "audience-list": (
        lambda g: g.sign({**g.claims(DEPLOYER, START_AUDIENCE), "aud": [START_AUDIENCE]}),
        "invalid token: Token has wrong audience",
    ),
    "expired": (
        lambda g: g.id_token(DEPLOYER, START_AUDIENCE, expires_in=-120),
        "invalid token: Token expired",
    ),
    "longer-than-an-hour": (
        lambda g: g.id_token(DEPLOYER, START_AUDIENCE, expires_in=7200),
        "token lives longer than Google's ID tokens",
    ),
    "another-key": (
        lambda g: GoogleTokenSigner().id_token(DEPLOYER, START_AUDIENCE),
        "unknown token signing key",
    ),
    "another-key-same-kid": (
        lambda g: GoogleTokenSigner(kid=g.kid).id_token(DEPLOYER, START_AUDIENCE),
        "invalid token: Could not verify token signature.",
    ),
    "alg-none": (lambda g: _unsigned(g.claims(DEPLOYER, START_AUDIENCE)), "unsupported token algorithm"),
    "other-issuer": (
        lambda g: g.sign({**g.claims(DEPLOYER, START_AUDIENCE), "iss": "https://evil.example.com"}),
        "invalid token issuer",
    ),
    "unverified-email": (
        lambda g: g.sign({**g.claims(DEPLOYER, START_AUDIENCE), "email_verified": False}),
        "e-mail address is not verified",
    ),
    "no-email": (
        lambda g: g.sign({k: v for k, v in g.claims(DEPLOYER, START_AUDIENCE).items() if k != "email"}),
        "token has no e-mail: mint it with the e-mail included",
    ),
    "a-persons-google-token": (
        lambda g: g.id_token("ann@example.com", START_AUDIENCE),
        "a Google ID token is accepted from service accounts only; people sign in",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED_TOKENS))
def test_a_google_token_that_fails_a_check_is_unauthorized(
    start: FunctionServer,
    db: firestore.Client,
    google_signer: GoogleTokenSigner,
    executions_api: ExecutionsServer,
    case: str,
) -> None:
    # Everyone named: only the token's checks can refuse.
    seed.workflow(db, "translate", WORKFLOW_NAME, INPUT_SCHEMA, requesters=[DEPLOYER, "ann@example.com"])
    mint, reason = REFUSED_TOKENS[case]

    response = start_with(start, mint(google_signer))

    assert response.status_code == 401, response.text
    assert response.json()["error"].startswith(reason), response.json()
    assert executions_api.calls == []
    assert list(db.collection(seed.STARTS).stream()) == []


@pytest.mark.parametrize(
    "requesters",
    [
        ["someone-else@approvals.iam.gserviceaccount.com", "domain:example.com"],
        [f"domain:{PROJECT}.iam.gserviceaccount.com"],
        ["domain:developer.gserviceaccount.com", "domain:gserviceaccount.com"],
    ],
    ids=["not-named", "domain-of-its-project", "domain-of-default-accounts"],
)
def test_a_service_account_not_named_among_the_requesters_is_forbidden(
    start: FunctionServer,
    db: firestore.Client,
    executions_api: ExecutionsServer,
    deployer_metadata: MetadataServer,
    requesters: list[str],
) -> None:
    # A registry written by hand: the components refuse a domain: entry for service accounts.
    seed.workflow(db, "translate", WORKFLOW_NAME, INPUT_SCHEMA, requesters=requesters)

    response = start_with(start, identity_token(deployer_metadata, START_AUDIENCE))

    assert response.status_code == 403
    assert response.json() == {"error": "you may not ask this workflow for approval"}
    assert executions_api.calls == []


def test_a_google_token_is_refused_where_no_audience_is_configured(
    function_env: dict[str, str],
    executions_api: ExecutionsServer,
    deployer_metadata: MetadataServer,
    db: firestore.Client,
) -> None:
    seed.workflow(db, "translate", WORKFLOW_NAME, INPUT_SCHEMA, requesters=[DEPLOYER])
    env = {**function_env, "WORKFLOWS_EMULATOR_GRPC_HOST": executions_api.host}
    with FunctionServer("start", env) as unconfigured:
        response = start_with(unconfigured, identity_token(deployer_metadata, START_AUDIENCE))

    assert response.status_code == 401
    assert response.json() == {"error": "service account tokens are not accepted here"}
    assert executions_api.calls == []
