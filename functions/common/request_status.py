"""What a request's status API answers, from its stages' documents: pure rules, no I/O.

A request is what `start` answered with: one request document per stage the
workflow asked (a chain asks several, each carrying the start's id as its
`origin_request_id`). It is final only when every stage is closed and the
execution has ended, since a chain opens its next stage after the previous one
is approved.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from common import times

CLOSED = frozenset({"approved", "rejected", "expired", "cancelled"})
# What the Executions API calls an execution that has not ended.
RUNNING = "ACTIVE"


def may_read(stage: Mapping[str, Any], email: str, groups: Iterable[str]) -> bool:
    """Whoever the Firestore rules let read the request: its requester, approvers (by e-mail or
    group) and the delegates standing in for them."""
    approver_groups = {str(g).lower() for g in stage.get("approver_groups") or ()}
    return (
        str(stage.get("requester") or "").lower() == email
        or email in (stage.get("approvers") or ())
        or email in (stage.get("delegates") or ())
        or bool(approver_groups & set(groups))
    )


def version(stages: Sequence[Mapping[str, Any]]) -> str:
    """A short digest of what the status shows: it changes exactly when the answer would."""
    shown = [_stage(stage) for stage in stages]
    return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()[:16]


def summary(
    request_id: str,
    stages: Sequence[Mapping[str, Any]],
    execution: str | None,
    shown: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The status API's body for `stages` (oldest first) and the execution's state (None: unknown).

    Whether it is final and its outcome come from every stage; who decided, their comments and
    the stages come from `shown` (default: all), the ones the caller may read: one stage's
    approver does not read another stage's decision."""
    shown = stages if shown is None else shown
    statuses = [str(stage.get("status") or "") for stage in stages]
    closed = all(status in CLOSED for status in statuses)
    final = closed and execution is not None and execution != RUNNING
    # The first stage that did not approve decides; a chain is approved when all of them did.
    outcome = next((s for s in statuses if s != "approved"), "approved") if final else None
    if final and execution not in ("SUCCEEDED", "CANCELLED") and outcome == "approved":
        outcome = "error"  # the workflow failed after its approvals
    last = shown[-1]
    decided = next((stage for stage in reversed(shown) if stage.get("decided_by")), None)
    return {
        "request_id": request_id,
        "status": outcome if final else "pending",
        "final": final,
        "outcome": outcome,
        "decided_by": decided.get("decided_by") if decided else None,
        "decided_at": _time(decided.get("decided_at")) if decided else None,
        "comment": decided.get("comment") if decided else None,
        "created_at": _time(shown[0].get("created_at")),
        "expires_at": _time(last.get("expires_at")),
        "version": version(stages),
        "stages": [_stage(stage) for stage in shown],
    }


def starting(request_id: str, started_at: Any, failed: bool) -> dict[str, Any]:
    """The body for a request start made whose workflow has not asked yet: pending, or, once the
    workflow should long have asked, an error (it failed before asking)."""
    outcome = "error" if failed else None
    return {
        "request_id": request_id,
        "status": outcome or "pending",
        "final": failed,
        "outcome": outcome,
        "decided_by": None,
        "decided_at": None,
        "comment": None,
        "created_at": _time(started_at),
        "expires_at": None,
        "version": version([]),
        "stages": [],
    }


def _stage(stage: Mapping[str, Any]) -> dict[str, Any]:
    tally = stage.get("tally") or {}
    return {
        "stage": stage.get("stage"),
        "status": stage.get("status"),
        "approvals": tally.get("approvals", 0),
        "rejections": tally.get("rejections", 0),
        "due_at": _time(stage.get("due_at")),
        "decided_by": stage.get("decided_by"),
        "decided_at": _time(stage.get("decided_at")),
        "comment": stage.get("comment"),
    }


def _time(value: Any) -> str | None:
    moment = value if isinstance(value, datetime) else times.parse(value)
    return times.rfc3339(moment) if moment else None
