"""The reference stack is what the pack holds everyone else to: it must pass, in every environment."""

import pytest

from approvals.policies.check import check_program
from tests.policies.policy_cli import REPO, run_check, violation_lines


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_reference_stack_has_no_violations(stack: str) -> None:
    assert check_program(REPO / "__main__.py", stack=stack) == []


def test_cli_passes_the_reference_prod_stack() -> None:
    result = run_check("__main__.py", "--stack", "prod")

    assert result.returncode == 0, result.stdout + result.stderr
    assert violation_lines(result.stdout) == []
