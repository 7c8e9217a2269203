"""Recording stand-ins for the endpoints the functions call."""

from __future__ import annotations

import json
import threading
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Self

import grpc
from google.cloud.workflows.executions_v1 import CreateExecutionRequest, Execution

from emulator.local_server import LocalServer, QuietHandler
from emulator.service import LocalService


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


class RecordingServer(LocalServer):
    """Records every request; answers from a script, then with ``default``."""

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


class _RecordingHandler(QuietHandler):
    def _handle(self) -> None:
        owner: RecordingServer = self.server.owner  # type: ignore[attr-defined]
        call = Call(self.command, self.path, dict(self.headers.items()), self.read_body())
        reply = owner.record(call)
        body = json.dumps(owner.answer(call, reply)).encode()
        self.reply(reply.status, body, headers=reply.headers)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle  # noqa: N815


class CallbackServer(RecordingServer):
    """Stands in for a workflow's callback endpoint."""

    handler_class = _RecordingHandler

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


class ExecutionsServer(LocalService):
    """Stands in for the Executions API's gRPC ``CreateExecution`` on 127.0.0.1."""

    SERVICE = "google.cloud.workflows.executions.v1.Executions"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[CreatedExecution] = []
        self._server: grpc.Server | None = None
        self._port = 0
        self.failure: Failure | None = None

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, the form ``WORKFLOWS_EMULATOR_HOST`` takes."""
        if self._server is None:
            raise RuntimeError("ExecutionsServer is not started")
        return f"127.0.0.1:{self._port}"

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

    def start(self) -> Self:
        """Start serving; returns self."""
        if self._server is not None:
            return self
        handler = grpc.method_handlers_generic_handler(
            self.SERVICE,
            {
                "CreateExecution": grpc.unary_unary_rpc_method_handler(
                    self._create_execution,
                    request_deserializer=CreateExecutionRequest.deserialize,
                    response_serializer=Execution.serialize,
                )
            },
        )
        server = grpc.server(ThreadPoolExecutor(max_workers=4), handlers=[handler])
        self._port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        self._server = server
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        server, self._server = self._server, None
        if server is not None:
            server.stop(grace=None).wait(timeout=5)
