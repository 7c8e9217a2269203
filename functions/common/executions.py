"""Starting workflow executions with google-cloud-workflows' ExecutionsClient.

Production uses the client's defaults (Google's endpoint, application default
credentials). With ``WORKFLOWS_EMULATOR_GRPC_HOST`` set the client talks gRPC to that
host over a plain channel without credentials; every call is otherwise the same.
The client is imported on first use so cold starts that never start an
execution do not pay for loading gRPC.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from common import config

if TYPE_CHECKING:
    from google.cloud.workflows.executions_v1 import ExecutionsClient

# CreateExecution only queues the execution; anything slower means trouble.
TIMEOUT_SECONDS = 30.0


class ExecutionsError(RuntimeError):
    """The Executions API did not start the execution."""


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


def start(workflow_name: str, argument: Mapping[str, Any]) -> str:
    """Start ``workflow_name`` with ``argument``; returns the execution's name."""
    from google.api_core import exceptions as api_exceptions
    from google.auth import exceptions as auth_exceptions
    from google.cloud.workflows.executions_v1 import Execution

    try:
        execution = _client().create_execution(
            parent=workflow_name,
            execution=Execution(argument=json.dumps(argument)),
            timeout=TIMEOUT_SECONDS,
        )
    except api_exceptions.GoogleAPICallError as exc:
        # UNAVAILABLE (connection refused, DNS, TLS) arrives here too.
        code = exc.grpc_status_code.name if exc.grpc_status_code else exc.code
        raise ExecutionsError(f"{code}: {exc.message}") from exc
    except api_exceptions.RetryError as exc:
        raise ExecutionsError(f"gave up retrying: {exc.cause or exc.message}") from exc
    except auth_exceptions.GoogleAuthError as exc:
        raise ExecutionsError(f"no credentials for the Executions API: {exc}") from exc
    name = execution.name
    if not name.startswith(f"{workflow_name}/executions/") or name.endswith("/"):
        raise ExecutionsError(f"unexpected execution name {name!r}")
    return name
