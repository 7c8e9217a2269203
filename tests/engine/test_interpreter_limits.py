"""Conformance: the limits on what one execution holds and runs.

"Quotas and limits" (https://cloud.google.com/workflows/quotas): variables, arguments and
events together hold at most 512 KB; an execution runs at most 100,000 steps; a string holds
at most 256 KB (also "unicode <= 256 KB length", Syntax cheat sheet,
https://cloud.google.com/workflows/docs/reference/syntax/syntax-cheat-sheet). Past a limit a
workflow gets "ResourceLimitError" (Workflow errors,
https://cloud.google.com/workflows/docs/reference/syntax/error-types).
"""

from __future__ import annotations

from typing import Any

import pytest

from approvals.engine.runtime import interpreter, values
from approvals.engine.runtime.errors import ResourceLimitError
from approvals.engine.runtime.expressions import Slot
from approvals.engine.runtime.interpreter import MEMORY_LIMIT, _Scope
from approvals.engine.runtime.values import memory_size
from tests.engine.interpreter_support import START, Driver, error_of, result_of, run_workflow

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
    (https://cloud.google.com/workflows/quotas), counted as the Variables page computes memory usage."""
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
- init:
    assign:
      - last: 0
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


# A range whose end is as far as an integer goes, or a double range that stops counting (past
# 2**53, adding 1 to a double gives the same double): each listed every value before the first
# iteration, until the machine's memory ran out.
_HUGE_RANGES = ["[0, 9223372036854775807]", "[9007199254740992.0, 9007199254740993.0]"]


@pytest.mark.parametrize("bounds", _HUGE_RANGES)
def test_a_range_too_long_to_run_stops_at_the_step_limit(bounds: str) -> None:
    """ "Steps: the maximum number of steps executed in a single execution: 100,000"
    (https://cloud.google.com/workflows/quotas): a range's values are counted as it runs."""
    source = f"""
- spin:
    for:
      value: i
      range: {bounds}
      steps:
        - tick:
            assign:
              - last: ${{i}}
"""
    error = error_of(source)

    assert error["tags"] == ["ResourceLimitError"]
    assert "100000 steps" in error["message"]


@pytest.mark.parametrize("bounds", _HUGE_RANGES)
def test_a_parallel_range_past_the_step_limit_fails_before_its_branches_start(bounds: str) -> None:
    """Each iteration of a parallel loop runs a step at least, so more than 100,000 of them
    cannot run within the step limit: the execution fails at once, no branch made."""
    source = f"""
- fan:
    parallel:
      for:
        value: i
        range: {bounds}
        steps:
          - tick:
              assign:
                - x: ${{i}}
"""
    error = error_of(source)

    assert error["tags"] == ["ResourceLimitError"]
    assert "more than 100000 iterations" in error["message"]


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


def documented_size(value: Any) -> int:
    """Memory usage as the Variables page computes it, written out independently of the engine:
    8 bytes a scalar, 8 + each element a string or list, 8 + each key and value a map."""
    if isinstance(value, str):
        return 8 + len(value.encode())
    if isinstance(value, list):
        return 8 + sum(documented_size(item) for item in value)
    if isinstance(value, dict):
        return 8 + sum(documented_size(key) + documented_size(item) for key, item in value.items())
    return 8


def test_memory_usage_is_counted_as_the_variables_page_computes_it() -> None:
    """ "Integer, double, boolean: 8 bytes; String, byte, array: 8 bytes + size of EACH_ELEMENT;
    Map (dict): 8 bytes + size of EACH_KEY + size of EACH_VALUE", and "the a and b variables
    together use 36 + 36 = 72 bytes" for `a: "This is a string of 28 bytes"` and `b: ${a}`
    -- https://cloud.google.com/workflows/docs/reference/syntax/variables (Memory usage)."""
    run = run_workflow('- copy:\n    assign:\n      - a: "This is a string of 28 bytes"\n      - b: ${a}\n')
    assert run.memory.used == 72

    # 12,000 small maps: 312 KB as compact JSON, but 600,008 bytes by the page's count.
    rows = [{"id": 1234, "name": "abcd"} for _ in range(12_000)]
    assert documented_size(rows) > MEMORY_LIMIT
    error = error_of("main:\n  params: [rows]\n  steps:\n    - r:\n        return: ${len(rows)}\n", rows)
    assert error["tags"] == ["ResourceLimitError"]


def _nested(depth: int, inner: str, wrap: str) -> str:
    for _ in range(depth):
        inner = wrap.format(inner)
    return inner


@pytest.mark.parametrize(
    ("expression", "length"),
    [
        # Tenfold a level: 100 characters would be 10 GB at the eighth level.
        (_nested(8, "s", 'text.replace_all({}, "a", "aaaaaaaaaa")'), 100),
        (_nested(8, "s", 'text.replace_all_regex({}, "a", "aaaaaaaaaa")'), 100),
        # One call: each of 200,000 "a" made 200,000 characters long, 40 GB.
        ('text.replace_all(s, "a", s)', 200_000),
        # Twofold a level: 2**12 copies of a 200,000-character `s` from a 20 KB expression, 800 MB.
        (_nested(12, "s", "({0} + {0})"), 200_000),
    ],
)
def test_a_string_past_256_kb_inside_an_expression_is_a_resource_limit_error(
    expression: str, length: int
) -> None:
    """The 256 KB of a string hold for every string a function or an operator makes, not only
    for those stored: these grew past the machine's memory within one expression."""
    source = f"""
main:
  params: [args]
  steps:
    - init:
        assign:
          - s: ${{text.substring(args.text, 0, args.length)}}
    - done:
        return: ${{len({expression})}}
"""
    error = error_of(source, {"text": "a" * 200_000, "length": length})

    assert error["tags"] == ["ResourceLimitError"]
    assert "256 KB" in error["message"]


def test_path_assignments_keep_the_count_at_the_variables_memory_usage() -> None:
    """A path assignment adds or replaces one entry and is counted by that alone, so the count
    must still be the variables' memory usage (Variables page) after keys are added, values
    replaced (by larger and smaller ones), maps created along a path and list elements
    changed."""
    source = """
- init:
    assign:
      - m: {}
      - l: [1, "two", 3.5]
- change:
    assign:
      - m.a: "x"
      - m["b"]: [1, 2]
      - m.b[0]: {"k": "é ✓"}
      - m.a: "a longer text, with \\"quotes\\""
      - m.c.d.e: null
      - m.c.d.f: true
      - m.b[1]: 2.5
      - m.a: 1
      - l[1]: {"x": null, "y": [false]}
      - l[0]: ${m.c}
      - l[2]: ""
      - m.b: []
- done:
    return:
      m: ${m}
      l: ${l}
"""
    run = run_workflow(source)

    assert run.error is None, run.error
    assert run.result["m"] == {"a": 1, "b": [], "c": {"d": {"e": None, "f": True}}}
    assert run.memory.used == sum(documented_size(v) for v in run.result.values())


def test_20000_path_assignments_into_one_map_cost_what_each_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A loop of `m[key]: value` runs within the 100,000 steps and the 512 KB
    (https://cloud.google.com/workflows/quotas), and the bytes the engine measures for its
    memory count grow with the values written, not with the map (re-measuring the map after
    each write took 9 s for 8,000 keys)."""
    measured = [0]

    def counting_memory_size(value: Any) -> int:
        size = memory_size(value)
        measured[0] += size
        return size

    monkeypatch.setattr(interpreter, "memory_size", counting_memory_size)
    source = """
main:
  params: [n]
  steps:
    - init:
        assign:
          - m: {}
    - fill:
        for:
          value: i
          range: ${[1, n]}
          steps:
            - put:
                assign:
                  - m[string(i)]: "value"
    - done:
        return: ${len(keys(m))}
"""
    run = run_workflow(source, 20_000)

    assert run.error is None, run.error
    assert run.result == 20_000
    assert measured[0] < 50 * 20_000  # the map alone is over 500,000 bytes


def test_a_list_grown_item_by_item_is_copied_and_checked_without_a_call_per_item(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A workflow that grows a list to the memory limit copies it and looks for long strings in
    it at each step: a Python call per item made that quadratic cost twice as dear (43 s to
    grow a list of short strings to 512 KB, 21 s now)."""
    calls = {"copy_value": 0, "check_string": 0}

    def counting(name: str, function: Any) -> Any:
        def count(*args: Any) -> Any:
            calls[name] += 1
            return function(*args)

        return count

    # The names each module calls by (an item's copy recurses through the values module's).
    monkeypatch.setattr(values, "copy_value", counting("copy_value", values.copy_value))
    monkeypatch.setattr(interpreter, "check_string", counting("check_string", values.check_string))
    source = """
main:
  params: [args]
  steps:
    - init:
        assign:
          - items: []
    - grow:
        for:
          value: i
          range: [1, 400]
          steps:
            - add:
                assign:
                  - items: ${list.concat(items, args.chunk)}
    - done:
        return: ${len(items)}
"""
    assert result_of(source, {"chunk": CHUNK}) == 400

    # 400 steps, past 256 KB from the 263rd: a call per item was 160,000 copies and 50,000 checks.
    assert calls["copy_value"] <= 400
    assert calls["check_string"] == 0


def test_a_limit_the_engine_enforces_cannot_be_caught() -> None:
    """ "ResourceLimitError ... When raised internally, this type of error cannot be caught
    and causes immediate execution failure" (Error tags,
    https://docs.cloud.google.com/workflows/docs/access-execution-results): the `except`
    never runs, so no workflow goes on holding a value the limit refused."""
    source = """
main:
  params: [args]
  steps:
    - init:
        assign:
          - l: ${[args.text, args.text]}
          - m: {}
    - guarded:
        try:
          steps:
            - copy:
                assign:
                  - m.x: ${l}
        retry:
          predicate: ${always}
          max_retries: 3
        except:
          as: e
          steps:
            - forget:
                assign:
                  - l: null
            - use:
                return: ${len(m.x)}
always:
  params: [e]
  steps:
    - yes:
        return: true
"""
    run = run_workflow(source, {"text": "y" * 140_000})

    assert run.error is not None, f"expected an error, got result {run.result!r}"
    assert run.error.value["tags"] == ["ResourceLimitError"]
    assert "memory limit" in run.error.value["message"]
    assert run.memory.used <= MEMORY_LIMIT


def test_a_limit_error_in_one_branch_ends_the_whole_execution() -> None:
    """Raised internally, a ResourceLimitError "causes immediate execution failure" (Error
    tags, https://docs.cloud.google.com/workflows/docs/access-execution-results): not an
    UnhandledBranchError once every branch has ended, but the limit's own error."""
    source = """
main:
  params: [args]
  steps:
    - both:
        parallel:
          branches:
            - grow:
                steps:
                  - double:
                      assign:
                        - text: ${args.text + args.text}
            - wait:
                steps:
                  - nap:
                      call: sys.sleep
                      args:
                        seconds: 60
    - done:
        return: "finished"
"""
    driver = Driver()
    run = driver.run(source, {"text": "y" * 140_000})

    assert run.error is not None, f"expected an error, got result {run.result!r}"
    assert run.error.value["tags"] == ["ResourceLimitError"]
    assert driver.host.clock == START  # the sleeping branch was not waited for


def test_a_raised_resource_limit_error_is_an_ordinary_error() -> None:
    """Only an error the engine raises "internally" is beyond `except` (Error tags,
    https://docs.cloud.google.com/workflows/docs/access-execution-results); a workflow's own
    `raise` of the tag is caught like any other."""
    source = """
- guarded:
    try:
      raise:
        tags: [ResourceLimitError]
        message: mine
    except:
      as: e
      steps:
        - caught:
            return: ${e.message}
"""
    assert result_of(source) == "mine"


def test_a_refused_path_assignment_changes_nothing() -> None:
    """The memory limit is checked before a path assignment writes, so the variable and the
    count stay as they were (the write used to happen first, and stay uncounted)."""
    scope = _Scope()
    scope.bind("m", {"a": 1})
    used = scope.memory.used

    with pytest.raises(ResourceLimitError):
        scope.store("m", Slot(scope["m"], "b", [CHUNK] * 600))

    assert scope["m"] == {"a": 1}
    assert scope.memory.used == used


@pytest.mark.parametrize(
    "step",
    [
        "return: ${text + text}",
        "call: sys.log\n        args:\n          text: ${text + text}",
    ],
    ids=["returned", "call argument"],
)
def test_a_string_past_256_kb_is_refused_as_a_result_or_argument_too(step: str) -> None:
    """ "String ... maximum length" is 256 KB (Syntax cheat sheet,
    https://cloud.google.com/workflows/docs/reference/syntax/syntax-cheat-sheet) whatever
    holds the string: a step's result or a call's argument as well as a variable."""
    source = f"""
main:
  params: [args]
  steps:
    - init:
        assign:
          - text: ${{text.substring(args.text, 0, 140000)}}
    - use:
        {step}
"""
    error = error_of(source, {"text": "y" * 140_000})

    assert error["tags"] == ["ResourceLimitError"]
    assert "string" in error["message"]


def test_a_loop_value_and_a_caught_error_are_copies() -> None:
    """Writing into a loop's value or a caught error changes only that variable ("values are
    copied when assigned", as every assignment is), so the count stays the variables' JSON."""
    source = """
- init:
    assign:
      - l: [{"a": 1}]
      - m: {"b": 1}
      - kept: null
- loop:
    for:
      value: v
      in: ${l}
      steps:
        - change:
            assign:
              - v.a: "a longer value"
- guarded:
    try:
      raise: ${m}
    except:
      as: e
      steps:
        - change_error:
            assign:
              - e.b: "another longer value"
              - kept: ${e}
- done:
    return:
      l: ${l}
      m: ${m}
      e: ${kept}
"""
    run = run_workflow(source)

    assert run.error is None, run.error
    assert run.result == {"l": [{"a": 1}], "m": {"b": 1}, "e": {"b": "another longer value"}}
    assert run.memory.used == sum(documented_size(v) for v in run.result.values())
