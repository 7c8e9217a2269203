"""Walk the steps of a Cloud Workflows definition (`sourceContents`), nested ones included."""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml


@dataclass(frozen=True)
class Step:
    """One step: where it is, what it does, and whether a `try` around it handles TimeoutError."""

    subworkflow: str
    name: str
    body: Mapping[str, Any]
    timeout_handled: bool


def subworkflows(source: str) -> dict[str, list[Any]]:
    """Each subworkflow's steps, for both forms: a bare step list (main only) or a map of subworkflows."""
    try:
        document = yaml.safe_load(source)
    except yaml.YAMLError as error:
        raise ValueError(f"sourceContents is not valid YAML: {error}") from error
    if isinstance(document, list):
        return {"main": document}
    if isinstance(document, dict):
        return {
            str(name): definition["steps"]
            for name, definition in document.items()
            if isinstance(definition, dict) and isinstance(definition.get("steps"), list)
        }
    raise ValueError("sourceContents is neither a list of steps nor a map of subworkflows")


def steps(source: str) -> Iterator[Step]:
    """Every step of every subworkflow, depth first, in source order."""
    for subworkflow, step_list in subworkflows(source).items():
        yield from _walk(subworkflow, step_list, timeout_handled=False)


def _walk(subworkflow: str, step_list: Any, timeout_handled: bool) -> Iterator[Step]:
    for entry in step_list if isinstance(step_list, list) else []:
        if isinstance(entry, dict) and len(entry) == 1:
            ((name, body),) = entry.items()
            yield from _visit(subworkflow, str(name), body, timeout_handled)


def _visit(subworkflow: str, name: str, body: Any, timeout_handled: bool) -> Iterator[Step]:
    if not isinstance(body, dict):
        return
    if "try" in body:
        inner = timeout_handled or _handles_timeout(body.get("except"))
        attempt = body["try"]
        if isinstance(attempt, dict) and "steps" in attempt:
            yield from _walk(subworkflow, attempt["steps"], inner)
        else:  # The short form: the try body is the step itself.
            yield from _visit(subworkflow, name, attempt, inner)
        handler = body.get("except")
        if isinstance(handler, dict):
            yield from _walk(subworkflow, handler.get("steps"), timeout_handled)
        return
    yield Step(subworkflow, name, body, timeout_handled)
    yield from _walk(subworkflow, body.get("steps"), timeout_handled)
    for condition in body.get("switch") or []:
        if isinstance(condition, dict):
            yield from _walk(subworkflow, condition.get("steps"), timeout_handled)
            # A condition may also carry a step inline (call, assign, return, ...).
            inline = {k: v for k, v in condition.items() if k not in {"condition", "steps", "next"}}
            if inline:
                yield from _visit(subworkflow, name, inline, timeout_handled)
    loop = body.get("for")
    if isinstance(loop, dict):
        yield from _walk(subworkflow, loop.get("steps"), timeout_handled)
    parallel = body.get("parallel")
    if isinstance(parallel, dict):
        yield from _walk(subworkflow, parallel.get("branches"), timeout_handled)
        if isinstance(parallel.get("for"), dict):
            yield from _walk(subworkflow, parallel["for"].get("steps"), timeout_handled)


def _handles_timeout(handler: Any) -> bool:
    """Best effort: the except block mentions TimeoutError (e.g. `"TimeoutError" in e.tags`)."""
    return isinstance(handler, dict) and "TimeoutError" in repr(handler)


def expressions(value: Any) -> Iterator[str]:
    """The `${...}` expressions among a step's argument values, at any depth."""
    if isinstance(value, str):
        if "${" in value:
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from expressions(item)
    elif isinstance(value, list):
        for item in value:
            yield from expressions(item)
