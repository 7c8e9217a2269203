"""What the interpreter asks of the engine: effects it yields and the host it calls.

The interpreter never blocks, sleeps or does I/O. A step that must wait (a
call to http.*, a connector, sys.sleep, events.*) becomes an effect that the
engine performs; the execution stays a suspended generator meanwhile, so a
waiting execution holds no thread. Effects carry a deterministic id (branch
path + counter) so that the engine can journal their results and replay them
after a restart.

Effects are NamedTuples rather than dataclasses, which the CLI's start would pay for (see
`parser`); the engine tells them apart by class, never by `==`.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol


class CallEffect(NamedTuple):
    """A blocking standard library function or connector call, with named args."""

    name: str
    args: dict[str, Any]


class SleepEffect(NamedTuple):
    """sys.sleep / sys.sleep_until: resume at `until` (epoch seconds on the engine clock)."""

    until: float


class CreateCallbackEffect(NamedTuple):
    """events.create_callback_endpoint: the engine answers {url} (and keeps the id)."""

    method: str


# "timeout: The maximum request timeout in seconds (default: 43200.0)" (stdlib events.await_callback):
# the one default the library's signature, the interpreter and so the engine use.
AWAIT_CALLBACK_TIMEOUT = 43200.0


class AwaitCallbackEffect(NamedTuple):
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
