"""A fixed Host and a Context that calls the standard library, for expression and stdlib tests.

Both are real implementations of the protocols, with deterministic answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from approvals.engine.language.parser import parse_expression
from approvals.engine.runtime import stdlib
from approvals.engine.runtime.errors import TYPE_ERROR, WorkflowError
from approvals.engine.runtime.expressions import evaluate


@dataclass
class FixedHost:
    clock: float = 1_700_000_000.25
    environment: dict[str, str] = field(default_factory=lambda: {"GOOGLE_CLOUD_PROJECT_ID": "demo"})
    next_uuid: str = "123e4567-e89b-42d3-a456-426614174000"
    logs: list[tuple[str, Any]] = field(default_factory=list)

    def now(self) -> float:
        return self.clock

    def env(self, name: str) -> str | None:
        return self.environment.get(name)

    def uuid4(self) -> str:
        return self.next_uuid

    def log(self, severity: str, payload: Any) -> None:
        self.logs.append((severity, payload))


@dataclass
class LibraryContext:
    """Calls library functions the way expressions may: pure, non-step-only ones only."""

    variables: dict[str, Any] = field(default_factory=dict)
    host: FixedHost = field(default_factory=FixedHost)

    def call(self, name: str, args: list[Any]) -> Any:
        function = stdlib.lookup(name)
        if function is None or not function.in_expressions:
            raise WorkflowError.tagged(TYPE_ERROR, f"{name} cannot be called in an expression")
        return stdlib.call_pure(function, self.host, stdlib.bind(function, positional=args))


def run(text: str, **variables: Any) -> Any:
    """The value of expression `text` with `variables` defined."""
    return evaluate(parse_expression(text), LibraryContext(dict(variables)))
