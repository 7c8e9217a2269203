"""Conformance: assign, call, switch, next, nested steps, return and raise.

Each expectation quotes the Workflows syntax reference page it comes from.
"""

from __future__ import annotations

from approvals.engine.runtime.effects import CallEffect
from tests.engine.interpreter_support import Driver, TestHost, error_of, result_of


def test_assignments_run_in_order_and_reach_into_maps_and_lists() -> None:
    """ "Each assign step can contain up to 50 assignments ... in the order they appear" and
    "assign values to map keys and list items" (Variables)."""
    source = """
- init:
    assign:
      - n: 1
      - m: {}
      - m.a: ${n + 1}
      - m["b"]: ${m.a * 10}
      - l: [1, 2, 3]
      - l[1]: 20
- done:
    return: ${[n, m, l]}
"""
    assert result_of(source) == [1, {"a": 2, "b": 20}, [1, 20, 3]]


def test_assigning_a_map_copies_it() -> None:
    """Assignment copies values: changing the copy leaves the original alone (Variables)."""
    source = """
- init:
    assign:
      - a: {x: 1}
      - b: ${a}
      - b.x: 2
- done:
    return: ${[a.x, b.x]}
"""
    assert result_of(source) == [1, 2]


def test_call_runs_library_functions_and_stores_the_result() -> None:
    """ "call: FUNCTION_NAME ... result: OUTPUT_VALUE" (Calls); sys.log goes to the host's log."""
    host = TestHost(env={"GREETING": "hi"})
    source = """
- read:
    call: sys.get_env
    args:
      name: GREETING
    result: greeting
- log:
    call: sys.log
    args:
      text: ${greeting}
- done:
    return: ${greeting}
"""
    assert result_of(source, host=host) == "hi"
    assert [payload for _, payload in host.logs] == ["hi"]


def test_subworkflows_take_named_args_with_defaults_and_return_a_value() -> None:
    """ "params: [PARAMETER_1, PARAMETER_2: DEFAULT_VALUE]"; variables are local to each
    subworkflow (Subworkflows)."""
    source = """
main:
  steps:
    - init:
        assign:
          - name: caller
    - first:
        call: greet
        args:
          name: Ada
        result: a
    - second:
        call: greet
        args:
          name: Bob
          greeting: Bye
        result: b
    - done:
        return: ${[a, b, name]}
greet:
  params: [name, greeting: Hello]
  steps:
    - build:
        return: ${greeting + " " + name}
"""
    assert result_of(source) == ["Hello Ada", "Bye Bob", "caller"]


def test_a_subworkflow_can_be_called_in_an_expression() -> None:
    """Subworkflows can be called from expressions like functions (Subworkflows)."""
    source = """
main:
  steps:
    - done:
        return: ${double(4) + 1}
double:
  params: [n]
  steps:
    - r:
        return: ${n * 2}
"""
    assert result_of(source) == 9


def test_an_expression_call_without_a_required_argument_is_a_type_error() -> None:
    source = """
main:
  steps:
    - done:
        return: ${double()}
double:
  params: [n]
  steps:
    - r:
        return: ${n * 2}
"""
    assert "TypeError" in error_of(source)["tags"]


def test_main_receives_the_execution_argument() -> None:
    """ "main: params: [ARGUMENTS]" receives the runtime arguments as a map (Subworkflows)."""
    source = "main:\n  params: [input]\n  steps:\n    - r:\n        return: ${input.x}\n"
    assert result_of(source, {"x": 5}) == 5


def test_switch_runs_the_first_true_condition_and_falls_through_when_none_match() -> None:
    """ "The first condition to evaluate as true" runs; if none is true, execution continues
    with the next step (Conditions)."""
    source = """
main:
  params: [n]
  steps:
    - pick:
        switch:
          - condition: ${n > 10}
            return: big
          - condition: ${n > 5}
            assign:
              - size: medium
            next: done
          - condition: ${n > 0}
            steps:
              - small:
                  assign:
                    - size: small
    - fallback:
        assign:
          - size: ${size + "!"}
    - done:
        return: ${size}
"""
    assert result_of(source, 20) == "big"
    assert result_of(source, 7) == "medium"
    assert result_of(source, 1) == "small!"
    assert "KeyError" in error_of(source, -1)["tags"]


def test_a_switch_step_next_is_where_execution_goes_when_no_condition_matches() -> None:
    """ "next: STEP" beside switch is the default jump (Conditions)."""
    source = """
main:
  params: [n]
  steps:
    - pick:
        switch:
          - condition: ${n == 1}
            next: one
        next: other
    - one:
        return: one
    - other:
        return: other
"""
    assert result_of(source, 1) == "one"
    assert result_of(source, 2) == "other"


