"""retry: the always/never predicates and retry.default_backoff.

retry.default_backoff: "It has initial backoff of 1 second, max backoff of 1
minute, and a multiplier of 1.25."
"""

from __future__ import annotations

from typing import Any

from approvals.engine.runtime.effects import Host
from approvals.engine.runtime.stdlib.base import Param, pure

DEFAULT_BACKOFF = {"initial_delay": 1, "max_delay": 60, "multiplier": 1.25}


def _always(host: Host, exception: Any) -> bool:
    return True


def _never(host: Host, exception: Any) -> bool:
    return False


FUNCTIONS = (
    pure("retry.always", _always, Param("exception")),
    pure("retry.never", _never, Param("exception")),
)

VALUES = {"retry.default_backoff": DEFAULT_BACKOFF}
