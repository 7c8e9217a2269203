"""`python -m emulator up` checks its fixed ports before it starts anything (stack.check_port).

A stack stopped with Ctrl-C and started again at once, as with --state-dir, finds its ports'
last connections still in TIME_WAIT: its servers may listen there, so the check must let them.
"""

from __future__ import annotations

import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from approvals.emulator.stack import StackError, check_port


def _port_in_time_wait() -> int:
    """A port nothing listens on, whose last connection the server side closed first (TIME_WAIT)."""
    with socket.socket() as listener:
        # As the stack's servers listen (allow_reuse_address): Linux lets a port be bound again over
        # TIME_WAIT only when both the old socket and the new one say so.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)) as client:
            served, _ = listener.accept()
            served.close()  # the active close: this end waits in TIME_WAIT once the client closes too
            assert client.recv(1) == b""
    return port


def test_a_port_whose_last_connections_linger_in_time_wait_is_free() -> None:
    port = _port_in_time_wait()
    with socket.socket() as plain, pytest.raises(OSError):
        plain.bind(("127.0.0.1", port))  # what the check did: refused for a minute after a stop

    check_port(port)

    # The stack's servers (LocalServer, ThreadingHTTPServer) do listen there.
    ThreadingHTTPServer(("127.0.0.1", port), BaseHTTPRequestHandler).server_close()


def test_a_port_something_listens_on_is_refused() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        with pytest.raises(StackError, match=f"port {port} is in use: stop it"):
            check_port(port, "stop it")
