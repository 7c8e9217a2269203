"""A child process's output, read line by line on a thread of its own, so that every wait has a deadline."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import IO

import pytest


class Lines:
    """The lines of ``stream`` (a child's stdout or stderr, in text mode), as they come.

    A readline() on the test's thread would wait for ever on a child that prints nothing; here
    a daemon thread reads, and wait_for() gives up at its deadline with what was printed so far.
    """

    def __init__(self, stream: IO[str]) -> None:
        self._seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()  # None: end of file
        self._ended = False
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, wanted: Callable[[str], bool], timeout: float) -> str:
        """The next line ``wanted`` accepts; the test fails if the stream ends or ``timeout`` passes first."""
        deadline = time.monotonic() + timeout
        while not self._ended:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"no such line within {timeout:.0f}s; the output so far:\n{self.text}")
            if line is None:
                self._ended = True
                break
            self._seen.append(line)
            if wanted(line):
                return line
        pytest.fail(f"the output ended without such a line:\n{self.text}")

    @property
    def text(self) -> str:
        """Every line read so far, those not yet waited for included."""
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is None:
                self._ended = True
                break
            self._seen.append(line)
        return "".join(self._seen)
