"""Graphs of the reference stack, captured once per module under Pulumi mocks."""

from pathlib import Path

import pytest

from approvals.testing import Graph, capture_program

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def dev_graph() -> Graph:
    return capture_program(REPO / "__main__.py", stack="dev")


@pytest.fixture(scope="session")
def prod_graph() -> Graph:
    return capture_program(REPO / "__main__.py", stack="prod")
