"""Appends to the append-only audit trail (approval_audit)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from common import config, firestore

if TYPE_CHECKING:
    from google.cloud.firestore import Transaction


def record(
    request_id: str,
    event: str,
    actor: str,
    details: Mapping[str, Any],
    *,
    transaction: Transaction | None = None,
    at: datetime | None = None,
) -> None:
    """Append one event; inside ``transaction`` it commits (or not) with the change it explains."""
    entry = {
        "request_id": request_id,
        "event": event,
        "actor": actor,
        "details": dict(details),
        "at": at or datetime.now(UTC),
    }
    # An auto id per attempt: a retried transaction never appends twice.
    ref = firestore.client().collection(config.audit_collection()).document()
    if transaction is None:
        ref.create(entry)
    else:
        transaction.create(ref, entry)
