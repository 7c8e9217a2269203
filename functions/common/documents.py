"""Documents as the contract declares them (contract.json's `documents`).

The workflows write the request, vote and callback documents that the functions
read, in another language: a field renamed on one side only would read as absent,
silently. So the functions read those documents through `read`, and a read of a
field the contract does not declare raises at once, in the tests that run every
flow, instead of deciding on a missing value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .contract import DOCUMENT_FIELDS

if TYPE_CHECKING:
    from google.cloud.firestore import DocumentSnapshot


class UndeclaredFieldError(RuntimeError):
    """Code read or wrote a field that the contract does not declare for that document.

    Not a KeyError: a caller that handles a missing field must not mistake a bug for one."""


def check(kind: str, fields: Mapping[str, Any]) -> Mapping[str, Any]:
    """`fields` as they are, once each is declared for a `kind` document; for writes."""
    undeclared = sorted(set(fields) - DOCUMENT_FIELDS[kind])
    if undeclared:
        raise UndeclaredFieldError(f"{kind} documents have no fields {undeclared} in contract.json")
    return fields


class Document(dict[str, Any]):
    """A document's data; reading a field its kind does not declare raises UndeclaredFieldError."""

    def __init__(self, kind: str, data: Mapping[str, Any]) -> None:
        super().__init__(data)
        self.kind = kind
        self._declared = DOCUMENT_FIELDS[kind]

    def _check(self, key: object) -> None:
        if key not in self._declared:
            raise UndeclaredFieldError(f"{self.kind} documents have no field {key!r} in contract.json")

    def __getitem__(self, key: str) -> Any:
        self._check(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._check(key)
        return super().__contains__(key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self._check(key)
        return super().get(key, default)


def read(kind: str, snapshot: DocumentSnapshot) -> Document:
    """A snapshot's data as a `kind` document (empty when it does not exist)."""
    return Document(kind, snapshot.to_dict() or {})
