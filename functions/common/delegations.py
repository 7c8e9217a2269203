"""Approvers' delegations (one document per delegator): who stands in for whom, and when."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from common import config, firestore

if TYPE_CHECKING:
    from google.cloud.firestore import Transaction


def lookup(people: Iterable[str], transaction: Transaction | None = None) -> dict[str, dict[str, Any]]:
    """delegator e-mail (lower-case) -> their stored delegation, for those of ``people`` who have one."""
    collection = firestore.client().collection(config.delegations_collection())
    refs = [collection.document(person.lower()) for person in people]
    if not refs:
        return {}
    snapshots = transaction.get_all(refs) if transaction is not None else firestore.client().get_all(refs)
    return {s.id: s.to_dict() or {} for s in snapshots if s.exists}


def in_force(delegation: Mapping[str, Any], now: datetime) -> bool:
    """Whether ``delegation`` covers ``now`` (its start included, its end not)."""
    starts_at, ends_at = delegation.get("starts_at"), delegation.get("ends_at")
    return isinstance(starts_at, datetime) and isinstance(ends_at, datetime) and starts_at <= now < ends_at
