"""A pipeline asks for approval as its service account, on the whole local stack.

The pipeline's identity is a metadata server of its own that signs with the
stack's stand-in for Google's key, as a Cloud Build step or a Cloud Run job
fetches its ID token; start verifies it against the certificate the stack
publishes, as it verifies Google's in the cloud.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from approvals.emulator.google_tokens import GoogleTokenSigner
from approvals.emulator.jwt import signing_input
from approvals.emulator.metadata import MetadataServer
from approvals.emulator.stack import LocalStack
from approvals.errors import InvalidArgumentError
from tests.e2e.stack_client import HTTP_TIMEOUT, Client, poll
from tests.support.metadata import identity_token

# Among release-approval's requesters in Pulumi.dev.yaml, by its e-mail.
DEPLOYER = "deployer@approvals-dev.iam.gserviceaccount.com"
STRANGER = "builder@other-project.iam.gserviceaccount.com"
ALICE = "alice@example.com"  # an engineering approver of release-approval
RELEASE = {"subject": "Release 2.1", "details": "Deployed by the pipeline once approved"}


@pytest.fixture(scope="module")
def deployer(stack: LocalStack) -> Iterator[MetadataServer]:
    """The pipeline's metadata server: DEPLOYER's ID tokens, signed with the key the stack trusts."""
    with MetadataServer(service_account=DEPLOYER, signer=stack.google_tokens) as server:
        yield server


def start_url(stack: LocalStack) -> str:
    return f"{stack.origin_url}/api/start"


def start_with(stack: LocalStack, token: str, workflow: str = "release-approval") -> requests.Response:
    return requests.post(
        start_url(stack),
        json={"workflow": workflow, "input": RELEASE},
        headers={"Authorization": f"Bearer {token}"},
        timeout=HTTP_TIMEOUT,
    )


def test_a_pipeline_asks_as_its_service_account_and_the_request_says_it_is_verified(
    stack: LocalStack, client: Client, deployer: MetadataServer
) -> None:
    response = start_with(stack, identity_token(deployer, start_url(stack)))

    assert response.status_code == 200, response.text
    request_id = response.json()["request_id"]
    engineering = f"{request_id}-engineering"
    poll(
        lambda: client.read_document(ALICE, f"approval_requests/{engineering}").status_code,
        lambda status: status == 200,
        "the engineering stage's request",
    )
    document = client.request(ALICE, engineering)
    assert (document["requester"], document["requester_verified"]) == (DEPLOYER, True)
    assert (document["status"], document["origin_request_id"]) == ("pending", request_id)
    # The pipeline reads its request's status with the same token, as `request --wait` does.
    status = requests.get(
        f"{stack.origin_url}/api/requests/{request_id}",
        headers={"Authorization": f"Bearer {identity_token(deployer, start_url(stack))}"},
        timeout=HTTP_TIMEOUT,
    )
    assert status.status_code == 200, status.text
    assert (status.json()["status"], status.json()["final"]) == ("pending", False)


def _claims(stack: LocalStack, **changes: Any) -> dict[str, Any]:
    return {**stack.google_tokens.claims(DEPLOYER, start_url(stack)), **changes}


REFUSED: dict[str, tuple[Callable[[LocalStack], str], int, str]] = {
    # The cloud site's start URL: a token for another service (or the cloud one) is not for this origin.
    "wrong-audience": (
        lambda s: s.google_tokens.id_token(DEPLOYER, "https://approvals-dev-approvals.web.app/api/start"),
        401,
        "invalid token: Token has wrong audience",
    ),
    "expired": (
        lambda s: s.google_tokens.id_token(DEPLOYER, start_url(s), expires_in=-120),
        401,
        "invalid token: Token expired",
    ),
    "another-key": (
        lambda s: GoogleTokenSigner().id_token(DEPLOYER, start_url(s)),
        401,
        "unknown token signing key",
    ),
    "alg-none": (
        lambda s: signing_input({"alg": "none", "typ": "JWT"}, _claims(s)) + ".",
        401,
        "unsupported token algorithm",
    ),
    "unverified-email": (
        lambda s: s.google_tokens.sign(_claims(s, email_verified=False)),
        401,
        "e-mail address is not verified",
    ),
    "a-persons-google-token": (
        lambda s: s.google_tokens.id_token(ALICE, start_url(s)),
        401,
        "a Google ID token is accepted from service accounts only",
    ),
    "not-among-the-requesters": (
        lambda s: s.google_tokens.id_token(STRANGER, start_url(s)),
        403,
        "you may not ask this workflow for approval",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_token_start_must_not_take_is_refused_with_the_reason(stack: LocalStack, case: str) -> None:
    mint, status, reason = REFUSED[case]

    response = start_with(stack, mint(stack))

    assert response.status_code == status, response.text
    assert response.json()["error"].startswith(reason), response.json()


def test_a_stack_naming_service_accounts_by_domain_does_not_start() -> None:
    """Start never matches a service account by domain (tests/functions), so the program may not ask it to."""
    requesters = json.dumps(["domain:approvals-dev.iam.gserviceaccount.com"])

    with pytest.raises(InvalidArgumentError) as refused:
        LocalStack(stack="dev", config={"approvals:requesters": requesters}).start()

    assert refused.value.argument == "ApprovalWorkflowArgs.requesters"
    assert "would match service accounts by domain" in str(refused.value)


def test_the_cli_asks_and_waits_as_the_service_account_its_metadata_server_names(
    stack: LocalStack, client: Client, deployer: MetadataServer
) -> None:
    """`python -m approvals request` with Application Default Credentials, as in Cloud Build: google-auth
    finds the metadata server and mints the ID token; the CLI asks and reads the status with it."""
    env = {**os.environ, "GCE_METADATA_HOST": deployer.host, "GCE_METADATA_IP": deployer.host}
    env.pop("GOOGLE_APPLICATION_CREDENTIALS", None)
    command = [
        sys.executable,
        "-m",
        "approvals",
        "request",
        "release-approval",
        "--input",
        json.dumps(RELEASE),
    ]
    command += ["--url", stack.origin_url, "--wait", "--timeout", "1"]

    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)

    # Nobody decides within the second: exit 3, the request stays open, asked by the account.
    assert run.returncode == 3, run.stderr
    request_id = json.loads(run.stdout.splitlines()[0])["request_id"]
    assert f"still waiting after 1 s: request {request_id}" in run.stderr
    engineering = f"{request_id}-engineering"
    poll(
        lambda: client.read_document(ALICE, f"approval_requests/{engineering}").status_code,
        lambda status: status == 200,
        "the engineering stage's request",
    )
    assert client.request(ALICE, engineering)["requester"] == DEPLOYER