def test_a_switch_condition_must_be_a_boolean() -> None:
    source = "- s:\n    switch:\n      - condition: ${1}\n        return: x\n"
    assert "TypeError" in error_of(source)["tags"]


def test_next_jumps_backwards_and_end_stops_the_workflow() -> None:
    """ "next: STEP_NAME_TO_JUMP_TO" and "next: end" stops the execution without a value (Jumps)."""
    source = """
- init:
    assign:
      - i: 0
- count:
    assign:
      - i: ${i + 1}
- again:
    switch:
      - condition: ${i < 5}
        next: count
- stop:
    next: end
- unreachable:
    return: never
"""
    run = Driver().run(source)
    assert run.error is None and run.result is None


def test_a_return_step_may_carry_a_next_that_is_never_followed() -> None:
    """Google deploys return steps ending in `next: end`: GoogleCloudPlatform/workflows-demos'
    workflows-bigquery-load (workflow.yaml) does. The return still ends the subworkflow with its
    value ("Use return to stop a workflow's execution and return a value",
    https://cloud.google.com/workflows/docs/reference/syntax/completing)."""
    source = """
main:
  steps:
    - outcome:
        call: grade
        args: {score: 7}
        result: grade_value
    - report:
        return: ${"grade " + grade_value}
        next: end
grade:
  params: [score]
  steps:
    - pick:
        switch:
          - condition: ${score > 5}
            next: passed
        next: failed
    - passed:
        return: pass
        next: end
    - failed:
        return: fail
        next: passed
"""
    assert result_of(source) == "grade pass"


def test_nested_steps_share_the_subworkflow_scope_and_can_jump_out() -> None:
    """ "Variables declared in a steps block have workflow-level scope" (Steps)."""
    source = """
- outer:
    steps:
      - inner:
          assign:
            - x: 1
      - leave:
          next: last
- skipped:
    assign:
      - x: 2
- last:
    return: ${x}
"""
    assert result_of(source) == 1


def test_raise_accepts_a_string_a_map_or_an_expression() -> None:
    """ "raise: ... a string" or "a map" (Raise errors)."""
    assert error_of("- r:\n    raise: boom\n") == "boom"
    assert error_of("- r:\n    raise:\n      code: 55\n      message: bad\n") == {
        "code": 55,
        "message": "bad",
    }
    assert error_of("- a:\n    assign:\n      - e: {tags: [X]}\n- r:\n    raise: ${e}\n") == {"tags": ["X"]}


def test_expression_errors_carry_workflows_tags() -> None:
    """ "KeyError: a map key is not found"; "IndexError"; "ZeroDivisionError" (Workflow errors)."""
    assert (
        "KeyError" in error_of("- a:\n    assign:\n      - m: {}\n- r:\n    return: ${m.missing}\n")["tags"]
    )
    assert "IndexError" in error_of("- a:\n    assign:\n      - l: []\n- r:\n    return: ${l[3]}\n")["tags"]
    assert "ZeroDivisionError" in error_of("- r:\n    return: ${1 / 0}\n")["tags"]


def test_recursion_deeper_than_the_limit_is_a_recursion_error() -> None:
    """ "RecursionError: Raised when the stack limit is exceeded" (Workflow errors)."""
    source = """
main:
  steps:
    - go:
        call: down
        args:
          n: 0
        result: r
    - done:
        return: ${r}
down:
  params: [n]
  steps:
    - deeper:
        call: down
        args:
          n: ${n + 1}
        result: r
    - back:
        return: ${r}
"""
    assert "RecursionError" in error_of(source)["tags"]


def test_bounded_recursion_works() -> None:
    source = """
main:
  steps:
    - go:
        return: ${fact(5)}
fact:
  params: [n]
  steps:
    - base:
        switch:
          - condition: ${n <= 1}
            return: 1
    - step:
        return: ${n * fact(n - 1)}
"""
    assert result_of(source) == 120


def test_blocking_calls_become_effects_with_their_arguments() -> None:
    """http.* calls are performed by the engine: the step waits for the response (Make an HTTP request)."""
    seen: list[CallEffect] = []

    def respond(effect: CallEffect) -> dict[str, object]:
        seen.append(effect)
        return {"code": 200, "body": {"ok": True}, "headers": {}}

    source = """
- get:
    call: http.get
    args:
      url: http://localhost/x
      query:
        q: ${"a" + "b"}
    result: response
- done:
    return: ${response.body.ok}
"""
    assert result_of(source, respond=respond) is True
    # Arguments arrive bound: every parameter of http.get, defaults filled in.
    assert [effect.name for effect in seen] == ["http.get"]
    assert seen[0].args["url"] == "http://localhost/x"
    assert seen[0].args["query"] == {"q": "ab"}
    assert seen[0].args["timeout"] == 300
