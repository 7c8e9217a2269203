"""Conformance: for loops over lists, map keys and ranges; break, continue and loop scope."""

from __future__ import annotations

import textwrap

import pytest

from approvals.engine.language.definition import parse
from approvals.engine.runtime.errors import DefinitionError
from tests.engine.interpreter_support import error_of, result_of


def collecting(loop: str, item: str = "n", steps: str = "") -> str:
    """A workflow whose `for` loop (`loop`: its value, index, in or range fields) runs `steps`, then
    appends `item` to a list, which it returns."""
    return f"""
- init:
    assign:
      - out: []
- loop:
    for:
{textwrap.indent(loop.strip(), " " * 6)}
      steps:
{textwrap.indent(steps.strip(), " " * 8)}
        - add:
            assign:
              - out: ${{list.concat(out, {item})}}
- done:
    return: ${{out}}
"""


def test_for_in_a_list_with_an_index() -> None:
    """ "INDEX_VARIABLE_NAME ... always starts at 0 and goes to len(LIST) - 1" (Iteration)."""
    source = collecting(
        """
value: v
index: i
in: ["a", "b", "c"]
""",
        item="v + string(i)",
    )
    assert result_of(source) == ["a0", "b1", "c2"]


def test_for_over_the_keys_of_a_map() -> None:
    """ "To iterate over a map, use keys()": `in: ${keys(map)}` (Iteration)."""
    source = """
- init:
    assign:
      - m: {a: 1, b: 2}
      - total: 0
- loop:
    for:
      value: k
      in: ${keys(m)}
      steps:
        - add:
            assign:
              - total: ${total + m[k]}
- done:
    return: ${total}
"""
    assert result_of(source) == 3


def test_range_is_inclusive_at_both_ends() -> None:
    """ "range: [START, END] ... both inclusive" (Iteration)."""
    assert result_of(collecting("value: n\nrange: [1, 4]")) == [1, 2, 3, 4]


def test_a_double_range_steps_by_one() -> None:
    """ "The expressions must evaluate into incrementable values; that is, integer or double" (Iteration)."""
    assert result_of(collecting("value: n\nrange: ${[1.5, 3.5]}")) == [1.5, 2.5, 3.5]


def test_break_and_continue() -> None:
    """ "next: break" ends the loop, "next: continue" ends the iteration (Iteration)."""
    source = collecting(
        "value: n\nrange: [1, 10]",
        steps="""
- skip_even:
    switch:
      - condition: ${n % 2 == 0}
        next: continue
      - condition: ${n > 6}
        next: break
""",
    )
    assert result_of(source) == [1, 3, 5]


def test_loop_variables_do_not_exist_after_the_loop() -> None:
    """ "Any variables created in a loop do not exist outside of that loop"; variables created
    before it are updated (Iteration, loop scope sample). Reading one after the loop "will raise
    an error when deploying the workflow"
    (https://cloud.google.com/workflows/docs/reference/syntax/variables)."""
    body = """
- init:
    assign:
      - before: 0
- loop:
    for:
      value: v
      in: [1, 2]
      steps:
        - set:
            assign:
              - before: ${v}
              - inside: ${v}
"""
    assert result_of(body + "- done:\n    return: ${before}\n") == 2
    for name in ("inside", "v"):
        with pytest.raises(DefinitionError) as caught:
            parse(body + f"- done:\n    return: ${{{name}}}\n")
        assert caught.value.step == "done" and f"reads {name!r}" in caught.value.message


def test_return_inside_a_loop_returns_from_the_subworkflow() -> None:
    source = """
- loop:
    for:
      value: v
      in: [1, 2, 3]
      steps:
        - found:
            switch:
              - condition: ${v == 2}
                return: ${v * 100}
- none:
    return: 0
"""
    assert result_of(source) == 200


def test_in_must_be_a_list() -> None:
    source = (
        '- l:\n    for:\n      value: v\n      in: ${"abc"}\n'
        "      steps:\n        - s:\n            return: 1\n"
    )
    assert "TypeError" in error_of(source)["tags"]
