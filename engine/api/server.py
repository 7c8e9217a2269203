"""The engine over HTTP on loopback: callback endpoints and the Executions REST API.

Paths and JSON follow Google's `workflowexecutions.googleapis.com/v1`
("REST Resource: projects.locations.workflows.executions"): an Execution has
name, createTime, startTime, endTime, duration, state, argument and result (JSON
text), error {payload, context}, workflowRevisionId, callLogLevel, labels and
status. Callback URLs created by the engine point here: the server listens on
the port of the engine's base URL.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import urllib.parse
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from approvals.engine.api.access import Access, AccessDenied, check_caller
from approvals.engine.api.local_server import LocalServer, QuietHandler, free_port
from approvals.engine.api.query import QueryError, select
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
# executions.list: pageSize "is 100, regardless of the selected view" when unset, at most "1000 for
# BASIC and 100 for FULL"; callbacks.list: "The default value is 100 and is also the maximum value".
DEFAULT_PAGE_SIZE = 100
MAX_EXECUTIONS_PAGE = {"BASIC": 1000, "FULL": 100}

# Execution.CallLogLevel, the values an execution may be created with.
CALL_LOG_LEVELS = frozenset({"CALL_LOG_LEVEL_UNSPECIFIED", "LOG_ALL_CALLS", "LOG_ERRORS_ONLY", "LOG_NONE"})
# Execution.labels: "at most 64 entries. Keys and values can be no longer than 63 characters".
MAX_LABELS = 64
MAX_LABEL_LENGTH = 63

_Item = TypeVar("_Item")


class BadRequestError(EngineError):
    """The request itself is malformed (INVALID_ARGUMENT)."""


# The HTTP status and Google's status name each refusal answers with.
REFUSALS: dict[type[Exception], tuple[int, str]] = {
    NotFoundError: (404, "NOT_FOUND"),
    FailedPreconditionError: (400, "FAILED_PRECONDITION"),
    BadRequestError: (400, "INVALID_ARGUMENT"),
    QueryError: (400, "INVALID_ARGUMENT"),
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
        # Created and started at once: the engine has no backlog (no QUEUED state).
        "createTime": timestamp(record.start_time),
        "state": record.state,
        "workflowRevisionId": record.revision,
        "argument": values.json_text(record.argument),
        "callLogLevel": record.call_log_level or "CALL_LOG_LEVEL_UNSPECIFIED",
    }
    if record.labels:
        body["labels"] = record.labels
    if record.current_step is not None:
        # "Presently, if the current step is inside a subworkflow, the list only includes that step."
        routine, step = record.current_step
        body["status"] = {"currentSteps": [{"routine": routine, "step": step}]}
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
        "waiters": str(len(callback.waiters)),
    }


def page_of(
    items: Sequence[_Item], key: Callable[[_Item], str], size: int, token: str, maximum: int
) -> tuple[Sequence[_Item], str]:
    """The page of `items` that follows the one `token` ended with, and the next page's token ("": none).

    A token names the last item handed out rather than an offset, so that executions started
    between two calls do not shift the next page (the list is newest first).
    """
    if size < 0:
        raise BadRequestError("pageSize must not be negative")
    size = min(size or DEFAULT_PAGE_SIZE, maximum)
    start = 0
    if token:
        keys = [key(item) for item in items]
        try:
            start = keys.index(base64.urlsafe_b64decode(token.encode()).decode()) + 1
        except (ValueError, binascii.Error) as error:
            raise BadRequestError("the page token was not handed out by this list") from error
    page = items[start : start + size]
    more = start + size < len(items)
    return page, base64.urlsafe_b64encode(key(page[-1]).encode()).decode() if more else ""


def _label_text_ok(text: str) -> bool:
    # "only contain lowercase letters, numeric characters, underscores, and dashes ...
    # International characters are allowed": a letter without case (e.g. CJK) is not uppercase.
    return len(text) <= MAX_LABEL_LENGTH and all(
        c.isdigit() or c in "_-" or (c.isalpha() and not c.isupper()) for c in text
    )


def parse_labels(labels: Any) -> dict[str, str] | None:
    """An execution's labels, checked against the rules of Execution.labels (None: none given)."""
    if labels is None:
        return None
    if not isinstance(labels, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
    ):
        raise BadRequestError("labels must map strings to strings")
    if len(labels) > MAX_LABELS:
        raise BadRequestError(f"an execution has at most {MAX_LABELS} labels, not {len(labels)}")
    for key, value in labels.items():
        starts_with_letter = key[:1].isalpha() and not key[:1].isupper()
        if not (starts_with_letter and _label_text_ok(key) and _label_text_ok(value)):
            raise BadRequestError(
                f"label {key!r}: {value!r}: keys start with a lowercase letter; keys and values hold at"
                f" most {MAX_LABEL_LENGTH} lowercase letters, digits, underscores and dashes"
            )
    return labels


