"""The attack suite: each attack of the hardening review, replayed against the local dev stack.

One stack serves the whole package on each test worker (starting one costs
seconds); every attack starts its own requests, so attacks never see each other's.
"""

from __future__ import annotations

import pytest

from approvals.emulator.stack import LocalStack
from tests.support.metadata import identity_token
from tests.support.stacks import client, running_dev_stack

__all__ = ["client", "function_name", "identity_token_of", "stack", "token_of"]

stack = pytest.fixture(scope="package", name="stack")(running_dev_stack)


def function_name(stack: LocalStack, role: str) -> str:
    """The name of the platform's ``role`` function (``approvals-notify`` for "notify")."""
    [name] = [name for name in stack.metadata_servers if name.endswith(f"-{role}")]
    return name


def token_of(stack: LocalStack, role: str) -> str:
    """The access token the local metadata server hands the platform's ``role`` function (its identity)."""
    return stack.metadata_servers[function_name(stack, role)].access_token


def identity_token_of(stack: LocalStack, role: str, audience: str) -> str:
    """An ID token of the ``role`` function's identity for ``audience``, fetched as the function would."""
    return identity_token(stack.metadata_servers[function_name(stack, role)], audience)
