"""delegate: an approver hands their votes to someone else for a while, or takes them back."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import flask
import functions_framework

from common import auth, config, firestore, times
from common.responses import HttpError, json_endpoint, request_json

MAX_DURATION = timedelta(days=90)
# Deliberately simple: the address only has to be the one the delegate signs in with.
_EMAIL = re.compile(r"^[^@\s/]+@[^@\s/]+\.[^@\s/]+$")


def _instant(body: dict[str, Any], field: str, problems: list[str]) -> datetime | None:
    """``body[field]`` as an aware datetime; notes a problem when it is not ISO 8601 with an offset."""
    value = body.get(field)
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        problems.append(f"{field}: must be an ISO 8601 date and time with a time zone")
        return None
    return moment.astimezone(UTC)


def _parse(body: dict[str, Any], delegator: str, now: datetime) -> dict[str, Any]:
    """The delegation to store, or a 400 listing every problem."""
    problems = [f"{f}: is not allowed" for f in sorted(set(body) - {"delegate", "starts_at", "ends_at"})]
    delegate = body.get("delegate")
    delegate = delegate.lower() if isinstance(delegate, str) else ""
    if not _EMAIL.match(delegate):
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
    """A stored delegation with its timestamps as ISO 8601 text."""
    return {
        key: times.rfc3339(value) if isinstance(value, datetime) else value
        for key, value in delegation.items()
    }


@functions_framework.http
@json_endpoint("GET", "POST", "DELETE")
def delegate(request: flask.Request) -> dict[str, Any]:
    """GET -> {delegation, delegated_to_me}; POST {delegate, ends_at, starts_at?}; DELETE -> {deleted}."""
    caller = auth.authenticate(request)
    delegations = firestore.client().collection(config.delegations_collection())
    mine = delegations.document(caller.email)
    now = datetime.now(UTC)
    if request.method == "POST":
        stored = _parse(request_json(request), caller.email, now)
        # One delegation per delegator: a new one replaces the old.
        mine.set(stored)
        return _json(stored)
    if request.method == "DELETE":
        existed = mine.get().exists
        mine.delete()
        return {"deleted": existed}
    from google.cloud.firestore import FieldFilter

    # Ended ones are history; the ones not yet started are shown so the delegate can prepare.
    found = [
        s.to_dict() or {}
        for s in delegations.where(filter=FieldFilter("delegate", "==", caller.email)).stream()
    ]
    to_me = [_json(d) for d in found if d.get("ends_at", now) > now]
    snapshot = mine.get()
    return {
        "delegation": _json(snapshot.to_dict() or {}) if snapshot.exists else None,
        "delegated_to_me": sorted(to_me, key=lambda d: d["delegator"]),
    }
