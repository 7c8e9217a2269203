"""http.get/post/put/patch/delete/request for real: one blocking HTTP exchange each.

The engine calls `http_call` from a worker thread for a `CallEffect` whose name
starts with "http.". Nothing here retries: "retries come from the workflow's
own retry policy" (`retry: ${http.default_retry}`), so one call is one request.
Quotes are from Google's reference pages for http.post / http.request
(reference/stdlib/http/*) unless another page is named.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from approvals.engine.runtime import values
from approvals.engine.runtime.errors import (
    AUTH_ERROR,
    CONNECTION_ERROR,
    CONNECTION_FAILED_ERROR,
    HTTP_ERROR,
    OS_ERROR,
    RESOURCE_LIMIT_ERROR,
    TIMEOUT_ERROR,
    TYPE_ERROR,
    VALUE_ERROR,
    WorkflowError,
)
from approvals.engine.runtime.tokens import TokenError, TokenSource

# The shortcut functions and their methods; http.request takes `method`.
SHORTCUTS = {
    "http.get": "GET",
    "http.post": "POST",
    "http.put": "PUT",
    "http.patch": "PATCH",
    "http.delete": "DELETE",
}
FUNCTIONS = (*SHORTCUTS, "http.request")
# http.request: "method: The HTTP request method. One of: GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH."
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH")
# "timeout: The request timeout, in seconds (default: 300.0) ... The maximum allowed timeout is 1800 seconds."
DEFAULT_TIMEOUT = 300.0
MAX_TIMEOUT = 1800.0
# Authenticate from a workflow: OAuth2 "scopes ... default: https://www.googleapis.com/auth/cloud-platform".
DEFAULT_SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
_KNOWN_ARGS = {"url", "method", "headers", "body", "query", "auth", "timeout"}
_UNSUPPORTED_ARGS = {"private_service_name", "ca_certificate"}
_CHUNK = 64 * 1024
# "Response size: 2 MB, the maximum size of an HTTP response" (https://cloud.google.com/workflows/quotas).
MAX_RESPONSE_BYTES = 2 * 1024 * 1024
# An HTTP timeout as real executions tag it: TimeoutError (the documented tag) and OSError.
_TIMEOUT_TAGS = [TIMEOUT_ERROR, OS_ERROR]


@dataclass(frozen=True)
class Response:
    """An HTTP response with its body decoded the way Workflows decodes it."""

    code: int
    headers: dict[str, str]
    body: Any

    def as_value(self) -> dict[str, Any]:
        """The map http.* returns: "The HTTP response as a map with body, code (status code), and headers"."""
        return {"body": self.body, "code": self.code, "headers": self.headers}


def http_call(name: str, args: Mapping[str, Any], tokens: TokenSource) -> dict[str, Any]:
    """Perform the http.* call `name` with the step's named `args`; the response map or a WorkflowError."""
    unknown = set(args) - _KNOWN_ARGS
    if unknown & _UNSUPPORTED_ARGS:
        raise WorkflowError.tagged(
            VALUE_ERROR, f"{name}: {', '.join(sorted(unknown & _UNSUPPORTED_ARGS))} is not supported locally"
        )
    if unknown:
        raise WorkflowError.tagged(TYPE_ERROR, f"{name}: unexpected argument(s) {', '.join(sorted(unknown))}")
    method = _method(name, args)
    url = _url(name, args.get("url"))
    timeout = _timeout(name, args.get("timeout", DEFAULT_TIMEOUT))
    headers = _headers(name, args.get("headers"))
    if args.get("auth") is not None:
        _authorize(name, args["auth"], url, headers, tokens)
    body = encode_body(args["body"], headers) if args.get("body") is not None else None
    url = with_query(url, args.get("query"))
    return send(method, url, headers=headers, body=body, timeout=timeout).as_value()


