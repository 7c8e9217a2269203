"""What the interpreter asks of the engine: effects it yields and the host it calls.

The interpreter never blocks, sleeps or does I/O. A step that must wait (a
call to http.*, a connector, sys.sleep, events.*) becomes an effect that the
engine performs; the execution stays a suspended generator meanwhile, so a
waiting execution holds no thread. Effects carry a deterministic id (branch
path + counter) so that the engine can journal their results and replay them
after a restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class CallEffect:
    """A blocking standard library function or connector call, with named args."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SleepEffect:
    """sys.sleep / sys.sleep_until: resume at `until` (epoch seconds on the engine clock)."""

    until: float


@dataclass(frozen=True)
class CreateCallbackEffect:
    """events.create_callback_endpoint: the engine answers {url} (and keeps the id)."""

    method: str


@dataclass(frozen=True)
class AwaitCallbackEffect:
    """events.await_callback: the engine answers the callback request map, or a TimeoutError."""

    callback: dict[str, Any]
    timeout: float


Effect = CallEffect | SleepEffect | CreateCallbackEffect | AwaitCallbackEffect


class Host(Protocol):
    """What non-blocking functions need from the engine, journaled for replay."""

    def now(self) -> float:
        """Seconds since the epoch on the engine's clock (virtual in tests)."""

    def env(self, name: str) -> str | None:
        """A built-in or user env var of the running workflow, or None."""

    def uuid4(self) -> str:
        """A fresh random UUID (journaled, so a replay sees the same one)."""

    def log(self, severity: str, payload: Any) -> None:
        """sys.log output."""
