"""The local Cloud Run front end: a private function sees only requests with a valid ID token of an invoker.

A recording server stands in for the function. Refusals follow the Cloud Run
troubleshooting guide: 403 without a token, 401 for a token that is not a
valid Google ID token for the service, 403 for an identity without
run.invoker; what is let in reaches the function unchanged.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable, Iterator

import pytest
import requests

from approvals.emulator.frontend import NOT_AUTHENTICATED, NOT_AUTHORIZED, FrontEnd
from approvals.emulator.google_tokens import GoogleTokenSigner
from approvals.emulator.jwt import signing_input
from approvals.engine.api.local_server import free_port
from tests.support.servers import RecordingServer, Reply

PUSHER = "approvals-pusher@approvals-dev.iam.gserviceaccount.com"
DECIDE = "approvals-decide@approvals-dev.iam.gserviceaccount.com"
CLOUD_URL = "https://europe-west1-approvals-dev.cloudfunctions.net/approvals-notify"


@pytest.fixture(scope="module")
def signer() -> GoogleTokenSigner:
    return GoogleTokenSigner()


@pytest.fixture
def function() -> Iterator[RecordingServer]:
    with RecordingServer() as server:
        yield server


@pytest.fixture
def front_end(function: RecordingServer, signer: GoogleTokenSigner) -> Iterator[FrontEnd]:
    invokers = {f"serviceAccount:{PUSHER}"}
    with FrontEnd(function.url, invokers, signer.verifier(), [CLOUD_URL]) as served:
        yield served


def post(front_end: FrontEnd, token: str | None, path: str = "/") -> requests.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return requests.post(f"{front_end.url}{path}", json={"message": {}}, headers=headers, timeout=10)


def test_a_request_without_a_token_is_refused_with_403(
    front_end: FrontEnd, function: RecordingServer
) -> None:
    response = post(front_end, None)

    assert response.status_code == 403
    assert response.text.strip() == NOT_AUTHENTICATED
    assert requests.post(front_end.url, headers={"Authorization": ""}, timeout=10).status_code == 403
    assert function.calls == []


@pytest.mark.parametrize(
    "forge",
    [
        lambda s: signing_input({"alg": "none", "typ": "JWT"}, s.claims(PUSHER, CLOUD_URL)) + ".",
        lambda s: GoogleTokenSigner().id_token(PUSHER, CLOUD_URL),
        lambda s: GoogleTokenSigner(kid=s.kid).id_token(PUSHER, CLOUD_URL),
        lambda s: s.id_token(PUSHER, CLOUD_URL, expires_in=-120),
        lambda s: s.id_token(
            PUSHER, "https://europe-west1-approvals-dev.cloudfunctions.net/approvals-decide"
        ),
        lambda s: s.id_token(PUSHER, CLOUD_URL + "/extra"),
        lambda s: "not-a-jwt",
    ],
    ids=["alg-none", "other-key", "forged-kid", "expired", "other-audience", "path-audience", "garbage"],
)
def test_a_token_that_is_not_valid_for_the_service_is_refused_with_401(
    front_end: FrontEnd,
    function: RecordingServer,
    signer: GoogleTokenSigner,
    forge: Callable[[GoogleTokenSigner], str],
) -> None:
    response = post(front_end, forge(signer))

    assert response.status_code == 401, response.text
    assert response.text.startswith(NOT_AUTHORIZED)
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert function.calls == []


def test_other_schemes_and_two_authorization_headers_are_refused_with_401(
    front_end: FrontEnd, function: RecordingServer, signer: GoogleTokenSigner
) -> None:
    token = signer.id_token(PUSHER, CLOUD_URL)
    basic = requests.post(front_end.url, headers={"Authorization": f"Basic {token}"}, timeout=10)
    assert basic.status_code == 401
    two_tokens = requests.post(
        front_end.url, headers={"Authorization": f"Bearer {token} {token}"}, timeout=10
    )
    assert two_tokens.status_code == 401

    connection = http.client.HTTPConnection(front_end.host, timeout=10)
    connection.putrequest("POST", "/")
    for _ in range(2):
        connection.putheader("Authorization", f"Bearer {token}")
    connection.putheader("Content-Length", "0")
    connection.endheaders()
    assert connection.getresponse().status == 401
    connection.close()
    assert function.calls == []


def test_a_valid_token_of_an_identity_without_run_invoker_is_refused_with_403(
    front_end: FrontEnd, function: RecordingServer, signer: GoogleTokenSigner
) -> None:
    response = post(front_end, signer.id_token(DECIDE, CLOUD_URL), "/?x=1")

    assert response.status_code == 403
    assert (
        response.text.strip()
        == "Forbidden: Your client does not have permission to get URL /?x=1 from this server"
    )
    assert function.calls == []


@pytest.mark.parametrize("audience", ["cloud", "cloud/", "local", "local/"])
def test_an_invoker_s_request_reaches_the_function_unchanged(
    front_end: FrontEnd, function: RecordingServer, signer: GoogleTokenSigner, audience: str
) -> None:
    base = CLOUD_URL if audience.startswith("cloud") else front_end.url
    token = signer.id_token(PUSHER, base + audience.removeprefix("cloud").removeprefix("local"))
    function.script(Reply(500, {"error": "the mail webhook failed"}, {"X-Seen": "yes"}))

    response = requests.post(
        f"{front_end.url}/push?token=abc",
        data=b'{"message": {"data": "e30="}}',
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=10,
    )

    # The function's answer comes back as it is, a failure included.
    assert (response.status_code, response.json()) == (500, {"error": "the mail webhook failed"})
    assert response.headers["X-Seen"] == "yes"
    [call] = function.calls
    assert (call.method, call.path, call.body) == (
        "POST",
        "/push?token=abc",
        b'{"message": {"data": "e30="}}',
    )
    assert call.headers["Authorization"] == f"Bearer {token}"
    assert call.headers["Content-Type"] == "application/json"


def test_a_function_that_does_not_answer_is_a_503(signer: GoogleTokenSigner) -> None:
    invokers = {f"serviceAccount:{PUSHER}"}
    gone = f"http://127.0.0.1:{free_port()}"
    with FrontEnd(gone, invokers, signer.verifier(), [CLOUD_URL]) as front_end:
        response = post(front_end, signer.id_token(PUSHER, CLOUD_URL))

    assert response.status_code == 503


def test_all_authenticated_users_lets_any_valid_token_in(
    function: RecordingServer, signer: GoogleTokenSigner
) -> None:
    with FrontEnd(function.url, {"allAuthenticatedUsers"}, signer.verifier(), [CLOUD_URL]) as front_end:
        assert post(front_end, signer.id_token(DECIDE, CLOUD_URL)).status_code == 200
        assert post(front_end, None).status_code == 403


@pytest.mark.parametrize(("length", "status"), [("abc", 400), (str(100 * 1024**3), 413)])
def test_a_body_the_front_end_will_not_read_is_refused_not_dropped(
    front_end: FrontEnd, function: RecordingServer, length: str, status: int
) -> None:
    """Every local server reads a body through the same guard: a Content-Length that is not a
    number, or past 10 MB, is answered (the connection was dropped with a traceback, or the
    server allocated what it was told), and nothing reaches the function."""
    connection = http.client.HTTPConnection("127.0.0.1", front_end.port, timeout=10)
    connection.putrequest("POST", "/")
    connection.putheader("Content-Length", length)
    connection.endheaders()

    response = connection.getresponse()

    assert response.status == status
    assert function.calls == []
    connection.close()
