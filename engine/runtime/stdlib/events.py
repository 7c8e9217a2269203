"""events: callback endpoints, both blocking (the engine creates and awaits them).

events.await_callback's timeout defaults to 43200 seconds (12 hours).
"""

from __future__ import annotations

from approvals.engine.runtime.effects import AWAIT_CALLBACK_TIMEOUT
from approvals.engine.runtime.stdlib.base import Param, blocking

FUNCTIONS = (
    blocking("events.create_callback_endpoint", Param("http_callback_method", "POST")),
    blocking("events.await_callback", Param("callback"), Param("timeout", AWAIT_CALLBACK_TIMEOUT)),
)
