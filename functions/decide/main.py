"""decide: records a signed-in approver's vote; the deciding vote is relayed to the workflow."""

from __future__ import annotations

from typing import Any

import flask
import functions_framework

from common import auth, tally, votes
from common.responses import HttpError, is_request_id, post_json_endpoint, request_json


def _parse(body: dict[str, Any]) -> tuple[str, str, str]:
    """The request id, outcome and comment, or a 400 listing every problem."""
    problems = [f"{f}: is not allowed" for f in sorted(set(body) - {"request_id", "outcome", "comment"})]
    request_id = body.get("request_id")
    if not is_request_id(request_id):
        problems.append("request_id: must be a request id")
    outcome = body.get("outcome")
    if outcome not in tally.OUTCOMES:
        problems.append(f"outcome: must be one of {list(tally.OUTCOMES)}")
    comment = body.get("comment", "")
    if not isinstance(comment, str) or len(comment) > votes.MAX_COMMENT_LENGTH:
        problems.append(f"comment: must be a string of at most {votes.MAX_COMMENT_LENGTH} characters")
    if problems:
        raise HttpError(400, "invalid decision", problems)
    return request_id, outcome, comment


@functions_framework.http
@post_json_endpoint
def decide(request: flask.Request) -> dict[str, Any]:
    """POST {request_id, outcome, comment?} -> {request_id, outcome, status, tally}."""
    caller = auth.authenticate(request)
    request_id, outcome, comment = _parse(request_json(request))
    return votes.cast(request_id, caller, outcome, comment, "firebase")
