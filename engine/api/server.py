"""The engine over HTTP on loopback: callback endpoints and the Executions REST API.

Paths and JSON follow Google's `workflowexecutions.googleapis.com/v1`
("REST Resource: projects.locations.workflows.executions"): an Execution has
name, startTime, endTime, duration, state, argument and result (JSON text),
error {payload, context}, workflowRevisionId. Callback URLs created by the
engine point here: the server listens on the port of the engine's base URL.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from approvals.engine.api.access import Access, AccessDenied, check_caller
from approvals.engine.api.local_server import LocalServer, QuietHandler, free_port
from approvals.engine.runtime import values
from approvals.engine.runtime.engine import (
    CallbackFullError,
    CallbackRequest,
    Engine,
    EngineError,
    FailedPreconditionError,
    MethodNotAllowedError,
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


# The HTTP status and Google's status name each refusal answers with.
REFUSALS: dict[type[Exception], tuple[int, str]] = {
    NotFoundError: (404, "NOT_FOUND"),
    FailedPreconditionError: (400, "FAILED_PRECONDITION"),
    BadRequestError: (400, "INVALID_ARGUMENT"),
    # The docs do not say; 405 is what HTTP means by "wrong method for this resource".
    MethodNotAllowedError: (405, "METHOD_NOT_ALLOWED"),
    CallbackFullError: (429, "RESOURCE_EXHAUSTED"),
}


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
        return values.parse_json(text)
    except (ValueError, WorkflowError) as error:
        raise BadRequestError(f"argument is not valid JSON: {error}") from error


# executions.list: "Max supported value depends on the selected Execution view: it's 10000
# for BASIC and 100 for FULL. The default value used if the field is not specified is 100 ...
# Values greater than the max value will be coerced down to it."
MAX_PAGE_SIZES = {"BASIC": 10_000, "FULL": 100}
DEFAULT_PAGE_SIZE = 100


def page(
    records: list[ExecutionRecord], view: str, size: int, token: str
) -> tuple[list[ExecutionRecord], str]:
    """One page of `records` and the token of the next ("" after the last); BadRequestError for
    a token this server did not hand out. A token is the offset of the page's first record."""
    size = min(size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZES[view])
    if token and not (token.isdigit() and int(token) <= len(records)):
        raise BadRequestError(f"invalid page token {token[:40]!r}")
    start = int(token or 0)
    end = start + size
    return records[start:end], str(end) if end < len(records) else ""


# The fields of an Execution ("REST Resource: projects.locations.workflows.executions"); a
# create reads only `argument`, and Google's JSON reader refuses any other name.
EXECUTION_FIELDS = frozenset(
    {
        "name",
        "startTime",
        "endTime",
        "duration",
        "state",
        "argument",
        "result",
        "error",
        "workflowRevisionId",
        "callLogLevel",
        "status",
        "labels",
        "stateError",
        "disableConcurrencyQuotaOverflowBuffering",
        "executionHistoryLevel",
    }
)


