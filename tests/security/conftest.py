"""The attack suite: each attack of the hardening review, replayed against the local dev stack.

One stack serves the whole package (starting one costs seconds); every attack
starts its own requests, so attacks never see each other's.
"""

from __future__ import annotations

import pytest

from approvals.emulator.stack import LocalStack
from tests.support.stacks import client, running_dev_stack

__all__ = ["client", "stack", "token_of"]

stack = pytest.fixture(scope="package", name="stack")(running_dev_stack)


def token_of(stack: LocalStack, role: str) -> str:
    """The access token the local metadata server hands the platform's ``role`` function (its identity)."""
    [name] = [name for name in stack.metadata_servers if name.endswith(f"-{role}")]
    return stack.metadata_servers[name].access_token
