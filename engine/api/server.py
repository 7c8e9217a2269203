"""The engine over HTTP on loopback: callback endpoints and the Executions REST API.

Paths and JSON follow Google's `workflowexecutions.googleapis.com/v1`
("REST Resource: projects.locations.workflows.executions"): an Execution has
name, startTime, endTime, duration, state, argument and result (JSON text),
error {payload, context}, workflowRevisionId. Callback URLs created by the
engine point here once the server has started.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Self

from approvals.engine.api.access import AccessDenied, authorization_of
from approvals.engine.api.local_server import LocalServer, QuietHandler
from approvals.engine.runtime import values
from approvals.engine.runtime.engine import (
    CallbackRequest,
    Engine,
    EngineError,
    FailedPreconditionError,
    NotFoundError,
)
from approvals.engine.runtime.errors import WorkflowError, describe
from approvals.engine.runtime.store import SUCCEEDED, CallbackRecord, ExecutionRecord

_WORKFLOW = r"^/v1/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/workflows/(?P<workflow>[^/]+)"
_EXECUTION = _WORKFLOW + r"/executions/(?P<execution>[^/:]+)"
ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(_WORKFLOW + r"/executions\Z"), "list_executions"),
    ("POST", re.compile(_WORKFLOW + r"/executions\Z"), "create_execution"),
    ("GET", re.compile(_EXECUTION + r"\Z"), "get_execution"),
    ("POST", re.compile(_EXECUTION + r":cancel\Z"), "cancel_execution"),
    ("GET", re.compile(_EXECUTION + r"/callbacks\Z"), "list_callbacks"),
    ("*", re.compile(_EXECUTION + r"/callbacks/(?P<callback>[^/]+)\Z"), "callback"),
]

# Google's list defaults to the BASIC view, get to FULL ("ExecutionView").
BASIC_FIELDS = ("name", "startTime", "endTime", "duration", "state", "workflowRevisionId")


class BadRequestError(EngineError):
    """The request itself is malformed (INVALID_ARGUMENT)."""


def timestamp(seconds: float) -> str:
    """RFC 3339 UTC with microseconds, as Google's JSON timestamps."""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def execution_name(engine: Engine, record: ExecutionRecord) -> str:
    return (
        f"projects/{engine.project}/locations/{engine.location}/workflows/{record.workflow}"
        f"/executions/{record.id}"
    )


def execution_json(engine: Engine, record: ExecutionRecord, view: str = "FULL") -> dict[str, Any]:
    """The REST representation of an execution (also what grpc_api turns into a proto)."""
    body: dict[str, Any] = {
        "name": execution_name(engine, record),
        "startTime": timestamp(record.start_time),
        "state": record.state,
        "workflowRevisionId": record.revision,
        "argument": values.json_text(record.argument),
        "callLogLevel": "CALL_LOG_LEVEL_UNSPECIFIED",
    }
    if record.end_time is not None:
        body["endTime"] = timestamp(record.end_time)
        body["duration"] = f"{max(0.0, record.end_time - record.start_time):.6f}s"
    if record.state == SUCCEEDED:
        body["result"] = values.json_text(record.result)
    elif record.error is not None:
        # "The value is only present if the execution's state is FAILED or CANCELLED."
        body["error"] = {"payload": values.json_text(record.error), "context": describe(record.error)}
    if view == "BASIC":
        return {key: body[key] for key in BASIC_FIELDS if key in body}
    return body


def callback_json(engine: Engine, record: ExecutionRecord, callback: CallbackRecord) -> dict[str, Any]:
    """A Callback of "callbacks.list": name, method, availablePayloads, waiters."""
    return {
        "name": f"{execution_name(engine, record)}/callbacks/{callback.id}",
        "method": callback.method,
        "availablePayloads": [] if callback.request is None else [values.json_text(callback.request)],
        "waiters": "1" if callback.waiting else "0",
    }


def parse_argument(text: str | None) -> Any:
    """An execution argument: JSON text ("Input parameters of the execution represented as a JSON string")."""
    if not text:
        return None
    try:
        return values.from_json(json.loads(text))
    except (ValueError, WorkflowError) as error:
        raise BadRequestError(f"argument is not valid JSON: {error}") from error


