"""sys: get_env, now and log go through the Host; sleep and sleep_until are blocking."""

from __future__ import annotations

from typing import Any

from approvals.engine.runtime.effects import Host
from approvals.engine.runtime.errors import TYPE_ERROR, VALUE_ERROR, WorkflowError
from approvals.engine.runtime.stdlib.base import Param, blocking, pure, want
from approvals.engine.runtime.stdlib.json import encode_text

# Cloud Logging severities accepted by sys.log.
# What sys.log's data and text take (bool is an int in Python: listed for the reader).
LOGGABLE = (int, float, bool, str, list, dict)
SEVERITIES = ("DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY")


def _get_env(host: Host, name: Any, default: Any) -> Any:
    # "TypeError: If either name or default is not a string" (sys.get_env); no default is null.
    value = host.env(want("sys.get_env", "name", name, str, "a string"))
    if default is not None:
        want("sys.get_env", "default", default, str, "a string")
    return default if value is None else value


def _now(host: Host) -> float:
    # "returns a floating point number with nanosecond precision" -- stdlib overview.
    return float(host.now())


def _log(host: Host, data: Any, severity: Any, text: Any, json: Any, timeout: Any) -> None:
    """sys.log reference: one of data, text (any loggable type, always text) or json (a map).

    "TypeError: if more than one of data, text, or json are specified; if none of
    data, text, or json are specified" and for a type the argument does not take.
    """
    severity = want("sys.log", "severity", severity, str, "a string").upper()
    if severity not in SEVERITIES:
        raise WorkflowError.tagged(VALUE_ERROR, f"sys.log: unknown severity {severity!r}")
    given = [name for name, value in (("data", data), ("text", text), ("json", json)) if value is not None]
    if len(given) != 1:
        found = " and ".join(given) or "none"
        raise WorkflowError.tagged(
            TYPE_ERROR, f"sys.log: give exactly one of data, text or json ({found} given)"
        )
    for name, value in (("data", data), ("text", text)):
        if value is not None and not isinstance(value, LOGGABLE):
            raise WorkflowError.tagged(
                TYPE_ERROR, f"sys.log: {name} must be an integer, float, bool, string, list or map"
            )
    if json is not None:
        want("sys.log", "json", json, dict, "a map")
    # text is "always logged as a text payload": a map or list as its JSON text.
    payload = (
        text if isinstance(text, str) else encode_text("sys.log", text, None) if text is not None else None
    )
    host.log(severity, payload if payload is not None else json if json is not None else data)


FUNCTIONS = (
    pure("sys.get_env", _get_env, Param("name"), Param("default", None)),
    pure("sys.now", _now),
    pure(
        "sys.log",
        _log,
        Param("data", None),
        Param("severity", "DEFAULT"),
        Param("text", None),
        Param("json", None),
        Param("timeout", None),
        step_only=True,
    ),
    blocking("sys.sleep", Param("seconds")),
    blocking("sys.sleep_until", Param("time")),
)
