"""Why the data layer refuses or fails, without HTTP: the edge (common.responses) picks the status.

Imports nothing, so the pure modules (common.tally) can raise these too.
"""

from __future__ import annotations

from collections.abc import Sequence


class DomainError(Exception):
    """What the caller asked for cannot be done; ``reason`` is safe to show them."""

    def __init__(self, reason: str, details: Sequence[str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = list(details) if details else []


class NotFoundError(DomainError):
    """The thing named does not exist."""


class NotAllowedError(DomainError):
    """The caller may not do this, whatever the state."""


class ConflictError(DomainError):
    """The state does not allow it (any more): closed, already voted, link used."""


class LimitReachedError(DomainError):
    """The caller has used up a limit, and may try again once something ends."""


class UnavailableError(DomainError):
    """Not now: lasting contention, or a dependency that did not answer; try again."""


class UpstreamError(DomainError):
    """A service we called refused or failed; ``detail`` names it for the log, never the caller."""

    def __init__(self, what: str, detail: object) -> None:
        super().__init__(what)
        self.detail = detail
