"""delegate: an approver hands their votes to someone else for a while, or takes them back.

Setting or deleting a delegation restamps the approver's pending requests with
who stands in for their approvers, in the same transaction, so that the
delegation and what the page shows of it land together or not at all.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import flask
import functions_framework

from common import auth, config, delegations, firestore, times
from common.responses import HttpError, json_endpoint, request_json

if TYPE_CHECKING:
    from google.cloud.firestore import Transaction

MAX_DURATION = timedelta(days=90)
# Deliberately simple: the address only has to be the one the delegate signs in with.
_EMAIL = re.compile(r"[^@\s/]+@[^@\s/]+\.[^@\s/]+")


def _instant(body: dict[str, Any], field: str, problems: list[str]) -> datetime | None:
    """``body[field]`` as an aware datetime; notes a problem when it is not ISO 8601 with an offset."""
    value = body.get(field)
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        # An offset can move a time near year 1 or 9999 past what a datetime holds.
        utc = moment.astimezone(UTC) if moment is not None and moment.tzinfo is not None else None
    except (ValueError, OverflowError):
        utc = None
    if utc is None:
        problems.append(f"{field}: must be an ISO 8601 date and time with a time zone")
    return utc


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


def _change(delegator: str, stored: dict[str, Any] | None, now: datetime) -> bool:
    """Store (or with None, delete) ``delegator``'s delegation and restamp their pending requests.

    One transaction: the pending requests and their approvers' delegations are
    read in it, so a request decided or a delegation changed meanwhile retries
    it rather than leaving stale stamps. The query runs before it, so that the
    transaction locks those requests only, not every request the workflows
    write; one created since is stamped by notify. Returns whether a
    delegation existed.
    """
    from google.cloud.firestore import FieldFilter

    client = firestore.client()
    mine = client.collection(config.delegations_collection()).document(delegator)
    # The page's inbox asks the same (approvers, status) of its own index.
    pending = (
        client.collection(config.requests_collection())
        .where(filter=FieldFilter("approvers", "array_contains", delegator))
        .where(filter=FieldFilter("status", "==", "pending"))
    )

    candidates = [snapshot.reference for snapshot in pending.stream()]

    def change(transaction: Transaction) -> bool:
        existed = mine.get(transaction=transaction).exists
        requests = list(transaction.get_all(candidates)) if candidates else []
        approvers = [a for r in requests for a in (r.to_dict() or {}).get("approvers") or ()]
        # Their other approvers' delegations too: a request's stamps name everyone standing in.
        found = delegations.lookup(filter(delegations.is_email, approvers), transaction)
        if stored is None:
            found.pop(delegator, None)
            transaction.delete(mine)
        else:
            found[delegator] = stored
            # One delegation per delegator: a new one replaces the old.
            transaction.set(mine, stored)
        delegations.restamp(transaction, requests, now, found)
        return existed

    return firestore.run_transaction(
        delegator, change, busy="your pending requests are changing right now; try again"
    )


@functions_framework.http
@json_endpoint("GET", "POST", "DELETE")
def delegate(request: flask.Request) -> dict[str, Any]:
    """GET -> {delegation, delegated_to_me}; POST {delegate, ends_at, starts_at?}; DELETE -> {deleted}."""
    caller = auth.authenticate(request)
    now = datetime.now(UTC)
    if request.method == "POST":
        stored = _parse(request_json(request), caller.email, now)
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
