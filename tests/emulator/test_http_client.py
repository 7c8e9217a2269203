"""http.* against real servers on 127.0.0.1: methods, bodies, auth, and the documented errors."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from approvals.emulator.metadata import MetadataServer
from approvals.engine.api.local_server import LocalServer, QuietHandler, free_port
from approvals.engine.runtime.errors import WorkflowError
from approvals.engine.runtime.http_client import http_call
from approvals.engine.runtime.tokens import MetadataTokens, StaticTokens
from tests.support.servers import RecordingServer, Reply

TOKENS = StaticTokens(access="access-1", identity="identity-1")


class RecordingTokens:
    """Remembers what was asked of it."""

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []
        self.audiences: list[str] = []

    def access_token(self, scopes: Sequence[str]) -> str:
        self.scopes.append(tuple(scopes))
        return "access-2"

    def id_token(self, audience: str) -> str:
        self.audiences.append(audience)
        return "identity-2"


class _RawHandler(QuietHandler):
    """Non-JSON answers and a slow one, which RecordingServer cannot give."""

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        if self.path == "/text":
            self.reply(200, "héllo".encode(), "text/plain; charset=utf-8")
        elif self.path == "/bytes":
            self.reply(200, b"\x00\xff", "application/octet-stream")
        elif self.path.startswith("/sized/"):
            self.reply(200, b"x" * int(self.path.rsplit("/", 1)[1]), "text/plain")
        elif self.path == "/close":  # as HTTP/1.0 servers and many others answer
            self.close_connection = True
            self.reply(200, b'{"closed": true}', headers={"Connection": "close"})
        elif self.path == "/slow":
            self.server.owner.release.wait(5)  # type: ignore[attr-defined]
            self.reply(200, b"{}")
        else:
            self.reply(204)


class RawServer(LocalServer):
    handler_class = _RawHandler

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()


@pytest.fixture(scope="module")
def recorder() -> Iterator[RecordingServer]:
    with RecordingServer() as server:
        yield server


@pytest.fixture
def target(recorder: RecordingServer) -> RecordingServer:
    recorder.reset()
    return recorder


@pytest.fixture(scope="module")
def raw() -> Iterator[RawServer]:
    with RawServer() as server:
        yield server
        server.release.set()


@pytest.mark.parametrize(
    ("name", "extra", "method"),
    [
        ("http.get", {}, "GET"),
        ("http.post", {}, "POST"),
        ("http.put", {}, "PUT"),
        ("http.patch", {}, "PATCH"),
        ("http.delete", {}, "DELETE"),
        ("http.request", {"method": "PATCH"}, "PATCH"),
        ("http.request", {"method": "delete"}, "DELETE"),
    ],
)
def test_each_function_sends_its_method_and_returns_body_code_headers(
    target: RecordingServer, name: str, extra: dict[str, Any], method: str
) -> None:
    """ "Returns: The HTTP response as a map with body, code (status code), and headers attributes." """
    target.script(Reply(200, {"ok": True, "n": 3}, {"X-Answer": "yes"}))
    result = http_call(name, {"url": f"{target.url}/things/1", **extra}, TOKENS)
    assert [(c.method, c.path) for c in target.calls] == [(method, "/things/1")]
    assert result["code"] == 200
    assert result["body"] == {"ok": True, "n": 3}
    assert result["headers"]["X-Answer"] == "yes"
    assert (
        "Authorization" not in target.calls[0].headers
    )  # "By default, HTTP requests don't contain ... tokens"


def test_query_map_is_url_encoded_and_appended(target: RecordingServer) -> None:
    """ "query: ... a map that will get URL-encoded and appended to the URL. The map values
    must be strings, ints, floats, booleans, or lists of those." """
    query = {"q": "a b&c", "n": 2, "x": 1.5, "on": True, "ids": ["1", "2"]}
    http_call("http.get", {"url": f"{target.url}/s?k=v", "query": query}, TOKENS)
    assert target.calls[0].path == "/s?k=v&q=a+b%26c&n=2&x=1.5&on=true&ids=1&ids=2"


def test_map_body_is_json_encoded_with_json_content_type(target: RecordingServer) -> None:
    """ "If a Content-Type header is not specified and if the body value is bytes ... otherwise,
    the body is JSON-encoded and the header is set to Content-type: application/json; charset=utf-8." """
    http_call("http.post", {"url": target.url, "body": {"a": [1, "é", None]}}, TOKENS)
    call = target.calls[0]
    assert call.headers["Content-Type"] == "application/json; charset=utf-8"
    assert call.json() == {"a": [1, "é", None]}


