"""The engine's notion of time: the wall clock, or a virtual one that tests move by hand.

The engine keeps its own timer heap (sleeps, await timeouts); a clock only
answers what time it is and how long the loop may block before the next
timer is due. A virtual clock never moves by itself, so a 12-hour await
timeout fires exactly when a test calls `Engine.advance(43200)`.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

# 2024-01-01T00:00:00Z: a fixed start makes virtual-time tests reproducible.
DEFAULT_EPOCH = 1_704_067_200.0


class Clock(Protocol):
    """What the engine asks of a clock."""

    def now(self) -> float:
        """Seconds since the Unix epoch."""

    def wait_time(self, when: float) -> float | None:
        """Real seconds the loop may block before `when` is due; None: until woken."""


class RealClock:
    """The wall clock."""

    def now(self) -> float:
        return time.time()

    def wait_time(self, when: float) -> float | None:
        return max(0.0, when - time.time())


class VirtualClock:
    """Time that moves only when told; timers wait for `advance` however far away they are."""

    def __init__(self, start: float | None = DEFAULT_EPOCH) -> None:
        self._now = time.time() if start is None else float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def wait_time(self, when: float) -> float | None:
        return 0.0 if when <= self.now() else None

    def advance(self, seconds: float) -> float:
        """Move forward by `seconds` (never backwards); returns the new time."""
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        with self._lock:
            self._now += seconds
            return self._now

    def advance_to(self, when: float) -> float:
        """Move forward to `when` if it is later than now; returns the new time."""
        with self._lock:
            self._now = max(self._now, when)
            return self._now