def send(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    body: bytes | None,
    timeout: float,
    refused_tag: str = CONNECTION_FAILED_ERROR,
) -> Response:
    """One HTTP exchange with a total deadline of `timeout` seconds; redirects are not followed.

    Errors as http.request documents them: "HttpError: If the response status
    is >= 400", "TimeoutError: When the specified timeout is reached before the
    response is received", "ConnectionError: In case of a network problem (DNS
    failure, truncated response, etc.)", "ConnectionFailedError: When the
    connection is halted during transfer (failed connection, refused
    connection, etc.)". Connectors report a refused connection as a
    ConnectionError instead, hence `refused_tag`.
    """
    parts = urllib.parse.urlsplit(url)
    deadline = time.monotonic() + timeout
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname or "", parts.port, timeout=timeout)
    target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    try:
        try:
            connection.connect()
        except socket.gaierror as error:
            raise WorkflowError.tagged(
                CONNECTION_ERROR, f"cannot resolve {parts.hostname}: {error}"
            ) from None
        except TimeoutError:
            raise WorkflowError.tagged(
                _TIMEOUT_TAGS, f"{method} {url}: no connection within {timeout:g}s"
            ) from None
        except OSError as error:
            raise WorkflowError.tagged(refused_tag, f"{method} {url}: connection failed: {error}") from None
        # Kept apart: the connection hands its socket to the response and may drop it.
        sock = connection.sock
        try:
            connection.request(method, target, body=body, headers=dict(headers))
            _set_timeout(sock, deadline)
            response = connection.getresponse()
            data = _read(sock, response, deadline)
        except TimeoutError:
            raise WorkflowError.tagged(
                _TIMEOUT_TAGS, f"{method} {url}: no response within {timeout:g}s"
            ) from None
        except (http.client.HTTPException, OSError) as error:
            raise WorkflowError.tagged(
                CONNECTION_ERROR, f"{method} {url}: connection broken: {error!r}"
            ) from None
    finally:
        connection.close()
    result = Response(
        response.status, _response_headers(response), decode_body(data, response.getheader("Content-Type"))
    )
    if result.code >= 400:
        raise _http_error(result)
    return result


def _http_error(response: Response) -> WorkflowError:
    """The HttpError map: the response's code, headers and body, plus message and tags."""
    return WorkflowError.tagged(
        HTTP_ERROR,
        f"HTTP server responded with error code {response.code}",
        code=response.code,
        headers=response.headers,
        body=response.body,
    )


def encode_body(body: Any, headers: dict[str, str]) -> bytes:
    """The request body as bytes; sets Content-Type when the workflow did not.

    "If a Content-Type header is not specified and if the body value is bytes,
    the header is set to Content-Type: application/octet-stream; otherwise, the
    body is JSON-encoded and the header is set to Content-type:
    application/json; charset=utf-8." and "If a Content-Type header is
    specified, the request body is encoded as prescribed. For example, it might
    be JSON or URL-encoded."
    """
    content_type = _header(headers, "Content-Type")
    if content_type is None:
        if isinstance(body, bytes):
            headers["Content-Type"] = "application/octet-stream"
            return body
        headers["Content-Type"] = "application/json; charset=utf-8"
        return _json_bytes(body)
    if isinstance(body, bytes):
        return body
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime == "application/x-www-form-urlencoded" and isinstance(body, dict):
        return urllib.parse.urlencode(_query_pairs(body)).encode()
    if isinstance(body, str) and mime != "application/json":
        return body.encode()
    return _json_bytes(body)


def decode_body(data: bytes, content_type: str | None) -> Any:
    """The response body as a Workflows value: JSON decoded, text as a string, else bytes.

    Make an HTTP request: "If the Content-Type header for the response specifies
    an application/json media type, the JSON response that is stored in a
    variable is automatically converted to a map that can be accessed." No
    body and no type is null.
    """
    if content_type is None:
        return data or None
    mime, _, params = content_type.partition(";")
    mime = mime.strip().lower()
    charset = "utf-8"
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
    if mime == "application/json" or mime.endswith("+json"):
        try:
            return values.from_json(json.loads(data.decode(charset)))
        except (ValueError, LookupError):
            pass  # a server that mislabels its body: hand it over as text
    elif not mime.startswith("text/"):
        return data
    return data.decode(charset, errors="replace")


def with_query(url: str, query: Any) -> str:
    """`url` with `query` appended: "a map that will get URL-encoded and appended to the URL"."""
    if query is None:
        return url
    if not isinstance(query, dict):
        raise WorkflowError.tagged(TYPE_ERROR, "query must be a map")
    encoded = urllib.parse.urlencode(_query_pairs(query))
    if not encoded:
        return url
    return f"{url}{'&' if urllib.parse.urlsplit(url).query else '?'}{encoded}"


def _query_pairs(query: Mapping[str, Any]) -> list[tuple[str, str]]:
    # "The map values must be strings, ints, floats, booleans, or lists of those."
    pairs: list[tuple[str, str]] = []
    for key, value in query.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, bool):
                pairs.append((key, "true" if item else "false"))
            elif isinstance(item, str | int | float):
                pairs.append((key, values.stringify(item)))
            else:
                raise WorkflowError.tagged(
                    TYPE_ERROR,
                    f"query value for {key!r} must be a string, number, boolean or a list of those",
                )
    return pairs


def _json_bytes(body: Any) -> bytes:
    return json.dumps(values.to_json(body), separators=(",", ":"), ensure_ascii=False).encode()