class _Api:
    """One request's view of the engine; each method answers (status, JSON body)."""

    def __init__(self, engine: Engine, params: dict[str, str], query: dict[str, list[str]]) -> None:
        self.engine = engine
        self.params = params
        self.query = query

    def _check_parent(self) -> None:
        project, location = self.params["project"], self.params["location"]
        if (
            project not in (self.engine.project, self.engine.project_number)
            or location != self.engine.location
        ):
            raise NotFoundError(f"projects/{project}/locations/{location} is not served here")

    def _execution(self) -> ExecutionRecord:
        self._check_parent()
        record = self.engine.get(self.params["execution"])
        if record.workflow != self.params["workflow"]:
            raise NotFoundError(f"execution {record.id} is not an execution of {self.params['workflow']}")
        return record

    def _view(self, default: str) -> str:
        return (self.query.get("view") or [default])[0]

    def list_executions(self, body: bytes) -> tuple[int, Any]:
        self._check_parent()
        self.engine.workflow(self.params["workflow"])
        records = self.engine.list(self.params["workflow"])
        view = self._view("BASIC")
        return 200, {"executions": [execution_json(self.engine, r, view) for r in records]}

    def create_execution(self, body: bytes) -> tuple[int, Any]:
        self._check_parent()
        try:
            execution = json.loads(body or b"{}")
        except ValueError as error:
            raise BadRequestError(f"the body is not JSON: {error}") from error
        argument = parse_argument(execution.get("argument") if isinstance(execution, dict) else None)
        record = self.engine.start(self.params["workflow"], argument)
        return 200, execution_json(self.engine, record)

    def get_execution(self, body: bytes) -> tuple[int, Any]:
        return 200, execution_json(self.engine, self._execution(), self._view("FULL"))

    def cancel_execution(self, body: bytes) -> tuple[int, Any]:
        record = self.engine.cancel(self._execution().id)
        return 200, execution_json(self.engine, record)

    def list_callbacks(self, body: bytes) -> tuple[int, Any]:
        record = self._execution()
        callbacks = self.engine.list_callbacks(record.id)
        return 200, {"callbacks": [callback_json(self.engine, record, c) for c in callbacks]}


# The IAM permission each call of the Executions API needs (Workflows access control).
PERMISSIONS = {
    "list_executions": "workflows.executions.list",
    "create_execution": "workflows.executions.create",
    "get_execution": "workflows.executions.get",
    "cancel_execution": "workflows.executions.cancel",
    "list_callbacks": "workflows.executions.get",
}


def _error(code: int, status: str, message: str) -> tuple[int, Any]:
    return code, {"error": {"code": code, "message": message, "status": status}}


class _Handler(QuietHandler):
    def _handle(self) -> None:
        engine: Engine = self.server.owner.engine  # type: ignore[attr-defined]
        parts = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        body = self.read_body()
        status, answer = self._route(engine, parts.path, query, body)
        self.reply(status, json.dumps(answer).encode())

    def _route(self, engine: Engine, path: str, query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        known_path = False
        for method, pattern, name in ROUTES:
            match = pattern.match(path)
            if match is None:
                continue
            known_path = True
            if name == "callback":
                request = CallbackRequest(self.command, path, query, dict(self.headers.items()), body)
                return engine.receive_callback(match["execution"], match["callback"], request)
            if method != self.command:
                continue
            action: Callable[[bytes], tuple[int, Any]] = getattr(_Api(engine, match.groupdict(), query), name)
            try:
                engine.authorize(authorization_of(dict(self.headers.items())), PERMISSIONS[name])
                return action(body)
            except AccessDenied as denied:
                return _error(denied.status, denied.status_name, str(denied))
            except NotFoundError as error:
                return _error(404, "NOT_FOUND", str(error))
            except FailedPreconditionError as error:
                return _error(400, "FAILED_PRECONDITION", str(error))
            except BadRequestError as error:
                return _error(400, "INVALID_ARGUMENT", str(error))
        if known_path:
            return _error(405, "METHOD_NOT_ALLOWED", f"{self.command} is not allowed here")
        return _error(404, "NOT_FOUND", f"no such resource: {path}")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle  # noqa: N815


class WorkflowsServer(LocalServer):
    """Serves `engine` on a free (or the given) 127.0.0.1 port; the engine's callback URLs point here."""

    handler_class = _Handler

    def __init__(self, engine: Engine, port: int | None = None) -> None:
        super().__init__(port)
        self.engine = engine

    def start(self) -> Self:
        super().start()
        if self.engine.base_url is None:
            self.engine.base_url = self.url
        return self
