"""A threaded HTTP server on 127.0.0.1 that starts and stops with its owner."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from approvals.engine.api.service import LocalService, Loopback

# How often serve_forever() looks for a shutdown request. stop() waits up to this
# long, and the default 0.5 s adds up over the many servers a test run stops.
POLL_INTERVAL = 0.05


# Every port free_port() handed out in this process. The system may hand the same free port
# to two binds in a row: two services of one stack given the same port, the first to listen
# answered for both (a stack's cancel requests reached its status function, which said 405).
_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago, never one this process had from here."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


# The most a request body may hold. A workflow holds at most 512 KB of variables, so no
# execution could keep a bigger callback body or argument anyway; past this the server stops
# reading rather than hold whatever a client sends.
MAX_BODY_BYTES = 10 * 1024 * 1024


class BodyError(ValueError):
    """A request body the server will not read: `code` and `status` are the answer's."""

    def __init__(self, code: int, status: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def error_body(code: int, status: str, message: str) -> dict[str, Any]:
    """Google's JSON error body: {"error": {"code", "message", "status"}}."""
    return {"error": {"code": code, "message": message, "status": status}}


class LocalServer(LocalService, Loopback):
    """Serves ``handler_class`` on a 127.0.0.1 port in a daemon thread.

    Each start picks a free port unless ``port`` fixes one: a server that
    restarts on the same port keeps the URLs it handed out valid.
    Handlers reach their owner through ``self.server.owner``.
    """

    handler_class: type[BaseHTTPRequestHandler]

    def __init__(self, port: int | None = None) -> None:
        self._fixed_port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port the server listens on (only while started)."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._server.server_address[1]

    def start(self) -> Self:
        """Start serving; returns self."""
        if self._server is not None:
            return self
        server = ThreadingHTTPServer(("127.0.0.1", self._fixed_port or 0), self.handler_class)
        server.daemon_threads = True
        server.owner = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": POLL_INTERVAL},
            name=type(self).__name__,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None


class QuietHandler(BaseHTTPRequestHandler):
    """Base handler that keeps test output clean and answers with bytes."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Silence the per-request stderr line."""

    def handle_one_request(self) -> None:
        """Serve one request; a body `read_body` will not read is answered here, for every server."""
        try:
            super().handle_one_request()
        except BodyError as refused:
            self.reply_error(refused.code, refused.status, str(refused))

    def read_body(self) -> bytes:
        """The request body (empty when there is none); BodyError for one not to be read.

        After a BodyError the rest of the request is unread, so the connection closes.
        """
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunks()
        text = self.headers.get("Content-Length") or "0"
        # ASCII digits only: str.isdigit() also takes "²", which int() refuses.
        if not (text.isascii() and text.isdigit()):
            self.close_connection = True
            raise BodyError(400, "INVALID_ARGUMENT", f"Content-Length {text!r} is not a number of bytes")
        return self.rfile.read(self._within_limit(int(text)))

    def _read_chunks(self) -> bytes:
        body = bytearray()
        while True:
            line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                self.close_connection = True
                raise BodyError(400, "INVALID_ARGUMENT", f"bad chunk size {line[:20]!r}") from None
            if size == 0:
                # Trailer lines, if any, end with an empty line.
                while self.rfile.readline(1024).strip():
                    pass
                return bytes(body)
            body += self.rfile.read(self._within_limit(len(body) + size) - len(body))
            self.rfile.readline(1024)  # the CRLF after the chunk

    def _within_limit(self, length: int) -> int:
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise BodyError(
                413, "INVALID_ARGUMENT", f"the request body is larger than {MAX_BODY_BYTES} bytes"
            )
        return length

    def reply(
        self,
        status: int,
        body: bytes = b"",
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        """Send a complete response."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def reply_error(self, code: int, status: str, message: str) -> None:
        """Answer with Google's JSON error body."""
        self.reply(code, json.dumps(error_body(code, status, message)).encode())
