"""Snippets of Google's Workflows documentation pages, with the outcome the page states.

The how-to and reference pages show YAML together with what it does (a result, an error,
a deployment error). Each test here is a small workflow of our own written from one such
statement, cited by page and quoted; the engine must do what the page says.
"""

from __future__ import annotations

import pytest

from approvals.engine.language.definition import parse
from approvals.engine.runtime.errors import DefinitionError
from tests.engine.interpreter_support import result_of

KNOWN_ISSUES = "https://cloud.google.com/workflows/docs/issues"


def test_a_for_loop_directly_in_try_cannot_deploy() -> None:
    """Known issues (KNOWN_ISSUES): "if you position `for` after the `try`, the step fails,
    and you cannot deploy the workflow ... error in step try: loop step name should not be empty".

    It deployed and ran the loop, so a workflow tried locally failed its first real deployment.
    """
    source = """
- attempt:
    try:
      for:
        value: item
        in: [a, b]
        steps:
          - note:
              assign:
                - last: ${item}
    retry: ${http.default_retry}
"""
    with pytest.raises(DefinitionError) as caught:
        parse(source, "test.yaml")

    assert "loop step name should not be empty" in str(caught.value)
    assert "'attempt'" in str(caught.value)


def test_a_for_loop_in_a_named_step_of_try_runs() -> None:
    """Known issues (KNOWN_ISSUES): "The workaround is to add a named step after the `try`"."""
    source = """
- init:
    assign:
      - seen: []
- attempt:
    try:
      steps:
        - loopStep:
            for:
              value: item
              in: [a, b]
              steps:
                - note:
                    assign:
                      - seen: ${list.concat(seen, item)}
    retry: ${http.default_retry}
- done:
    return: ${seen}
"""
    assert result_of(source) == ["a", "b"]


EXECUTIONS_MAP = "https://cloud.google.com/workflows/docs/reference/stdlib/experimental.executions/map"


@pytest.mark.parametrize("function", ["experimental.executions.map", "experimental.executions.run"])
def test_the_experimental_executions_functions_are_named_as_not_performed_locally(function: str) -> None:
    """experimental.executions.map's page (EXECUTIONS_MAP): "Starts workflow executions and
    waits for all of them to finish" -- a standard library function, not an unknown name.

    The engine cannot start other deployed workflows, so the call stays a deployment error,
    but it said "unknown function or subworkflow", as if the name were a typo.
    """
    source = f"""
- start:
    call: {function}
    args:
      workflow_id: child
    result: results
"""
    with pytest.raises(DefinitionError) as caught:
        parse(source, "test.yaml")

    message = str(caught.value)
    assert "unknown function" not in message
    assert f"{function} is not supported by the local engine" in message
    assert "parallel steps" in message