def test_string_body_without_content_type_is_json_encoded(target: RecordingServer) -> None:
    http_call("http.post", {"url": target.url, "body": "hi"}, TOKENS)
    assert target.calls[0].body == b'"hi"'


def test_bytes_body_is_sent_as_octet_stream(target: RecordingServer) -> None:
    http_call("http.put", {"url": target.url, "body": b"\x00\x01"}, TOKENS)
    call = target.calls[0]
    assert (call.headers["Content-Type"], call.body) == ("application/octet-stream", b"\x00\x01")


def test_body_follows_a_given_content_type(target: RecordingServer) -> None:
    """ "If a Content-Type header is specified, the request body is encoded as prescribed.
    For example, it might be JSON or URL-encoded." """
    form = {"url": target.url, "headers": {"Content-Type": "application/x-www-form-urlencoded"}}
    http_call("http.post", {**form, "body": {"a": "1 2", "b": True}}, TOKENS)
    text = {"url": target.url, "headers": {"content-type": "text/plain"}, "body": "plain words"}
    http_call("http.post", text, TOKENS)
    assert [c.body for c in target.calls] == [b"a=1+2&b=true", b"plain words"]


def test_oidc_auth_sends_an_identity_token_for_the_url_by_default(target: RecordingServer) -> None:
    """Make authenticated requests: the OIDC audience "By default, it's set to the same value as url"."""
    tokens = RecordingTokens()
    url = f"{target.url}/hook?x=1"
    http_call("http.post", {"url": url, "auth": {"type": "OIDC"}, "body": {}}, tokens)
    http_call("http.post", {"url": url, "auth": {"type": "OIDC", "audience": "https://svc"}}, tokens)
    assert tokens.audiences == [url, "https://svc"]
    assert [c.headers["Authorization"] for c in target.calls] == ["Bearer identity-2"] * 2


def test_oauth2_auth_sends_an_access_token_for_the_scopes(target: RecordingServer) -> None:
    tokens = RecordingTokens()
    http_call("http.get", {"url": target.url, "auth": {"type": "OAuth2"}}, tokens)
    http_call("http.get", {"url": target.url, "auth": {"type": "OAuth2", "scopes": ["s1", "s2"]}}, tokens)
    http_call("http.get", {"url": target.url, "auth": {"type": "OAuth2", "scope": "s3 s4"}}, tokens)
    assert tokens.scopes == [("https://www.googleapis.com/auth/cloud-platform",), ("s1", "s2"), ("s3", "s4")]
    assert target.calls[0].headers["Authorization"] == "Bearer access-2"


def test_metadata_tokens_come_from_the_metadata_server(target: RecordingServer) -> None:
    with MetadataServer(access_token="md-access") as metadata:
        tokens = MetadataTokens(metadata.host)
        http_call("http.get", {"url": target.url, "auth": {"type": "OAuth2"}}, tokens)
        http_call(
            "http.get", {"url": target.url, "auth": {"type": "OIDC", "audience": "https://aud"}}, tokens
        )
    access, identity = (c.headers["Authorization"].removeprefix("Bearer ") for c in target.calls)
    assert access == "md-access"
    claims = json.loads(base64.urlsafe_b64decode(identity.split(".")[1] + "=="))
    assert claims["aud"] == "https://aud"
    assert claims["email"] == metadata.service_account


