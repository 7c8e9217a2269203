"""The start/stop shape every local service shares (a context manager too), and loopback addresses."""

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


class Loopback:
    """A service on a 127.0.0.1 port: the addresses its clients are given.

    ``port`` is an attribute of the subclass, or a property where the port is
    known only once serving.
    """

    port: int

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, the form *_HOST environment variables take."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """Base URL without a trailing slash."""
        return f"http://{self.host}"
