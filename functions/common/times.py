"""Times as the functions store and send them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def now() -> datetime:
    """The current UTC time at millisecond precision.

    Firestore keeps milliseconds, so a value written now reads back equal,
    which is how an undo recognises the change it undoes.
    """
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def rfc3339(moment: datetime) -> str:
    """``2026-01-05T10:00:00.123Z``: the form of the times in callbacks, events and API answers."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse(value: Any) -> datetime | None:
    """ISO 8601 text with an offset as an aware UTC datetime; None for anything else.

    A time without an offset names no moment, and an offset can move a time near
    year 1 or 9999 past what a datetime holds.
    """
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        return moment.astimezone(UTC) if moment is not None and moment.tzinfo is not None else None
    except (ValueError, OverflowError):
        return None
