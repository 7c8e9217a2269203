"""Recording stand-ins for the endpoints the functions call."""

from __future__ import annotations

import json
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.cloud.workflows.executions_v1 import CreateExecutionRequest, Execution

from approvals.engine.api.grpc_server import GrpcServer, unary
from approvals.engine.api.local_server import LocalServer, QuietHandler


@dataclass(frozen=True)
class Call:
    """One request a stand-in received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)


@dataclass(frozen=True)
class Reply:
    """A scripted answer."""

    status: int = 200
    body: Any = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


class _RecordingHandler(QuietHandler):
    def _handle(self) -> None:
        owner: RecordingServer = self.server.owner  # type: ignore[attr-defined]
        call = Call(self.command, self.path, dict(self.headers.items()), self.read_body())
        reply = owner.record(call)
        body = json.dumps(owner.answer(call, reply)).encode()
        self.reply(reply.status, body, headers=reply.headers)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle  # noqa: N815


class RecordingServer(LocalServer):
    """Records every request; answers from a script, then with ``default``."""

    handler_class = _RecordingHandler

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._script: deque[Reply] = deque()
        self.default = Reply()

    @property
    def calls(self) -> list[Call]:
        """What was received so far, oldest first."""
        with self._lock:
            return list(self._calls)

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with ``replies``, in order."""
        with self._lock:
            self._script.extend(replies)

    def reset(self) -> None:
        """Forget calls and script; answer 200 again."""
        with self._lock:
            self._calls.clear()
            self._script.clear()
        self.default = Reply()

    def record(self, call: Call) -> Reply:
        """Store ``call`` and pick the answer for it."""
        with self._lock:
            self._calls.append(call)
            return self._script.popleft() if self._script else self.default

    def answer(self, call: Call, reply: Reply) -> Any:
        """The JSON body to send for ``reply``; subclasses fill in defaults."""
        return reply.body


class CallbackServer(RecordingServer):
    """Stands in for a workflow's callback endpoint."""

    def url_for(self, request_id: str) -> str:
        """A callback URL shaped like the real ones."""
        return (
            f"{self.url}/v1/projects/123/locations/us-central1/workflows/wf/"
            f"executions/exec-1/callbacks/{request_id}"
        )


@dataclass(frozen=True)
class CreatedExecution:
    """One CreateExecution call the Executions stand-in received."""

    parent: str
    argument: Any
    metadata: dict[str, str]


@dataclass(frozen=True)
class Failure:
    """A gRPC status to answer with instead of an Execution."""

    code: grpc.StatusCode
    details: str


class ExecutionsServer(GrpcServer):
    """Stands in for the Executions API's gRPC ``CreateExecution`` on 127.0.0.1."""

    service = "google.cloud.workflows.executions.v1.Executions"

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._calls: list[CreatedExecution] = []
        self.failure: Failure | None = None

    @property
    def calls(self) -> list[CreatedExecution]:
        """What was received so far, oldest first."""
        with self._lock:
            return list(self._calls)

    def reset(self) -> None:
        """Forget calls; succeed again."""
        with self._lock:
            self._calls.clear()
        self.failure = None

    def methods(self) -> dict[str, grpc.RpcMethodHandler]:
        return {"CreateExecution": unary(self._create_execution, CreateExecutionRequest, Execution)}

    def _create_execution(self, request: CreateExecutionRequest, context: grpc.ServicerContext) -> Execution:
        call = CreatedExecution(
            parent=request.parent,
            argument=json.loads(request.execution.argument or "null"),
            metadata={key: value for key, value in context.invocation_metadata() if isinstance(value, str)},
        )
        with self._lock:
            self._calls.append(call)
        failure = self.failure
        if failure is not None:
            context.abort(failure.code, failure.details)
        return Execution(
            name=f"{request.parent}/executions/{uuid.uuid4()}",
            state=Execution.State.ACTIVE,
            argument=request.execution.argument,
        )
