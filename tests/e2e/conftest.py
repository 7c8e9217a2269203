"""The whole local stack (`python -m emulator up`'s LocalStack) on a virtual clock, for the e2e tests.

One stack serves each test module (so the smoke test's own stack never runs
beside this one); each test gets a fresh Client on it. Nothing is reset
between tests: every /api/start draws a fresh request id, so tests never see
each other's requests.
"""

from __future__ import annotations

from tests.support.stacks import client, stack

__all__ = ["client", "stack"]
