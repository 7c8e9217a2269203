"""start: validates a request and starts the registered workflow for the caller."""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any

import flask
import functions_framework

from common import auth, config, executions, firestore, schema
from common.responses import HttpError, post_json_endpoint, request_json

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


def _registry_entry(key: str) -> tuple[str, dict[str, Any]]:
    """The registered workflow's full name and input schema, or a 404."""
    snapshot = firestore.client().collection(config.workflows_collection()).document(key).get()
    if not snapshot.exists:
        raise HttpError(404, f"unknown workflow {key}")
    entry = snapshot.to_dict() or {}
    name = entry.get("workflow_name")
    try:
        input_schema = json.loads(entry.get("input_schema") or "")
    except (TypeError, ValueError):
        input_schema = None
    if not isinstance(name, str) or not _WORKFLOW_NAME.match(name) or not isinstance(input_schema, dict):
        logger.error("registry entry %s is malformed: %r", key, entry)
        raise HttpError(500, f"workflow {key} is misconfigured")
    return name, input_schema


def _check_input(key: str, given: dict[str, Any], input_schema: dict[str, Any]) -> None:
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
    caller = auth.authenticate(request)
    key, given = _parse(request_json(request))
    workflow_name, input_schema = _registry_entry(key)
    _check_input(key, given, input_schema)
    request_id = uuid.uuid4().hex
    argument = {**given, "request_id": request_id, "requester": caller.email}
    try:
        execution = executions.start(workflow_name, argument)
    except executions.ExecutionsError as exc:
        logger.error("cannot start %s: %s", workflow_name, exc)
        raise HttpError(502, f"could not start the workflow: {exc}") from exc
    logger.info("%s started %s for %s", caller.email, execution, request_id)
    return {
        "workflow": key,
        "execution": execution,
        "execution_id": execution.rsplit("/", 1)[-1],
        "request_id": request_id,
    }
