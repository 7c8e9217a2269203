"""Approver groups: who is in `group:NAME`, as the platform stores it from its declared groups.

ID tokens carry no groups, and a `groups` claim is never read: membership is one
document per member e-mail (``{groups: [...]}``), written by ``pulumi up`` from the
stack's config. It is read only where a `group:` approver has to be matched.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from common import config, firestore

if TYPE_CHECKING:
    from google.cloud.firestore import Transaction

GROUP_PREFIX = "group:"
# Firestore's limit on the values of one array-contains-any filter.
MAX_ANY_VALUES = 30


def group_names(approvers: Iterable[Any]) -> list[str]:
    """The NAMEs of the ``group:NAME`` entries among ``approvers``, lower-case, once each and in order."""
    return list(
        dict.fromkeys(
            a[len(GROUP_PREFIX) :].lower()
            for a in approvers
            if isinstance(a, str) and a.lower().startswith(GROUP_PREFIX)
        )
    )


def groups_of(email: str, transaction: Transaction | None = None) -> frozenset[str]:
    """The groups ``email`` (lower-case) is declared a member of: one document read."""
    if "/" in email:
        return frozenset()  # not a document id, and no declared member has one
    snapshot = (
        firestore.client().collection(config.memberships_collection()).document(email).get(transaction=transaction)
    )
    groups = (snapshot.to_dict() or {}).get("groups") if snapshot.exists else None
    if not isinstance(groups, list):
        return frozenset()
    return frozenset(g.lower() for g in groups if isinstance(g, str) and g)


def matching(approvers: Sequence[Any], email: str, transaction: Transaction | None = None) -> list[str]:
    """The ``approvers`` entries naming ``email`` (lower-case), as written there: the address itself,
    or a group of theirs. The membership is read only when a group is among the approvers.
    """
    groups = groups_of(email, transaction) if group_names(approvers) else frozenset()
    mine = {email} | {GROUP_PREFIX + g for g in groups}
    return [a for a in approvers if isinstance(a, str) and a.lower() in mine]


def members_of(groups: Sequence[str]) -> list[str]:
    """The e-mails of everyone in any of ``groups``, sorted: one query (per 30 groups, Firestore's limit)."""
    from google.cloud.firestore import FieldFilter

    collection = firestore.client().collection(config.memberships_collection())
    members: set[str] = set()
    for start in range(0, len(groups), MAX_ANY_VALUES):
        chunk = list(groups[start : start + MAX_ANY_VALUES])
        query = collection.where(filter=FieldFilter("groups", "array_contains_any", chunk))
        members.update(snapshot.id for snapshot in query.stream())
    return sorted(members)
