"""status: a request's status, outcome and decision, for its requester and its approvers.

GET /api/requests/{id}[?wait=SECONDS&since=VERSION]. With `wait`, the answer waits until the
status differs from the `version` the client last saw (or is final), for at most `wait`
seconds: a pipeline waiting for a decision asks again at once and costs one Firestore
listener per question, not one read a second.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

import flask
import functions_framework

from common import (
    auth,
    config,
    documents,
    executions,
    firestore,
    memberships,
    request_status,
    requesters,
    times,
)
from common.responses import HttpError, is_request_id, json_endpoint

if TYPE_CHECKING:
    from google.cloud.firestore import Query

# Firebase Hosting answers 60 s after a request at the latest, whatever the function would do.
MAX_WAIT_SECONDS = 50
# A request's last stage closes just before its execution ends: ask the Executions API that often.
EXECUTION_POLL_SECONDS, LONGEST_EXECUTION_POLL_SECONDS = 0.2, 5.0
_PATH = re.compile(r"^(?:/api/requests)?/([^/]+)/?\Z")
logger = logging.getLogger(__name__)


def _request_id(path: str) -> str:
    match = _PATH.match(path)
    if not match or not is_request_id(match[1]):
        raise HttpError(404, "no such request")
    return match[1]


def _wait_seconds(value: str | None) -> int:
    if value is None:
        return 0
    # str.isdigit would take "²", which int() refuses.
    if not re.fullmatch(r"[0-9]{1,2}", value) or int(value) > MAX_WAIT_SECONDS:
        problem = f"wait: must be a whole number of seconds, 0 to {MAX_WAIT_SECONDS}"
        raise HttpError(400, "invalid status query", [problem])
    return int(value)


def _stages_query(request_id: str) -> Query:
    """Every stage the workflow asked under the id start answered: one equality query, indexed."""
    from google.cloud.firestore import FieldFilter

    requests = firestore.client().collection(config.requests_collection())
    return requests.where(filter=FieldFilter("origin_request_id", "==", request_id))


def _stages(snapshots: Any) -> list[documents.Document]:
    stages = [documents.read("request", snapshot) for snapshot in snapshots]
    return sorted(
        stages, key=lambda stage: (str(stage.get("created_at") or ""), str(stage.get("stage") or ""))
    )


def _readable(stages: list[documents.Document], email: str) -> list[documents.Document]:
    """The stages `email` may read, as the Firestore rules would let them: each on its own."""
    groups = memberships.groups_of(email) if any(s.get("approver_groups") for s in stages) else frozenset()
    return [stage for stage in stages if request_status.may_read(stage, email, groups)]


def _started_by(request_id: str, email: str) -> datetime | None:
    """When `email` started `request_id` (start's record of it), or None: not theirs, or no start."""
    start = documents.read("start", requesters.start_record(request_id).get())
    if str(start.get("requester") or "").lower() != email:
        return None
    return start.get("started_at")


def _before_asking(request_id: str, email: str) -> dict[str, Any]:
    """The status of a request whose workflow has not written it yet: start answered before the
    workflow asks, so its requester may well ask first."""
    started_at = _started_by(request_id, email)
    if started_at is None:
        raise HttpError(404, "no such request")
    failed = times.now() - started_at >= requesters.START_GRACE
    return request_status.starting(request_id, started_at, failed)


def _execution_state(stages: list[documents.Document]) -> str | None:
    """The execution's state once every stage is closed; None before, or when the API fails."""
    if not all(stage.get("status") in request_status.CLOSED for stage in stages):
        return None
    try:
        return executions.state(str(stages[0].get("execution_name") or ""))
    except executions.ExecutionsError as exc:
        logger.warning("status of %s: %s", stages[0].get("execution_name"), exc)
        return None


def _wait_for_change(query: Query, seen: str, seconds: float) -> None:
    """Return when the stages' version differs from `seen`, or after `seconds`."""
    changed = threading.Event()

    def on_snapshot(snapshots: Any, _changes: Any, _read_at: Any) -> None:
        if request_status.version(_stages(snapshots)) != seen:
            changed.set()

    watch = query.on_snapshot(on_snapshot)
    try:
        changed.wait(seconds)
    finally:
        watch.unsubscribe()


def answer(request_id: str, email: str, wait: int, since: str | None) -> dict[str, Any]:
    """The request's status for `email`, once it differs from `since` or is final, or after `wait`."""
    deadline = time.monotonic() + wait
    query = _stages_query(request_id)
    pause = EXECUTION_POLL_SECONDS
    while True:
        stages = _stages(query.stream())
        state = None
        if not stages:
            body = _before_asking(request_id, email)
        # Whoever may not read the request learns nothing of it, not even that it exists.
        elif not (shown := _readable(stages, email)):
            raise HttpError(404, "no such request")
        else:
            state = _execution_state(stages)
            body = request_status.summary(request_id, stages, state, shown)
        left = deadline - time.monotonic()
        if body["final"] or body["version"] != since or left <= 0:
            return body
        if state == request_status.RUNNING:
            # The execution usually ends just after its last stage closes; one that goes on
            # (a deploy after its approval) is asked less and less often.
            time.sleep(min(pause, left))
            pause = min(pause * 2, LONGEST_EXECUTION_POLL_SECONDS)
        else:
            _wait_for_change(query, body["version"], left)


@functions_framework.http
@json_endpoint("GET")
def status(request: flask.Request) -> dict[str, Any]:
    """GET /api/requests/{id}?wait=&since= -> the request's status (see common/request_status.py)."""
    # A pipeline waits with the service-account token it asked with (its audience is start).
    caller = auth.authenticate(request, service_accounts=True)
    request_id = _request_id(request.path)
    return answer(
        request_id, caller.email, _wait_seconds(request.args.get("wait")), request.args.get("since")
    )
