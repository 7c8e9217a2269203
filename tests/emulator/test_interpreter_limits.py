"""Conformance: the limits on what one execution holds and runs.

"Quotas and limits" (https://cloud.google.com/workflows/quotas): variables, arguments and
events together hold at most 512 KB; an execution runs at most 100,000 steps; a string holds
at most 256 KB (also "unicode <= 256 KB length", Syntax cheat sheet,
https://cloud.google.com/workflows/docs/reference/syntax/syntax-cheat-sheet). Past a limit a
workflow gets "ResourceLimitError" (Workflow errors,
https://cloud.google.com/workflows/docs/reference/syntax/error-types).
"""

from __future__ import annotations

from tests.emulator.interpreter_support import error_of, result_of

# `rounds` times, a subworkflow collects `count` copies of the 1,000-character `chunk` in one
# list and returns its length; main adds the lengths up.
COLLECT = """
main:
  params: [args]
  steps:
    - init:
        assign:
          - total: 0
    - repeat:
        for:
          value: round
          range: ${[1, args.rounds]}
          steps:
            - build:
                call: collect
                args:
                  count: ${args.count}
                  chunk: ${args.chunk}
                result: built
            - add_up:
                assign:
                  - total: ${total + built}
    - done:
        return: ${total}
collect:
  params: [count, chunk]
  steps:
    - init:
        assign:
          - items: []
    - fill:
        for:
          value: i
          range: ${[1, count]}
          steps:
            - add:
                assign:
                  - items: ${list.concat(items, chunk)}
    - done:
        return: ${len(items)}
"""
CHUNK = "x" * 1000


def test_variables_past_512_kb_are_a_resource_limit_error() -> None:
    """ "Memory ... 512 KB: the maximum cumulative size of variables, arguments, and events"
    (https://cloud.google.com/workflows/quotas), counted here as their compact JSON."""
    assert result_of(COLLECT, {"rounds": 1, "count": 400, "chunk": CHUNK}) == 400

    error = error_of(COLLECT, {"rounds": 1, "count": 600, "chunk": CHUNK})

    assert error["tags"] == ["ResourceLimitError"]
    assert "memory limit" in error["message"]


def test_variables_that_are_gone_no_longer_count() -> None:
    """A subworkflow's variables and a loop's own variables end with them ("any variable created
    in a loop does not exist outside of that loop", Iteration,
    https://cloud.google.com/workflows/docs/reference/syntax/iteration), so three 400 KB lists
    built one after the other stay within the 512 KB (https://cloud.google.com/workflows/quotas)."""
    assert result_of(COLLECT, {"rounds": 3, "count": 400, "chunk": CHUNK}) == 1200


def test_an_execution_stops_after_100000_steps() -> None:
    """ "Steps: the maximum number of steps executed in a single execution: 100,000"
    (https://cloud.google.com/workflows/quotas)."""
    source = """
- spin:
    for:
      value: i
      range: [1, 60000]
      steps:
        - tick:
            assign:
              - last: ${i}
        - tock:
            assign:
              - last: ${last}
- done:
    return: ${last}
"""
    error = error_of(source)

    assert error["tags"] == ["ResourceLimitError"]
    assert "100000 steps" in error["message"]


def test_a_string_past_256_kb_is_a_resource_limit_error() -> None:
    """ "String ... maximum length" (Data types,
    https://cloud.google.com/workflows/docs/reference/syntax/datatypes) is 256 KB (Syntax cheat
    sheet, https://cloud.google.com/workflows/docs/reference/syntax/syntax-cheat-sheet)."""
    source = """
main:
  params: [args]
  steps:
    - init:
        assign:
          - text: ${args.chunk}
    - grow:
        for:
          value: i
          range: ${[1, args.doublings]}
          steps:
            - double:
                assign:
                  - text: ${text + text}
    - done:
        return: ${len(text)}
"""
    assert result_of(source, {"doublings": 8, "chunk": CHUNK}) == 256_000

    error = error_of(source, {"doublings": 9, "chunk": CHUNK})

    assert error["tags"] == ["ResourceLimitError"]
    assert "string" in error["message"]
