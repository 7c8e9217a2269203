"""What every connector shares: where the local services are, and one REST call.

Connectors "handle the formatting of requests for you, providing methods and
arguments so that you don't need to know the details of a Google Cloud API"
(Understand connectors): path arguments fill the URL, `body` is the request
body, every other argument is a query parameter, as in the connectors
reference (`updateMask.fieldPaths`, `currentDocument.exists`, ...).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from approvals.engine.runtime import values
from approvals.engine.runtime.errors import (
    CONNECTION_ERROR,
    SYSTEM_ERROR,
    TYPE_ERROR,
    VALUE_ERROR,
    WorkflowError,
)
from approvals.engine.runtime.tokens import TokenSource

# Connectors reference, connector_params.timeout: "The default value is 1800".
DEFAULT_TIMEOUT = 1800.0
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class ConnectorSettings:
    """Where the connectors send their requests; None means "not available here"."""

    firestore_host: str | None = None  # FIRESTORE_EMULATOR_HOST form: "127.0.0.1:8080"
    translate_url: str | None = None  # base URL of a translation endpoint (emulator.translation)
    pubsub_host: str | None = None  # PUBSUB_EMULATOR_HOST form
    project: str = "local-project"  # the project the local stack stands for


@dataclass(frozen=True)
class Endpoint:
    """One REST method: the HTTP verb and the path under the service's base URL.

    `path` names its arguments in braces, e.g. "{parent}/{collectionId}".
    """

    verb: str
    path: str
    body: bool = False

    @property
    def path_args(self) -> tuple[str, ...]:
        return tuple(_PLACEHOLDER.findall(self.path))


def require(value: str | None, name: str, what: str) -> str:
    """`value`, or a clear error saying which local service is missing."""
    if not value:
        raise WorkflowError.tagged(
            SYSTEM_ERROR, f"{name}: no {what} is configured for the local engine, so it cannot run"
        )
    return value


def invoke(name: str, endpoint: Endpoint, base_url: str, args: Mapping[str, Any], tokens: TokenSource) -> Any:
    """Call `endpoint` with the connector `args`; the decoded response body or a WorkflowError."""
    # The HTTP client loads with the first call: deploying a workflow, or running one
    # that calls no connector, does not need it (`python -m emulator run` starts faster).
    from approvals.engine.runtime.http_client import access_token, with_query

    args = dict(args)
    params = connector_params(name, args.pop("connector_params", None))
    path = _fill(name, endpoint, args)
    body = args.pop("body", None)
    if body is not None and not endpoint.body:
        raise WorkflowError.tagged(TYPE_ERROR, f"{name}: takes no body")
    url = with_query(f"{base_url.rstrip('/')}/{path}", flatten(args))
    token = access_token(name, tokens, params.get("scopes"))
    return request(endpoint.verb, url, token=token, body=body, timeout=timeout(name, params))


# A connector method: (the step's args, where the services are, the workflow's tokens) -> its result.
Connector = Callable[[Mapping[str, Any], ConnectorSettings, TokenSource], Any]


def emulator_connectors(
    prefix: str,
    endpoints: Mapping[str, Endpoint],
    host: Callable[[ConnectorSettings], str | None],
    what: str,
    tokens: TokenSource | None = None,
) -> dict[str, Connector]:
    """One connector per `endpoints` method (named `prefix` + method) on an emulator's `/v1`.

    `host` picks the emulator's host:port from the settings; `tokens`, when given,
    replaces the workflow's own (an emulator's admin credential).
    """

    def call(
        name: str, endpoint: Endpoint, args: Mapping[str, Any], settings: ConnectorSettings, own: TokenSource
    ) -> Any:
        base = f"http://{require(host(settings), name, what)}/v1"
        return invoke(name, endpoint, base, args, tokens or own)

    return {
        prefix + method: partial(call, prefix + method, endpoint) for method, endpoint in endpoints.items()
    }


def request(verb: str, url: str, *, token: str, body: Any, timeout: float) -> Any:
    """One JSON request with a bearer token; the decoded response body.

    Connector reference pages: "ConnectionError In case of a network problem
    (such as DNS failure or refused connection)", "HttpError If the response
    status is >= 400 (excluding 429 and 503)". Connectors retry 429 and 503
    themselves on Google Cloud; this local engine does not retry, so those
    arrive as HttpError too.
    """
    from approvals.engine.runtime.http_client import encode_body, send

    headers = {"Authorization": f"Bearer {token}"}
    data = None if body is None else encode_body(body, headers)
    response = send(verb, url, headers=headers, body=data, timeout=timeout, refused_tag=CONNECTION_ERROR)
    return response.body


def flatten(args: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested maps as dotted query names: {updateMask: {fieldPaths: [...]}} -> updateMask.fieldPaths."""
    flat: dict[str, Any] = {}
    for key, value in args.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        elif value is not None:
            flat[f"{prefix}{key}"] = value
    return flat


def connector_params(name: str, params: Any) -> dict[str, Any]:
    """The `connector_params` map; only `timeout` and `scopes` matter here (nothing long-running to poll)."""
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise WorkflowError.tagged(TYPE_ERROR, f"{name}: connector_params must be a map")
    return params


def timeout(name: str, params: Mapping[str, Any]) -> float:
    """connector_params.timeout, in seconds."""
    seconds = params.get("timeout", DEFAULT_TIMEOUT)
    if not values.is_number(seconds) or seconds <= 0:
        raise WorkflowError.tagged(VALUE_ERROR, f"{name}: connector_params.timeout must be a positive number")
    return float(seconds)


def _fill(name: str, endpoint: Endpoint, args: dict[str, Any]) -> str:
    """The endpoint path with its arguments (taken out of `args`) URL-quoted in place."""
    path = endpoint.path
    for arg in endpoint.path_args:
        value = args.pop(arg, None)
        if not isinstance(value, str) or not value:
            raise WorkflowError.tagged(TYPE_ERROR, f"{name}: missing required string argument {arg}")
        path = path.replace(f"{{{arg}}}", urllib.parse.quote(value, safe="/"))
    return path