def execution_body(body: bytes) -> dict[str, Any]:
    """The Execution a create sends: a JSON object of Execution fields whose argument is text."""
    try:
        execution = json.loads(body or b"{}")
    except (ValueError, RecursionError) as error:
        reason = "it nests too deeply" if isinstance(error, RecursionError) else error
        raise BadRequestError(f"Invalid JSON payload received: {reason}") from error
    if not isinstance(execution, dict):
        raise BadRequestError("Invalid JSON payload received. Expected an object (an Execution)")
    for name in execution:
        # The JSON mapping of a proto field takes its lowerCamelCase name or its own.
        camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)
        if camel not in EXECUTION_FIELDS:
            raise BadRequestError(f"Invalid JSON payload received. Unknown name {name!r} at 'execution'")
    argument = execution.get("argument")
    if argument is not None and not isinstance(argument, str):
        raise BadRequestError(
            "Invalid value at 'execution.argument' (TYPE_STRING): the argument is JSON text, "
            f"such as {json.dumps(json.dumps(argument))[:60]}"
        )
    return execution


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
        view = (self.query.get("view") or [default])[0]
        if view == "EXECUTION_VIEW_UNSPECIFIED":
            return default
        if view not in ("BASIC", "FULL"):
            # Google's words for an enum value it does not know.
            raise BadRequestError(f"Invalid value at 'view' (ExecutionView), {view!r}")
        return view

    def list_executions(self, body: bytes) -> tuple[int, Any]:
        self._check_parent()
        self.engine.workflow(self.params["workflow"])
        view = self._view("BASIC")
        size = (self.query.get("pageSize") or ["0"])[0]
        if not size.isdigit():
            raise BadRequestError(f"Invalid value at 'page_size' (TYPE_INT32), {size!r}")
        token = (self.query.get("pageToken") or [""])[0]
        records, next_token = page(self.engine.list(self.params["workflow"]), view, int(size), token)
        answer: dict[str, Any] = {"executions": [execution_json(self.engine, r, view) for r in records]}
        if next_token:
            answer["nextPageToken"] = next_token
        return 200, answer

    def create_execution(self, body: bytes) -> tuple[int, Any]:
        self._check_parent()
        argument = parse_argument(execution_body(body).get("argument"))
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


class _Handler(QuietHandler):
    def _handle(self) -> None:
        owner: WorkflowsServer = self.server.owner  # type: ignore[attr-defined]
        parts = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        body = self.read_body()
        try:
            status, answer = self._route(owner, parts.path, query, body)
        except AccessDenied as denied:
            self.reply_error(denied.status, denied.status_name, str(denied))
        except tuple(REFUSALS) as refused:
            code, status_name = REFUSALS[type(refused)]
            self.reply_error(code, status_name, str(refused))
        else:
            self.reply(status, json.dumps(answer).encode())

    def _route(
        self, owner: WorkflowsServer, path: str, query: dict[str, list[str]], body: bytes
    ) -> tuple[int, Any]:
        """(status, JSON body) of a request the engine accepts; its refusals are exceptions."""
        engine, headers = owner.engine, dict(self.headers.items())
        known_path = False
        for method, pattern, name in ROUTES:
            match = pattern.match(path)
            if match is None:
                continue
            known_path = True
            if name == "callback":
                check_caller(owner.access, headers, "workflows.callbacks.send", token_required=True)
                request = CallbackRequest(self.command, path, query, headers, body)
                engine.receive_callback(match["execution"], match["callback"], request)
                return 200, {}
            if method != self.command:
                continue
            check_caller(owner.access, headers, PERMISSIONS[name], token_required=False)
            action: Callable[[bytes], tuple[int, Any]] = getattr(_Api(engine, match.groupdict(), query), name)
            return action(body)
        if known_path:
            raise MethodNotAllowedError(f"{self.command} is not allowed here")
        raise NotFoundError(f"no such resource: {path}")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle  # noqa: N815


class WorkflowsServer(LocalServer):
    """Serves `engine` on 127.0.0.1: on `port`, else on the port of the engine's base URL, where
    its callback URLs point, else on a free one.

    `access` says who may call back and use the Executions API; None: any bearer token may
    call back, and anyone may use the API.
    """

    handler_class = _Handler

    def __init__(self, engine: Engine, port: int | None = None, *, access: Access | None = None) -> None:
        super().__init__(port if port is not None else loopback_port(engine.base_url))
        self.engine = engine
        self.access = access


def loopback_url(port: int | None = None) -> str:
    """A base URL on 127.0.0.1 for an engine whose server is not started yet (a free port by default)."""
    return f"http://127.0.0.1:{free_port() if port is None else port}"


def loopback_port(base_url: str | None) -> int | None:
    """The port of a 127.0.0.1 base URL, None for any other."""
    parts = urllib.parse.urlsplit(base_url or "")
    return parts.port if parts.hostname == "127.0.0.1" else None