def test_unreachable_token_source_is_an_auth_error(target: RecordingServer) -> None:
    """ "AuthError: Raised when generating credentials for an HTTP request fails." (Workflows errors)"""
    tokens = MetadataTokens(f"127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(WorkflowError) as caught:
        http_call("http.get", {"url": target.url, "auth": {"type": "OAuth2"}}, tokens)
    assert caught.value.tags == ["AuthError"]
    assert target.calls == []


@pytest.mark.parametrize("code", [404, 500])
def test_error_status_raises_http_error_map(target: RecordingServer, code: int) -> None:
    """ "HttpError: If the response status is >= 400." The error carries the response (Catch errors sample:
    `e.code == 404`)."""
    target.script(Reply(code, {"error": "nope"}, {"X-Reason": "test"}))
    with pytest.raises(WorkflowError) as caught:
        http_call("http.get", {"url": target.url}, TOKENS)
    error = caught.value.value
    assert error["tags"] == ["HttpError"]
    assert error["code"] == code
    assert error["body"] == {"error": "nope"}
    assert error["headers"]["X-Reason"] == "test"
    assert error["message"] == f"HTTP server responded with error code {code}"


def test_refused_connection_is_connection_failed_error() -> None:
    """ "ConnectionFailedError: When the connection is halted during transfer (failed connection,
    refused connection, etc.)." """
    with pytest.raises(WorkflowError) as caught:
        http_call("http.get", {"url": f"http://127.0.0.1:{free_port()}/"}, TOKENS)
    assert caught.value.tags == ["ConnectionFailedError"]


def test_a_server_that_never_answers_is_a_timeout_error_tagged_oserror_too(raw: RawServer) -> None:
    """ "TimeoutError: When the specified timeout is reached before the response is received"
    (https://cloud.google.com/workflows/docs/reference/stdlib/http/request); the error-types page
    (https://cloud.google.com/workflows/docs/reference/syntax/error-types) documents the tag, and
    real executions add "OSError" beside it (issue 15), so `"TimeoutError" in e.tags` holds."""
    with pytest.raises(WorkflowError) as caught:
        http_call("http.get", {"url": f"{raw.url}/slow", "timeout": 0.3}, TOKENS)
    assert caught.value.tags == ["TimeoutError", "OSError"]


def test_a_response_past_2_mb_is_a_resource_limit_error(raw: RawServer) -> None:
    """ "Response size: 2 MB, the maximum size of an HTTP response"
    (https://cloud.google.com/workflows/quotas); past a limit, "ResourceLimitError"
    (https://cloud.google.com/workflows/docs/reference/syntax/error-types)."""
    limit = 2 * 1024 * 1024
    assert len(http_call("http.get", {"url": f"{raw.url}/sized/{limit}"}, TOKENS)["body"]) == limit

    with pytest.raises(WorkflowError) as caught:
        http_call("http.get", {"url": f"{raw.url}/sized/{limit + 1}"}, TOKENS)

    assert caught.value.tags == ["ResourceLimitError"]
    assert "2 MB" in caught.value.value["message"]


def test_response_body_is_decoded_by_content_type(raw: RawServer) -> None:
    """Make an HTTP request: JSON responses become maps; text stays a string, other types bytes."""
    assert http_call("http.get", {"url": f"{raw.url}/text"}, TOKENS)["body"] == "héllo"
    assert http_call("http.get", {"url": f"{raw.url}/bytes"}, TOKENS)["body"] == b"\x00\xff"
    assert http_call("http.get", {"url": f"{raw.url}/empty"}, TOKENS)["code"] == 204


def test_a_server_that_closes_the_connection_after_answering_is_read(raw: RawServer) -> None:
    """A response sent with "Connection: close" is a response like any other: http.get "returns
    the response" (https://cloud.google.com/workflows/docs/reference/stdlib/http/get). Google's
    error_catch sample (workflows-samples src/error_catch.workflows.yaml) reads it as
    `API_response.body`; the engine failed such a call as a ConnectionError "Bad file
    descriptor", because it set a timeout on the socket that reading the body had closed."""
    response = http_call("http.get", {"url": f"{raw.url}/close"}, TOKENS)
    assert (response["code"], response["body"]) == (200, {"closed": True})


@pytest.mark.parametrize(
    ("args", "tag"),
    [
        ({"url": "http://127.0.0.1/", "timeout": 1801}, "ValueError"),  # "ValueError: If timeout is > 1800."
        ({"url": "http://127.0.0.1/", "timeout": float("nan")}, "ValueError"),  # went on to the socket
        ({"url": "http://127.0.0.1/", "auth": {"type": "Basic"}}, "ValueError"),
        ({"url": "not a url"}, "ValueError"),
        ({"url": "http://127.0.0.1/", "headers": {"X": 1}}, "TypeError"),
        ({"url": "http://127.0.0.1/", "bogus": 1}, "TypeError"),
    ],
)
def test_bad_arguments_are_refused_before_sending(args: dict[str, Any], tag: str) -> None:
    with pytest.raises(WorkflowError) as caught:
        http_call("http.get", args, TOKENS)
    assert caught.value.tags == [tag]


def test_http_request_needs_a_known_method() -> None:
    with pytest.raises(WorkflowError) as caught:
        http_call("http.request", {"url": "http://127.0.0.1/", "method": "BREW"}, TOKENS)
    assert caught.value.tags == ["ValueError"]
