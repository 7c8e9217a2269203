"""The start/stop shape every local service shares, usable as a context manager."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class LocalService(ABC):
    """A local stand-in that starts, stops, and stops on leaving a `with` block."""

    @abstractmethod
    def start(self) -> Self:
        """Start serving; returns self so `with Service().start()` reads naturally."""

    @abstractmethod
    def stop(self) -> None:
        """Stop serving and release what was held; safe to call twice."""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
