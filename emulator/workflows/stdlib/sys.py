"""sys: get_env, now and log go through the Host; sleep and sleep_until are blocking."""

from __future__ import annotations

from typing import Any

from approvals.emulator.workflows.effects import Host
from approvals.emulator.workflows.errors import VALUE_ERROR, WorkflowError
from approvals.emulator.workflows.stdlib.base import Param, blocking, pure, want

# Cloud Logging severities accepted by sys.log.
SEVERITIES = ("DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY")


def _get_env(host: Host, name: Any, default: Any) -> Any:
    value = host.env(want("sys.get_env", "name", name, str, "a string"))
    return default if value is None else value


def _now(host: Host) -> float:
    # "returns a floating point number with nanosecond precision" -- stdlib overview.
    return float(host.now())


def _log(host: Host, data: Any, severity: Any, text: Any, json: Any, timeout: Any) -> None:
    severity = want("sys.log", "severity", severity, str, "a string").upper()
    if severity not in SEVERITIES:
        raise WorkflowError.tagged(VALUE_ERROR, f"sys.log: unknown severity {severity!r}")
    if text is not None:
        want("sys.log", "text", text, str, "a string")
    if json is not None:
        want("sys.log", "json", json, dict, "a map")
    payload = next((p for p in (text, json, data) if p is not None), None)
    host.log(severity, payload)


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
