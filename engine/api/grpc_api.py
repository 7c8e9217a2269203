"""The engine as the Executions gRPC service that google-cloud-workflows' ExecutionsClient speaks.

The client has only a gRPC transport, so the start function reaches the
engine here (`WORKFLOWS_EMULATOR_GRPC_HOST`). Executions are shaped once, as
REST JSON (server.execution_json), and parsed into the proto-plus message,
so both APIs always agree.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import grpc
from google.cloud.workflows.executions_v1 import (
    CancelExecutionRequest,
    CreateExecutionRequest,
    Execution,
    ExecutionView,
    GetExecutionRequest,
    ListExecutionsRequest,
    ListExecutionsResponse,
)

from approvals.engine.api.access import Access, AccessDenied, check_caller
from approvals.engine.api.grpc_server import GrpcServer, unary
from approvals.engine.api.server import BadRequestError, execution_json, page, parse_argument
from approvals.engine.runtime.engine import Engine, FailedPreconditionError, NotFoundError
from approvals.engine.runtime.store import ExecutionRecord

_STATUS = {
    NotFoundError: grpc.StatusCode.NOT_FOUND,
    FailedPreconditionError: grpc.StatusCode.FAILED_PRECONDITION,
    BadRequestError: grpc.StatusCode.INVALID_ARGUMENT,
}


def _parse(name: str, engine: Engine, *, execution: bool) -> dict[str, str]:
    """The parts of `projects/P/locations/L/workflows/W[/executions/E]`, checked against the engine."""
    parts = name.split("/")
    expected = ["projects", None, "locations", None, "workflows", None] + (
        ["executions", None] if execution else []
    )
    if len(parts) != len(expected) or any(
        e is not None and p != e for p, e in zip(parts, expected, strict=True)
    ):
        raise BadRequestError(f"malformed resource name {name!r}")
    if parts[1] not in (engine.project, engine.project_number) or parts[3] != engine.location:
        raise NotFoundError(f"projects/{parts[1]}/locations/{parts[3]} is not served here")
    found = {"workflow": parts[5]}
    if execution:
        found["execution"] = parts[7]
    return found


def _view(value: int, default: str) -> str:
    return default if value == ExecutionView.EXECUTION_VIEW_UNSPECIFIED else ExecutionView(value).name


class ExecutionsService(GrpcServer):
    """`google.cloud.workflows.executions.v1.Executions` on 127.0.0.1, backed by `engine`."""

    service = "google.cloud.workflows.executions.v1.Executions"

    def __init__(self, engine: Engine, port: int | None = None, *, access: Access | None = None) -> None:
        super().__init__(port=port)
        self.engine = engine
        self.access = access  # who may use the API; None: anyone

    def methods(self) -> dict[str, grpc.RpcMethodHandler]:
        return {
            "CreateExecution": unary(
                self._guard(self._create, "workflows.executions.create"), CreateExecutionRequest, Execution
            ),
            "GetExecution": unary(
                self._guard(self._get, "workflows.executions.get"), GetExecutionRequest, Execution
            ),
            "ListExecutions": unary(
                self._guard(self._list, "workflows.executions.list"),
                ListExecutionsRequest,
                ListExecutionsResponse,
            ),
            "CancelExecution": unary(
                self._guard(self._cancel, "workflows.executions.cancel"), CancelExecutionRequest, Execution
            ),
        }

    def _guard(
        self, method: Callable[[Any], Any], permission: str
    ) -> Callable[[Any, grpc.ServicerContext], Any]:
        """The caller's token must carry ``permission``; engine refusals become gRPC status codes."""

        def handle(request: Any, context: grpc.ServicerContext) -> Any:
            metadata = {key: value for key, value in context.invocation_metadata() if isinstance(value, str)}
            try:
                check_caller(self.access, metadata, permission, token_required=False)
            except AccessDenied as denied:
                context.abort(grpc.StatusCode[denied.status_name], str(denied))
            try:
                return method(request)
            except tuple(_STATUS) as error:
                context.abort(_STATUS[type(error)], str(error))

        return handle

    def _message(self, record: ExecutionRecord, view: str = "FULL") -> Execution:
        return Execution.from_json(
            json.dumps(execution_json(self.engine, record, view)), ignore_unknown_fields=True
        )

    def _execution(self, name: str) -> ExecutionRecord:
        parts = _parse(name, self.engine, execution=True)
        record = self.engine.get(parts["execution"])
        if record.workflow != parts["workflow"]:
            raise NotFoundError(f"{name} not found")
        return record

    def _create(self, request: CreateExecutionRequest) -> Execution:
        workflow = _parse(request.parent, self.engine, execution=False)["workflow"]
        record = self.engine.start(workflow, parse_argument(request.execution.argument))
        return self._message(record)

    def _get(self, request: GetExecutionRequest) -> Execution:
        return self._message(self._execution(request.name), _view(request.view, "FULL"))

    def _list(self, request: ListExecutionsRequest) -> ListExecutionsResponse:
        workflow = _parse(request.parent, self.engine, execution=False)["workflow"]
        self.engine.workflow(workflow)
        view = _view(request.view, "BASIC")
        if request.page_size < 0:
            raise BadRequestError(f"page_size must not be negative, got {request.page_size}")
        records, token = page(self.engine.list(workflow), view, request.page_size, request.page_token)
        return ListExecutionsResponse(
            executions=[self._message(r, view) for r in records], next_page_token=token
        )

    def _cancel(self, request: CancelExecutionRequest) -> Execution:
        return self._message(self.engine.cancel(self._execution(request.name).id))
