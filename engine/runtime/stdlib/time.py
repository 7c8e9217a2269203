"""time: seconds since the epoch <-> RFC 3339 text.

time.format returns "A timestamp string in ISO 8601 format, up to a microsecond
precision. For example: "2024-01-10T16:15:54.615087Z""; its `timezone` is "A
timezone name from the tz database ... If not specified or if an empty string,
the default is UTC."
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from approvals.engine.runtime.effects import Host
from approvals.engine.runtime.errors import VALUE_ERROR, WorkflowError
from approvals.engine.runtime.stdlib.base import Param, pure, want, want_number

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _zone(timezone: Any) -> Any:
    name = want("time.format", "timezone", timezone, str, "a string") if timezone is not None else ""
    if name in ("", "UTC", "Etc/UTC"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise WorkflowError.tagged(VALUE_ERROR, f"time.format: unknown timezone {name!r}") from None


def format_seconds(seconds: float, timezone: Any = None) -> str:
    """RFC 3339 text for `seconds`: always six fractional digits, "Z" for a zero offset, else the
    zone's offset, as the reference's examples show (UTC and "GMT": "2024-07-12T12:50:33.000000Z";
    "Europe/Paris": "2024-07-12T14:50:33.000000+02:00")."""
    moment = (_EPOCH + timedelta(seconds=seconds)).astimezone(_zone(timezone))
    text = moment.isoformat(timespec="microseconds")
    return text[:-6] + "Z" if moment.utcoffset() == timedelta(0) else text


def _format(host: Host, seconds: Any, timezone: Any) -> str:
    number = want_number("time.format", "seconds", seconds)
    try:
        return format_seconds(number, timezone)
    except (OverflowError, ValueError):
        # Python's dates end at the years 1 and 9999, as RFC 3339's four-digit years do.
        raise WorkflowError.tagged(
            VALUE_ERROR, f"time.format: {number} seconds is not a moment between the years 1 and 9999"
        ) from None


def parse_timestamp(function: str, arg: str, value: Any, form: str = "ISO 8601") -> float:
    """Seconds since the epoch for ISO 8601 text `value`, argument `arg` of `function` (time.parse,
    sys.sleep_until); an offset (or "Z") is required, as without one the moment is unknown."""
    text = want(function, arg, value, str, "a string")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise WorkflowError.tagged(VALUE_ERROR, f"{function}: {text!r} is not an {form} timestamp") from None
    if moment.tzinfo is None:
        raise WorkflowError.tagged(VALUE_ERROR, f"{function}: {text!r} has no timezone offset")
    return (moment - _EPOCH).total_seconds()


# RFC 3339 section 5.6's date-time: "T" and "Z" "may alternatively be lower case" (its NOTE), a
# numeric offset has its colon, seconds are required. ISO 8601's other forms (20240508T120100Z,
# week dates, 12:01Z), which Python's parser takes, are not RFC 3339.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII)


def _parse(host: Host, value: Any) -> float:
    # "ValueError: If time is not compatible with RFC 3339 section 5.6" (time.parse).
    text = want("time.parse", "value", value, str, "a string")
    if not _RFC3339.fullmatch(text):
        raise WorkflowError.tagged(VALUE_ERROR, f"time.parse: {text!r} is not an RFC 3339 timestamp")
    return parse_timestamp("time.parse", "value", text.upper(), "RFC 3339")


FUNCTIONS = (
    pure("time.format", _format, Param("seconds"), Param("timezone", None)),
    pure("time.parse", _parse, Param("value")),
)
