"""sys.log as its reference page documents it (cloud.google.com/workflows/docs/reference/stdlib/sys/log).

"Writes one of data, text, or json": data and text take an integer, float,
bool, string, list or map, text is "always logged as a text payload" and json
takes a map; more than one of them, or none, is a TypeError.
"""

from __future__ import annotations

from typing import Any

import pytest

from approvals.engine.runtime.engine import Engine


def log(engine: Engine, args: str) -> tuple[Any, Any]:
    """Run one sys.log step with ``args`` (YAML, one line each); its (logged payloads, error)."""
    body = "".join(f"      {line}\n" for line in args.splitlines())
    engine.deploy("logger", f"- say:\n    call: sys.log\n    args:\n{body}")
    before = len(engine.logs)
    execution = engine.start("logger")
    engine.wait_idle()
    done = engine.get(execution.id)
    return [entry.payload for entry in engine.logs[before:]], done.error


def test_text_of_any_loggable_type_is_logged_as_text(engine: Engine) -> None:
    # Google's callback-translation sample logs its whole input map this way.
    assert log(engine, 'text: {"text": "Hello", "n": 1}') == (['{"text":"Hello","n":1}'], None)
    assert log(engine, "text: [1, true]") == (["[1,true]"], None)
    assert log(engine, 'text: "plain"') == (["plain"], None)


def test_data_keeps_a_map_as_a_json_payload(engine: Engine) -> None:
    assert log(engine, 'data: {"a": 1}') == ([{"a": 1}], None)
    assert log(engine, "data: 3.5") == ([3.5], None)


@pytest.mark.parametrize(
    "args",
    ['text: "a"\ndata: "b"', 'data: "a"\njson: {"b": 1}', 'severity: "ERROR"', 'text: ${text.encode("hi")}'],
    ids=["text-and-data", "data-and-json", "none", "bytes"],
)
def test_what_the_reference_calls_a_type_error(engine: Engine, args: str) -> None:
    logged, error = log(engine, args)

    assert logged == []
    assert error is not None and "TypeError" in error["tags"]


def test_the_log_line_shows_a_data_payload_as_json(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    """ "data: ... a map is logged as a JSON payload" (sys.log reference); Google's
    parallel-error-handling sample (workflows-samples src/parallel_error_handling.workflows.yaml)
    logs its error map so. The engine's log line, which `python -m emulator run` prints on
    stderr, showed it as Python writes a dict (`{'truncated': False}`) instead of as JSON."""
    with caplog.at_level("INFO", logger="approvals.engine.runtime.engine"):
        log(engine, 'data: {"ok": false, "none": null, "tags": ["x"]}')

    assert caplog.records[-1].getMessage().endswith('DEFAULT: {"ok": false, "none": null, "tags": ["x"]}')


def test_the_log_line_keeps_non_ascii_text_readable(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    """Cloud Logging shows a jsonPayload's text as written; the log line should not read `J\\u00f6rg`."""
    with caplog.at_level("INFO", logger="approvals.engine.runtime.engine"):
        log(engine, 'data: {"name": "Jörg ✓"}')

    assert caplog.records[-1].getMessage().endswith('DEFAULT: {"name": "Jörg ✓"}')
