"""Conformance: try/except, retry policies with backoff, and uncaught errors."""

from __future__ import annotations

import textwrap

from approvals.engine.runtime.effects import CallEffect, SleepEffect
from tests.engine.interpreter_support import START, Driver, error_of, failing, result_of


def guarded_get(handling: str, subworkflows: str = "") -> str:
    """A workflow that GETs http://localhost into `response`, with `handling` (the step's retry and
    except fields), then returns the response body; `subworkflows` follow main."""
    return f"""
main:
  steps:
    - attempt:
        try:
          call: http.get
          args:
            url: http://localhost
          result: response
{textwrap.indent(handling.strip(), " " * 8)}
    - done:
        return: ${{response.body}}
{subworkflows.strip()}
"""


# Retry predicates: subworkflows that are given the error and say whether to retry.
ALWAYS = """
always:
  params: [e]
  steps:
    - yes:
        return: true
"""
NEVER = """
never:
  params: [e]
  steps:
    - no:
        return: false
"""


def test_except_binds_the_error_map() -> None:
    """ "except: as: e" binds the error map; "${'SystemError' in e.tags}" (Catch errors, Workflow errors)."""
    source = guarded_get("""
except:
  as: e
  steps:
    - known:
        switch:
          - condition: ${"HttpError" in e.tags}
            return: ${e.code}
    - unknown:
        raise: ${e}
""")
    assert result_of(source, respond=failing([404])) == 404


def test_an_error_without_a_handler_fails_the_execution() -> None:
    """ "When a workflow throws an error during execution that isn't caught, the execution fails"
    (Workflow errors)."""
    source = "- get:\n    call: http.get\n    args:\n      url: http://localhost\n"
    error = error_of(source, respond=failing([500]))
    assert error["tags"] == ["HttpError"] and error["code"] == 500


def test_a_custom_retry_policy_waits_with_exponential_backoff() -> None:
    """ "initial_delay: Delay in seconds between the initial failure and the first retry";
    "multiplier: ... applied to the previous delay"; "max_delay" caps it (Retry steps)."""
    source = guarded_get(
        """
retry:
  predicate: ${retry_server_errors}
  max_retries: 5
  backoff:
    initial_delay: 2
    max_delay: 5
    multiplier: 2
""",
        """
retry_server_errors:
  params: [e]
  steps:
    - check:
        return: ${e.code >= 500}
""",
    )
    driver = Driver(respond=failing([503, 503, 503]))
    run = driver.run(source)

    assert run.result == "ok"
    sleeps = [effect.until - START for _, effect in driver.effects if isinstance(effect, SleepEffect)]
    assert sleeps == [2, 2 + 4, 2 + 4 + 5]


def test_retries_stop_at_max_retries_then_except_runs() -> None:
    """ "max_retries: Maximum number of times a step will be retried, not counting the initial
    step execution attempt" (Retry steps)."""
    source = guarded_get(
        """
retry:
  predicate: ${always}
  max_retries: 2
except:
  as: e
  steps:
    - give_up:
        return: ${"gave up after " + e.message}
""",
        ALWAYS,
    )
    driver = Driver(respond=failing([500, 501, 502, 503]))
    assert driver.run(source).result == "gave up after HTTP 502"
    assert len([e for _, e in driver.effects if isinstance(e, CallEffect)]) == 3


def test_a_predicate_that_says_no_skips_retrying() -> None:
    source = guarded_get("retry:\n  predicate: ${never}\n  max_retries: 3\n", NEVER)
    driver = Driver(respond=failing([500]))
    assert driver.run(source).error.value["code"] == 500
    assert len(driver.effects) == 1


def test_the_default_http_retry_policy_retries_server_errors() -> None:
    """ "${http.default_retry}: ... retries on 429, 502, 503, 504 ... max_retries 5" (Retry steps)."""
    source = guarded_get("retry: ${http.default_retry}")
    driver = Driver(respond=failing([503, 429]))
    assert driver.run(source).result == "ok"
    assert [type(e).__name__ for _, e in driver.effects] == [
        "CallEffect",
        "SleepEffect",
        "CallEffect",
        "SleepEffect",
        "CallEffect",
    ]
    assert error_of(source, respond=failing([404]))["code"] == 404


def test_a_try_block_of_steps_retries_them_all() -> None:
    """ "try: steps: ..." retries the whole block (Retry steps)."""
    source = (
        """
main:
  steps:
    - init:
        assign:
          - attempts: 0
    - block:
        try:
          steps:
            - count:
                assign:
                  - attempts: ${attempts + 1}
            - fail_twice:
                switch:
                  - condition: ${attempts < 3}
                    raise: again
        retry:
          predicate: ${always}
          max_retries: 5
    - done:
        return: ${attempts}
"""
        + ALWAYS
    )
    assert result_of(source) == 3


def test_errors_raised_in_a_subworkflow_reach_the_caller() -> None:
    source = """
main:
  steps:
    - guarded:
        try:
          call: boom
        except:
          as: e
          steps:
            - back:
                return: ${e.message}
boom:
  steps:
    - r:
        raise:
          message: from below
"""
    assert result_of(source) == "from below"


def test_variables_created_in_an_except_block_end_with_it() -> None:
    """ "This local scoping also applies to any variable created inside an except block"
    -- https://cloud.google.com/workflows/docs/reference/syntax/variables (Variable scope).
    The block still writes the variables around it, and what it created no longer counts
    against the 512 KB an execution holds: two 300 KB lists, one in the block and one after it,
    fit beside a 150 KB argument."""
    source = """
main:
  params: [chunk]
  steps:
    - init:
        assign:
          - outcome: "none"
    - guarded:
        try:
          raise: "boom"
        except:
          as: e
          steps:
            - note:
                assign:
                  - outcome: ${"caught " + e}
                  - held: ${[chunk, chunk]}
    - after:
        assign:
          - again: ${[chunk, chunk]}
    - done:
        return: ${[outcome, len(again)]}
"""
    assert result_of(source, "x" * 150_000) == ["caught boom", 2]
