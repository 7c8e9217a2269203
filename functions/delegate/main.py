"""delegate: an approver hands their votes to someone else for a while, or takes them back.

Setting or deleting a delegation restamps the approver's pending requests with
who stands in for their approvers, in the same transaction, so that the
delegation and what the page shows of it land together or not at all. A new
delegation also starts the platform's delegation timer, a workflow that
announces its start and end on the events topic, when notify restamps again:
the stamps, and with them the delegate's read access, follow the delegation's
period, which the security rules cannot check in a list query.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import flask
import functions_framework

from common import auth, config, delegations, executions, firestore, times
from common.responses import HttpError, bad_gateway, json_endpoint, request_json

if TYPE_CHECKING:
    from google.cloud.firestore import Transaction

MAX_DURATION = timedelta(days=90)
# The stored delegation's timer execution, cancelled when the delegation is replaced or deleted.
TIMER_FIELD = "timer_execution"
# The timer's execution must outlive the delegation, and Workflows ends any execution at one year.
MAX_LEAD = timedelta(days=180)
# Deliberately simple: the address only has to be the one the delegate signs in with.
_EMAIL = re.compile(r"[^@\s/]+@[^@\s/]+\.[^@\s/]+")

logger = logging.getLogger(__name__)


def _instant(body: dict[str, Any], field: str, problems: list[str]) -> datetime | None:
    """``body[field]`` as an aware datetime; notes a problem when it is not ISO 8601 with an offset."""
    utc = times.parse(body.get(field))
    if utc is None:
        problems.append(f"{field}: must be an ISO 8601 date and time with a time zone")
        return None
    # Milliseconds, as the API shows it and the timer announces it: a stored end a few
    # microseconds past the announced one would still be in force when the timer fires.
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


def _parse(body: dict[str, Any], delegator: str, now: datetime) -> dict[str, Any]:
    """The delegation to store, or a 400 listing every problem."""
    problems = [f"{f}: is not allowed" for f in sorted(set(body) - {"delegate", "starts_at", "ends_at"})]
    delegate = body.get("delegate")
    delegate = delegate.lower() if isinstance(delegate, str) else ""
    if not _EMAIL.fullmatch(delegate):
        problems.append("delegate: must be an e-mail address")
    elif delegate == delegator:
        problems.append("delegate: must be someone else")
    starts_at = _instant(body, "starts_at", problems) if "starts_at" in body else now
    ends_at = _instant(body, "ends_at", problems)
    if starts_at and ends_at:
        if ends_at <= starts_at:
            problems.append("ends_at: must be after starts_at")
        elif ends_at - starts_at > MAX_DURATION:
            problems.append(f"ends_at: a delegation may last at most {MAX_DURATION.days} days")
        if starts_at - now > MAX_LEAD:
            problems.append(f"starts_at: may be at most {MAX_LEAD.days} days ahead")
    if problems:
        raise HttpError(400, "invalid delegation", problems)
    return {
        "delegator": delegator,
        "delegate": delegate,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "created_at": now,
    }


def _json(delegation: dict[str, Any]) -> dict[str, Any]:
    """A stored delegation as the API shows it: timestamps as ISO 8601 text, no timer."""
    return {
        key: times.rfc3339(value) if isinstance(value, datetime) else value
        for key, value in delegation.items()
        if key != TIMER_FIELD
    }


def _start_timer(delegation: dict[str, Any], now: datetime) -> str | None:
    """Start the workflow that announces the delegation's start (if ahead) and its end;
    the execution's name (None when the platform configured no timer).

    Before the delegation is stored: a timer whose delegation never lands only
    restamps to what is already true, while a delegation without its timer would
    leave its delegate reading requests after it ends.
    """
    workflow = config.delegation_timer_workflow()
    if not workflow:
        logger.error("no delegation timer configured: stamps change only at the next restamp")
        return None
    moments = [("delegation_started", delegation["starts_at"]), ("delegation_ended", delegation["ends_at"])]
    argument = {
        "delegator": delegation["delegator"],
        "moments": [{"event": e, "at": times.rfc3339(at)} for e, at in moments if at > now],
    }
    try:
        return executions.start(workflow, argument)
    except executions.ExecutionsError as exc:
        raise bad_gateway("could not schedule the delegation's end", f"{workflow}: {exc}") from exc


def _stop_timer(execution_name: Any) -> None:
    """Cancel a replaced or deleted delegation's timer, so that sleeping timers do not pile up
    (they count against the project's concurrent executions, approvals' too).

    Best effort: one that cannot be cancelled (it has ended, say) only restamps to what
    is stored when it fires.
    """
    if not isinstance(execution_name, str) or not execution_name:
        return
    try:
        executions.cancel(execution_name)
    except executions.ExecutionsError as exc:
        logger.warning("the delegation timer %s was not cancelled: %s", execution_name, exc)


def _change(delegator: str, stored: dict[str, Any] | None, now: datetime) -> bool:
    """Store (or with None, delete) ``delegator``'s delegation and restamp their pending
    requests, together or not at all; then stop the timer of the delegation replaced.
    Returns whether a delegation existed.
    """
    mine = firestore.client().collection(config.delegations_collection()).document(delegator)

    def change(transaction: Transaction, found: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
        previous = mine.get(transaction=transaction)
        if stored is None:
            found.pop(delegator, None)
            transaction.delete(mine)
        else:
            found[delegator] = stored
            # One delegation per delegator: a new one replaces the old.
            transaction.set(mine, stored)
        return (previous.to_dict() or {}) if previous.exists else None

    replaced = delegations.restamp_delegators_requests(
        delegator, now, change, busy="your pending requests are changing right now; try again"
    )
    if replaced is not None:
        _stop_timer(replaced.get(TIMER_FIELD))
    return replaced is not None


@functions_framework.http
@json_endpoint("GET", "POST", "DELETE")
def delegate(request: flask.Request) -> dict[str, Any]:
    """GET -> {delegation, delegated_to_me}; POST {delegate, ends_at, starts_at?}; DELETE -> {deleted}."""
    caller = auth.authenticate(request)
    now = times.now()
    if request.method == "POST":
        stored = _parse(request_json(request), caller.email, now)
        timer = _start_timer(stored, now)
        if timer is not None:
            stored[TIMER_FIELD] = timer
        _change(caller.email, stored, now)
        return _json(stored)
    if request.method == "DELETE":
        return {"deleted": _change(caller.email, None, now)}
    from google.cloud.firestore import FieldFilter

    collection = firestore.client().collection(config.delegations_collection())
    mine = collection.document(caller.email)
    # Ended ones are history; the ones not yet started are shown so the delegate can prepare.
    found = [
        s.to_dict() or {}
        for s in collection.where(filter=FieldFilter("delegate", "==", caller.email)).stream()
    ]
    to_me = [_json(d) for d in found if d.get("ends_at", now) > now]
    snapshot = mine.get()
    return {
        "delegation": _json(snapshot.to_dict() or {}) if snapshot.exists else None,
        "delegated_to_me": sorted(to_me, key=lambda d: d["delegator"]),
    }
