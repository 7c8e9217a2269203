"""A tiny real Host and an effect driver for interpreter tests.

The driver plays the engine's part of the protocol by hand: it resolves the
effects a `Run` issues (sleeps advance the test clock, calls get canned
answers), so a test reads as "this workflow, these answers, this outcome".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from approvals.engine.language.definition import parse
from approvals.engine.runtime.effects import (
    AwaitCallbackEffect,
    CallEffect,
    CreateCallbackEffect,
    Effect,
    SleepEffect,
)
from approvals.engine.runtime.errors import HTTP_ERROR, TIMEOUT_ERROR, WorkflowError
from approvals.engine.runtime.interpreter import Run

START = 1_700_000_000.0
CALLBACK_URL = (
    "https://workflowexecutions.googleapis.com/v1/projects/1/locations/l/workflows/w/executions/e/callbacks/"
)

# Answers a CallEffect: return the response value or raise a WorkflowError.
Responder = Callable[[CallEffect], Any]


class TestHost:
    """Fixed clock that moves only when told, env dict, counter uuids, captured logs."""

    __test__ = False  # not a pytest class

    def __init__(self, env: dict[str, str] | None = None, now: float = START) -> None:
        self.clock = now
        self.vars = dict(env or {})
        self.uuids = 0
        self.logs: list[tuple[str, Any]] = []

    def now(self) -> float:
        return self.clock

    def env(self, name: str) -> str | None:
        return self.vars.get(name)

    def uuid4(self) -> str:
        self.uuids += 1
        return f"00000000-0000-4000-8000-{self.uuids:012d}"

    def log(self, severity: str, payload: Any) -> None:
        self.logs.append((severity, payload))


class Driver:
    """Resolves effects like an engine would, recording every one it saw."""

    def __init__(
        self,
        host: TestHost | None = None,
        respond: Responder | None = None,
        callbacks: list[Any] | None = None,
    ) -> None:
        self.host = host or TestHost()
        self.respond = respond or _no_calls
        self.callbacks = list(callbacks or [])  # request bodies, delivered one per await
        self.effects: list[tuple[str, Effect]] = []

    def run(self, source: str, argument: Any = None, max_effects: int = 10_000) -> Run:
        run = Run(parse(source), argument, self.host)
        run.advance()
        while not run.done:
            assert run.pending, "the run is neither done nor waiting on an effect"
            assert len(self.effects) < max_effects, "too many effects"
            effect_id, effect = self.next_effect(run)
            self.effects.append((effect_id, effect))
            try:
                result = self.perform(effect)
            except WorkflowError as error:
                run.resolve(effect_id, error=error)
            else:
                run.resolve(effect_id, result=result)
            run.advance()
        return run

    def next_effect(self, run: Run) -> tuple[str, Effect]:
        """Immediate effects first in issue order, then the sleep that ends first."""
        for effect_id, effect in run.pending.items():
            if not isinstance(effect, SleepEffect):
                return effect_id, effect
        return min(run.pending.items(), key=lambda item: item[1].until)  # type: ignore[union-attr]

    def perform(self, effect: Effect) -> Any:
        if isinstance(effect, SleepEffect):
            self.host.clock = max(self.host.clock, effect.until)
            return None
        if isinstance(effect, CreateCallbackEffect):
            return {"url": f"{CALLBACK_URL}{self.host.uuid4()}"}
        if isinstance(effect, AwaitCallbackEffect):
            if not self.callbacks:
                self.host.clock += effect.timeout
                raise WorkflowError.tagged(TIMEOUT_ERROR, "timed out waiting for a callback")
            body = self.callbacks.pop(0)
            return {
                "http_request": {"body": body, "headers": {}, "method": "POST", "query": {}, "url": "/"},
                "received_time": "2023-11-14T22:13:20Z",
                "type": "HTTP",
            }
        return self.respond(effect)


def _no_calls(effect: CallEffect) -> Any:
    raise AssertionError(f"unexpected call {effect.name}")


def run_workflow(source: str, argument: Any = None, **driver: Any) -> Run:
    """Run `source` to the end with a fresh driver."""
    return Driver(**driver).run(source, argument)


def result_of(source: str, argument: Any = None, **driver: Any) -> Any:
    """The result of a run that must succeed."""
    run = run_workflow(source, argument, **driver)
    assert run.error is None, run.error
    return run.result


def error_of(source: str, argument: Any = None, **driver: Any) -> Any:
    """The error value of a run that must fail."""
    run = run_workflow(source, argument, **driver)
    assert run.error is not None, f"expected an error, got result {run.result!r}"
    return run.error.value


def failing(codes: list[int]) -> Callable[[CallEffect], Any]:
    """A responder answering HttpErrors with these codes, then 200."""
    remaining = list(codes)

    def respond(effect: CallEffect) -> Any:
        if remaining:
            code = remaining.pop(0)
            raise WorkflowError.tagged(HTTP_ERROR, f"HTTP {code}", code=code, headers={}, body=None)
        return {"code": 200, "body": "ok", "headers": {}}

    return respond
