"""Helpers for calling a function as a signed-in client, and for requests the functions act on."""

from __future__ import annotations

from typing import Any

import requests
from google.cloud import firestore

from approvals.emulator.functions import FunctionServer
from tests.support import seed
from tests.support.servers import CallbackServer


def call(
    function: FunctionServer, method: str, token: str | None, body: Any = None, **kwargs: Any
) -> requests.Response:
    """`method` the function's root with a JSON body and, given a token, a bearer token."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, f"{function.url}/", json=body, headers=headers, timeout=30, **kwargs)


def post(function: FunctionServer, body: Any, token: str | None, **kwargs: Any) -> requests.Response:
    """POST `body` as JSON to the function's root, with `token` as the bearer token if given."""
    return call(function, "POST", token, body, **kwargs)


def pending(db: firestore.Client, callback_server: CallbackServer, approvers: list[str], **kw: Any) -> str:
    """A pending request whose callback goes to `callback_server`; its id."""
    return seed.request(db, approvers=approvers, callback_url=callback_server.url_for("placeholder"), **kw)
