"""JSON responses, the error type handlers raise to produce one, and the status of each refusal
the data layer raises (common.errors): the one place that maps them."""

from __future__ import annotations

import functools
import json
import logging
import re
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import flask

from common import errors, inputs

_SAFE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}

# Far above any decision, and above the 32 KiB a workflow argument may have.
MAX_BODY_BYTES = 64 * 1024
MAX_REQUEST_ID_LENGTH = 128
_REQUEST_ID = re.compile(rf"[A-Za-z0-9][A-Za-z0-9_.-]{{0,{MAX_REQUEST_ID_LENGTH - 1}}}")

logger = logging.getLogger(__name__)


class HttpError(Exception):
    """An answer other than success: becomes ``{"error", "details"?}``."""

    def __init__(self, status: int, reason: str, details: Sequence[str] | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.details = list(details) if details else []


def bad_gateway(what: str, detail: object) -> HttpError:
    """A 502 saying ``what`` failed, with an incident id; ``detail`` goes to the log only.

    Upstream errors name callback URLs, projects and permissions: the caller
    needs none of it, and support finds it in the log by the incident id.
    """
    incident = uuid.uuid4().hex[:12]
    logger.error("%s (incident %s): %s", what, incident, detail)
    return HttpError(502, f"{what} (incident {incident})")


# The data layer's refusals, and the status each answers with.
_STATUSES: dict[type[errors.DomainError], int] = {
    errors.NotFoundError: 404,
    errors.NotAllowedError: 403,
    errors.ConflictError: 409,
    errors.LimitReachedError: 429,
    errors.UnavailableError: 503,
}


def http_error(error: HttpError | errors.DomainError) -> HttpError:
    """The answer to ``error``: a handler's own HttpError as it is, a refusal by its kind."""
    if isinstance(error, HttpError):
        return error
    if isinstance(error, errors.UpstreamError):
        return bad_gateway(error.reason, error.detail)
    return HttpError(_STATUSES[type(error)], error.reason, error.details)


def json_response(status: int, body: dict[str, Any]) -> flask.Response:
    """``body`` as a JSON response that is never cached."""
    return flask.Response(
        json.dumps(body),
        status=status,
        mimetype="application/json",
        headers=_SAFE_HEADERS,
    )


def error_response(error: HttpError) -> flask.Response:
    """The JSON body of ``error``."""
    body: dict[str, Any] = {"error": error.reason}
    if error.details:
        body["details"] = error.details
    return json_response(error.status, body)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def request_body(request: flask.Request) -> bytes:
    """The raw request body, or a 413 when it is larger than MAX_BODY_BYTES."""
    # Content-Length can be absent or lie (chunked uploads): check both.
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise HttpError(413, "body is too large")
    data = request.get_data(cache=False)
    if len(data) > MAX_BODY_BYTES:
        raise HttpError(413, "body is too large")
    return data


def request_json(request: flask.Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 (413 when too large)."""
    data = request_body(request)
    try:
        # NaN and Infinity would pass range checks and then break the
        # JSON handed to the workflow.
        body = json.loads(data or b"null", parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HttpError(400, "body is not valid JSON") from exc
    except RecursionError as exc:
        raise HttpError(400, "body is nested too deeply") from exc
    if not isinstance(body, dict):
        raise HttpError(400, "body must be a JSON object")
    try:
        inputs.check_value(body, "")
    except inputs.InputError as exc:
        raise HttpError(400, f"{exc.field} cannot be accepted", [str(exc)]) from exc
    return body


def json_endpoint(
    *methods: str,
) -> Callable[[Callable[[flask.Request], dict[str, Any]]], Callable[[flask.Request], flask.Response]]:
    """Wrap a handler of ``methods`` so every outcome, even a crash, answers JSON."""

    def wrap(handler: Callable[[flask.Request], dict[str, Any]]) -> Callable[[flask.Request], flask.Response]:
        @functools.wraps(handler)
        def endpoint(request: flask.Request) -> flask.Response:
            if request.method not in methods:
                response = error_response(HttpError(405, "method not allowed"))
                response.headers["Allow"] = ", ".join(methods)
                return response
            try:
                return json_response(200, handler(request))
            except (HttpError, errors.DomainError) as error:
                return error_response(http_error(error))
            except Exception:
                logger.exception("unhandled error in %s", handler.__name__)
                return error_response(HttpError(500, "internal error"))

        return endpoint

    return wrap


def is_request_id(value: Any) -> bool:
    """Whether a body's ``request_id`` can name a request document.

    Firestore refuses the ids ``.``, ``..`` and ``__*__`` with an error; the
    workflows make ids of letters, digits, ``-`` and ``_`` (a uuid, then a stage
    name), so anything else names no request.
    """
    return isinstance(value, str) and _REQUEST_ID.fullmatch(value) is not None


# What most functions are: one POST with a JSON body.
post_json_endpoint = json_endpoint("POST")