def parse_call_log_level(level: Any) -> str | None:
    """An execution's callLogLevel, one of Execution.CallLogLevel (None: none given)."""
    if level is None:
        return None
    if not isinstance(level, str) or level not in CALL_LOG_LEVELS:
        raise BadRequestError(f"callLogLevel must be one of {', '.join(sorted(CALL_LOG_LEVELS))}")
    return level


def parse_argument(text: str | None) -> Any:
    """An execution argument: JSON text ("Input parameters of the execution represented as a JSON string")."""
    if not text:
        return None
    try:
        return values.parse_json(text)
    except (ValueError, WorkflowError) as error:
        raise BadRequestError(f"argument is not valid JSON: {error}") from error


# The fields of an Execution ("REST Resource: projects.locations.workflows.executions"); a
# create reads `argument`, `labels` and `callLogLevel`, and Google's JSON reader refuses any
# other name.
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

    def _param(self, name: str, default: str = "") -> str:
        """A query parameter's (first) value."""
        return (self.query.get(name) or [default])[0]

    def _view(self, default: str) -> str:
        view = self._param("view", default)
        if view == "EXECUTION_VIEW_UNSPECIFIED":
            return default
        if view not in ("BASIC", "FULL"):
            # Google's words for an enum value it does not know.
            raise BadRequestError(f"Invalid value at 'view' (ExecutionView), {view!r}")
        return view

    def _page(
        self, items: Sequence[_Item], key: Callable[[_Item], str], maximum: int
    ) -> tuple[Sequence[_Item], dict[str, str]]:
        """One page as pageSize and pageToken ask, and the JSON fields it adds to the answer."""
        size = self._param("pageSize", "0")
        if not re.fullmatch(r"-?[0-9]+", size):  # not str.isdigit(), which takes "²"
            raise BadRequestError(f"pageSize is not an integer: {size!r}")
        page, token = page_of(items, key, int(size), self._param("pageToken"), maximum)
        return page, {"nextPageToken": token} if token else {}

    def list_executions(self, body: bytes) -> tuple[int, Any]:
        self._check_parent()
        self.engine.workflow(self.params["workflow"])
        view = self._view("BASIC")
        # What is not BASIC is shown FULL (execution_json), so it pages as FULL does.
        maximum = MAX_EXECUTIONS_PAGE.get(view, MAX_EXECUTIONS_PAGE["FULL"])
        records = select(
            self.engine.list(self.params["workflow"]), self._param("filter"), self._param("orderBy")
        )
        records, more = self._page(records, lambda r: r.id, maximum)
        return 200, {"executions": [execution_json(self.engine, r, view) for r in records], **more}

    def create_execution(self, body: bytes) -> tuple[int, Any]:
        self._check_parent()
        fields = execution_body(body)
        record = self.engine.start(
            self.params["workflow"],
            parse_argument(fields.get("argument")),
            labels=parse_labels(fields.get("labels")),
            call_log_level=parse_call_log_level(fields.get("callLogLevel")),
        )
        return 200, execution_json(self.engine, record)

    def get_execution(self, body: bytes) -> tuple[int, Any]:
        return 200, execution_json(self.engine, self._execution(), self._view("FULL"))

    def cancel_execution(self, body: bytes) -> tuple[int, Any]:
        record = self.engine.cancel(self._execution().id)
        return 200, execution_json(self.engine, record)

    def list_callbacks(self, body: bytes) -> tuple[int, Any]:
        record = self._execution()
        # "The returned callbacks are ordered by callback ID" (callbacks.list), not by creation.
        callbacks = sorted(self.engine.list_callbacks(record.id), key=lambda c: c.id)
        page, more = self._page(callbacks, lambda c: c.id, DEFAULT_PAGE_SIZE)
        return 200, {"callbacks": [callback_json(self.engine, record, c) for c in page], **more}


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