def _method(name: str, args: Mapping[str, Any]) -> str:
    if name in SHORTCUTS:
        if "method" in args:
            raise WorkflowError.tagged(TYPE_ERROR, f"{name}: unexpected argument method")
        return SHORTCUTS[name]
    if name != "http.request":
        raise WorkflowError.tagged(
            VALUE_ERROR, f"unknown HTTP function {name}; known: {', '.join(FUNCTIONS)}"
        )
    method = args.get("method")
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise WorkflowError.tagged(VALUE_ERROR, f"http.request: method must be one of {', '.join(METHODS)}")
    return method.upper()


def _url(name: str, url: Any) -> str:
    if not isinstance(url, str):
        raise WorkflowError.tagged(TYPE_ERROR, f"{name}: url must be a string")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WorkflowError.tagged(VALUE_ERROR, f"{name}: invalid URL {url!r}")
    return url


def _timeout(name: str, timeout: Any) -> float:
    if not values.is_number(timeout):
        raise WorkflowError.tagged(TYPE_ERROR, f"{name}: timeout must be a number of seconds")
    # "ValueError: If timeout is > 1800." Written so that NaN fails too (the socket refused it).
    if not 0 < timeout <= MAX_TIMEOUT:
        raise WorkflowError.tagged(VALUE_ERROR, f"{name}: timeout must be in (0, {MAX_TIMEOUT:g}] seconds")
    return float(timeout)


def _headers(name: str, headers: Any) -> dict[str, str]:
    # "headers: The HTTP request headers. If present, must be a map of strings."
    if headers is None:
        return {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise WorkflowError.tagged(TYPE_ERROR, f"{name}: headers must be a map of strings")
    return dict(headers)


def _header(headers: Mapping[str, str], wanted: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == wanted.lower()), None)


def access_token(name: str, tokens: TokenSource, scopes: Any = None) -> str:
    """An OAuth2 access token for `scopes` (a string or a list; default cloud-platform)."""
    return _minted(name, lambda: tokens.access_token(_scopes(name, scopes)))


def _authorize(name: str, auth: Any, url: str, headers: dict[str, str], tokens: TokenSource) -> None:
    """Add the bearer token `auth` asks for.

    "auth: ... must be a map with type attribute in ["OIDC", "OAuth2"]. A
    scopes key is also supported." Make authenticated requests: the OIDC
    audience "By default, it's set to the same value as url".
    """
    if not isinstance(auth, dict) or auth.get("type") not in ("OIDC", "OAuth2"):
        raise WorkflowError.tagged(VALUE_ERROR, f'{name}: auth must be a map with type "OIDC" or "OAuth2"')
    if auth["type"] == "OAuth2":
        token = access_token(name, tokens, auth.get("scopes", auth.get("scope")))
    else:
        audience = auth.get("audience") or url
        if not isinstance(audience, str):
            raise WorkflowError.tagged(TYPE_ERROR, f"{name}: auth.audience must be a string")
        token = _minted(name, lambda: tokens.id_token(audience))
    headers["Authorization"] = f"Bearer {token}"


def _minted(name: str, mint: Callable[[], str]) -> str:
    try:
        return mint()
    except TokenError as error:
        # "AuthError: Raised when generating credentials for an HTTP request fails." (Workflows errors)
        raise WorkflowError.tagged(AUTH_ERROR, f"{name}: {error}") from None


def _scopes(name: str, scopes: Any) -> tuple[str, ...]:
    if scopes is None:
        return DEFAULT_SCOPES
    if isinstance(scopes, str):
        return tuple(scopes.replace(",", " ").split())
    if isinstance(scopes, list) and all(isinstance(s, str) for s in scopes):
        return tuple(scopes)
    raise WorkflowError.tagged(TYPE_ERROR, f"{name}: scopes must be a string or a list of strings")


def _set_timeout(sock: socket.socket, deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError
    sock.settimeout(remaining)


def _read(sock: socket.socket, response: http.client.HTTPResponse, deadline: float) -> bytes:
    # Chunked reads so that a server trickling bytes still meets the deadline, and a body past
    # the response size limit is refused without being read to its end.
    chunks: list[bytes] = []
    size = 0
    while True:
        if response.isclosed():  # the whole body is in: a "Connection: close" socket is gone
            return b"".join(chunks)
        _set_timeout(sock, deadline)
        chunk = response.read(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise WorkflowError.tagged(
                RESOURCE_LIMIT_ERROR,
                f"the HTTP response is larger than {MAX_RESPONSE_BYTES} bytes (2 MB), "
                "the most a call may receive",
            )
        chunks.append(chunk)


def _response_headers(response: http.client.HTTPResponse) -> dict[str, str]:
    headers: dict[str, str] = {}
    for key, value in response.getheaders():
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers
