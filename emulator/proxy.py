"""A request forwarded to a local server, its answer sent back: shared by the origin and the front ends."""

from __future__ import annotations

import http.client
import urllib.parse
from collections.abc import Mapping

from approvals.engine.api.local_server import QuietHandler

# RFC 9110 7.6.1: connection-specific headers a proxy must not forward.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# Above the functions' 60 s timeout, so that the function answers first.
UPSTREAM_TIMEOUT = 90.0


class UpstreamError(Exception):
    """The server behind the proxy did not answer."""


def forward(
    handler: QuietHandler,
    upstream: str,
    body: bytes,
    *,
    add_request_headers: Mapping[str, str] | None = None,
    add_response_headers: Mapping[str, str] | None = None,
) -> None:
    """Send ``handler``'s request (method, path, query, headers, ``body``) to ``upstream``, a base URL,
    and its answer back; ``add_response_headers`` only where the answer lacks them.

    UpstreamError, before anything is sent back, when ``upstream`` does not answer.
    """
    headers = {k: v for k, v in handler.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
    headers.update(add_request_headers or {})
    connection = http.client.HTTPConnection(urllib.parse.urlsplit(upstream).netloc, timeout=UPSTREAM_TIMEOUT)
    try:
        connection.request(handler.command, handler.path, body=body or None, headers=headers)
        response = connection.getresponse()
        content = response.read()
    except (OSError, http.client.HTTPException) as error:
        raise UpstreamError(str(error)) from error
    finally:
        connection.close()
    # The upstream's own Server and Date headers go through, not a second pair of ours.
    handler.send_response_only(response.status, response.reason)
    sent = set()
    for name, value in response.getheaders():
        lower = name.lower()
        # Content-Length is recomputed below, except for HEAD, where it describes the GET.
        if lower in HOP_BY_HOP or (lower == "content-length" and handler.command != "HEAD"):
            continue
        handler.send_header(name, value)
        sent.add(lower)
    for name, value in (add_response_headers or {}).items():
        if name.lower() not in sent:
            handler.send_header(name, value)
    if handler.command != "HEAD":
        handler.send_header("Content-Length", str(len(content)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(content)
