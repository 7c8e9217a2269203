"""Starting, cancelling and watching workflow executions with google-cloud-workflows' ExecutionsClient.

Production uses the client's defaults (Google's endpoint, application default
credentials). With ``WORKFLOWS_EMULATOR_GRPC_HOST`` set the client talks gRPC to that
host over a plain channel, each call carrying the function's own token from its
metadata server (as the client's credentials would); every call is otherwise the same.
The client is imported on first use so cold starts that never start an
execution do not pay for loading gRPC.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from common import config, metadata

if TYPE_CHECKING:
    from google.cloud.workflows.executions_v1 import ExecutionsClient

# Creating and cancelling only record a state change; anything slower means trouble.
TIMEOUT_SECONDS = 30.0
_EXECUTION_NAME = re.compile(
    r"^projects/[A-Za-z0-9_.:-]+/locations/[A-Za-z0-9-]+/workflows/[A-Za-z0-9_-]+/executions/[A-Za-z0-9_-]+\Z"
)


class ExecutionsError(RuntimeError):
    """The Executions API did not start (or cancel) the execution."""


@functools.cache
def _client() -> ExecutionsClient:
    """The production client, or one on a plain channel to the local stand-in."""
    from google.cloud.workflows.executions_v1 import ExecutionsClient

    host = config.workflows_emulator_grpc_host()
    if not host:
        return ExecutionsClient()
    import grpc
    from google.cloud.workflows.executions_v1.services.executions.transports import (
        ExecutionsGrpcTransport,
    )

    return ExecutionsClient(transport=ExecutionsGrpcTransport(channel=grpc.insecure_channel(host)))


@contextlib.contextmanager
def _api_errors() -> Iterator[None]:
    """The client's failures, as ExecutionsError."""
    from google.api_core import exceptions as api_exceptions
    from google.auth import exceptions as auth_exceptions

    try:
        yield
    except api_exceptions.GoogleAPICallError as exc:
        # UNAVAILABLE (connection refused, DNS, TLS) arrives here too.
        code = exc.grpc_status_code.name if exc.grpc_status_code else exc.code
        raise ExecutionsError(f"{code}: {exc.message}") from exc
    except api_exceptions.RetryError as exc:
        raise ExecutionsError(f"gave up retrying: {exc.cause or exc.message}") from exc
    except auth_exceptions.GoogleAuthError as exc:
        raise ExecutionsError(f"no credentials for the Executions API: {exc}") from exc


def _local_credentials() -> list[tuple[str, str]]:
    """The call metadata the local stand-in needs: this function's own token, which the
    client's plain channel cannot attach (in production the client's credentials do).
    """
    if not config.workflows_emulator_grpc_host():
        return []
    try:
        return [("authorization", f"Bearer {metadata.access_token()}")]
    except metadata.MetadataError as exc:
        raise ExecutionsError(f"no token for the Executions API: {exc}") from exc


def start(workflow_name: str, argument: Mapping[str, Any]) -> str:
    """Start ``workflow_name`` with ``argument``; returns the execution's name."""
    from google.cloud.workflows.executions_v1 import Execution

    with _api_errors():
        execution = _client().create_execution(
            parent=workflow_name,
            execution=Execution(argument=json.dumps(argument)),
            timeout=TIMEOUT_SECONDS,
            metadata=_local_credentials(),
        )
    name = execution.name
    if not name.startswith(f"{workflow_name}/executions/") or name.endswith("/"):
        raise ExecutionsError(f"unexpected execution name {name!r}")
    return name


def cancel(execution_name: str) -> None:
    """Cancel the ACTIVE execution ``execution_name`` (it ends CANCELLED)."""
    if not _EXECUTION_NAME.match(execution_name):
        raise ExecutionsError(f"not an execution name: {execution_name!r}")
    with _api_errors():
        _client().cancel_execution(
            name=execution_name, timeout=TIMEOUT_SECONDS, metadata=_local_credentials()
        )


def state(execution_name: str) -> str:
    """The execution's state: ACTIVE until it ends SUCCEEDED, FAILED or CANCELLED."""
    if not _EXECUTION_NAME.match(execution_name):
        raise ExecutionsError(f"not an execution name: {execution_name!r}")
    with _api_errors():
        execution = _client().get_execution(
            name=execution_name, timeout=TIMEOUT_SECONDS, metadata=_local_credentials()
        )
    return execution.state.name
