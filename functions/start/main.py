"""start: validates a request and starts the registered workflow for the caller."""

from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any

import flask
import functions_framework

from common import auth, config, documents, executions, firestore, requesters, schema, times
from common.responses import HttpError, bad_gateway, post_json_endpoint, request_json

RESERVED_INPUT_FIELDS = ("request_id", "requester")
_WORKFLOW_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}\Z")
_WORKFLOW_NAME = re.compile(r"^projects/[A-Za-z0-9_.:-]+/locations/[A-Za-z0-9-]+/workflows/[A-Za-z0-9_-]+\Z")

logger = logging.getLogger(__name__)


def _parse(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    unknown = sorted(set(body) - {"workflow", "input"})
    if unknown:
        raise HttpError(400, "unexpected fields", [f"{f}: is not allowed" for f in unknown])
    key = body.get("workflow")
    if not isinstance(key, str) or not _WORKFLOW_KEY.match(key):
        raise HttpError(400, "workflow must be a workflow key")
    given = body.get("input", {})
    if not isinstance(given, dict):
        raise HttpError(400, "input must be a JSON object")
    return key, given


@dataclass(frozen=True)
class Registration:
    """What ``pulumi up`` registered for a workflow key."""

    workflow_name: str
    input_schema: dict[str, Any]
    requesters: list[str]
    max_pending: int

    @property
    def workflow_id(self) -> str:
        return self.workflow_name.rsplit("/", 1)[-1]


def _registry_entry(key: str) -> Registration:
    """The registered workflow, or a 404 (500 when the entry is malformed)."""
    snapshot = firestore.client().collection(config.workflows_collection()).document(key).get()
    if not snapshot.exists:
        raise HttpError(404, f"unknown workflow {key}")
    entry = documents.read("workflow", snapshot)
    try:
        registration = Registration(
            workflow_name=entry["workflow_name"],
            input_schema=json.loads(entry["input_schema"]),
            requesters=json.loads(entry["requesters"]),
            max_pending=entry["max_pending_per_requester"],
        )
    except (KeyError, TypeError, ValueError):
        registration = None
    if (
        registration is None
        or not isinstance(registration.workflow_name, str)
        or not _WORKFLOW_NAME.match(registration.workflow_name)
        or not isinstance(registration.input_schema, dict)
        or not isinstance(registration.requesters, list)
        or not all(isinstance(r, str) for r in registration.requesters)
        or isinstance(registration.max_pending, bool)
        or not isinstance(registration.max_pending, int)
    ):
        # An entry from before requesters existed, too: nobody may ask until `pulumi up` rewrites it.
        logger.error("registry entry %s is malformed: %r", key, entry)
        raise HttpError(500, f"workflow {key} is misconfigured")
    return registration


def _check_input(key: str, given: dict[str, Any], input_schema: dict[str, Any]) -> None:
    """400 listing every way ``given`` breaks the workflow's input schema."""
    problems = [f"{field}: is set by the server" for field in RESERVED_INPUT_FIELDS if field in given]
    try:
        problems += schema.validate(given, input_schema)
    except schema.SchemaError as exc:
        logger.error("input schema of %s is unsupported: %s", key, exc)
        raise HttpError(500, f"workflow {key} is misconfigured") from exc
    if problems:
        raise HttpError(400, "invalid input", problems)


@functions_framework.http
@post_json_endpoint
def start(request: flask.Request) -> dict[str, Any]:
    """POST {workflow, input} -> {workflow, execution, execution_id, request_id}."""
    # People send Firebase ID tokens; pipelines a service account's Google ID token for start's URL.
    caller = auth.authenticate(request, service_accounts=True)
    key, given = _parse(request_json(request))
    registration = _registry_entry(key)
    requesters.check_may_ask(caller.email, registration.requesters)
    _check_input(key, given, registration.input_schema)
    request_id = uuid.uuid4().hex
    workflow_id = registration.workflow_id
    requesters.reserve(caller.email, workflow_id, request_id, registration.max_pending, times.now())
    argument = {**given, "request_id": request_id, "requester": caller.email}
    try:
        execution = executions.start(registration.workflow_name, argument)
    except executions.ExecutionsError as exc:
        requesters.release(caller.email, workflow_id, request_id)
        raise bad_gateway("could not start the workflow", f"{registration.workflow_name}: {exc}") from exc
    logger.info("%s (%s token) started %s for %s", caller.email, caller.source, execution, request_id)
    return {
        "workflow": key,
        "execution": execution,
        "execution_id": execution.rsplit("/", 1)[-1],
        "request_id": request_id,
    }
