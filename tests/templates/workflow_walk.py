"""Walking a parsed Workflows source the way the engine reads it, for assertions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

Step = tuple[str, dict[str, Any]]


def steps_in(steps: list[dict[str, Any]]) -> Iterator[Step]:
    """Every step of a steps list, nested ones included (switch, for, try, except, parallel)."""
    for item in steps:
        ((name, body),) = item.items()
        yield name, body
        yield from nested_steps(body)


def nested_steps(body: dict[str, Any]) -> Iterator[Step]:
    """The steps nested inside one step's body."""
    for key, value in body.items():
        if key in ("steps", "branches") or (key == "try" and isinstance(value, list)):
            yield from steps_in(value)
        elif key in ("try", "for", "parallel", "except") and isinstance(value, dict):
            yield from nested_steps(value)
        elif key == "switch":
            for condition in value:
                yield from nested_steps(condition)


def all_steps(workflow: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(subworkflow, step name, step body) for every step of every subworkflow."""
    for subworkflow, definition in workflow.items():
        for name, body in steps_in(definition["steps"]):
            yield subworkflow, name, body


def call_sites(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The maps holding a `call` in a step body: the body itself or its try block."""
    if "call" in body:
        yield body
    attempt = body.get("try")
    if isinstance(attempt, dict) and "call" in attempt:
        yield attempt


def strings_in(value: Any) -> Iterator[str]:
    """Every string inside a YAML value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings_in(item)


def mentions(value: Any, variable: str) -> bool:
    """Whether an expression inside value reads the variable."""
    pattern = re.compile(rf"\$\{{.*(?<![\w.]){re.escape(variable)}\b")
    return any(pattern.search(text) for text in strings_in(value))
