"""Workflow definitions: both source forms, and every deploy-time error naming its step and line."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from approvals.engine.language import definition
from approvals.engine.language.definition import Assign, Call, Loop, Parallel, Switch, Try, parse
from approvals.engine.runtime.engine import Engine
from approvals.engine.runtime.errors import DefinitionError
from approvals.workflow_templates import available_templates, load_template, render
from tests.engine.interpreter_support import result_of as interpreted_result
from tests.templates.examples import PLATFORM_ENV, REQUIRED_PARAMS


def definition_error(source: str) -> DefinitionError:
    with pytest.raises(DefinitionError) as caught:
        parse(source, "test.yaml")
    return caught.value


def test_a_plain_list_of_steps_is_main() -> None:
    """ "Workflow source files ... contain only one main workflow" (Syntax overview); a list of
    steps is that main workflow."""
    program = parse("- first:\n    assign:\n      - x: 1\n- second:\n    return: ${x}\n")

    assert list(program.subworkflows) == ["main"]
    assert [(step.name, step.line) for step in program.main.body.steps] == [("first", 1), ("second", 4)]
    assert isinstance(program.main.body.steps[0].action, Assign)


def test_main_and_subworkflows_keep_params_defaults_steps_and_lines() -> None:
    """ "params: [PARAMETER_1, PARAMETER_2: DEFAULT_VALUE]" -- Subworkflows: a param may have a default."""
    program = parse(
        """
main:
  params: [args]
  steps:
    - call_sub:
        call: greet
        args:
          name: ${args.name}
        result: greeting
    - done:
        return: ${greeting}
greet:
  params: [name, greeting: "Hello"]
  steps:
    - build:
        return: ${greeting + " " + name}
"""
    )

    assert [p.name for p in program.main.params] == ["args"]
    greet = program.subworkflows["greet"]
    assert [(p.name, p.required) for p in greet.params] == [("name", True), ("greeting", False)]
    call = program.main.body.steps[0]
    assert (call.name, call.line) == ("call_sub", 5)
    assert isinstance(call.action, Call) and call.action.kind == "subworkflow"
    assert greet.line == 12


def test_step_kinds_are_recognised() -> None:
    program = parse(
        """
- a:
    for:
      value: v
      range: [1, 3]
      steps:
        - s:
            switch:
              - condition: ${v == 2}
                next: continue
- p:
    parallel:
      branches:
        - b1:
            steps:
              - x: {call: sys.sleep, args: {seconds: 1}}
        - b2:
            steps:
              - y: {call: http.get, args: {url: "http://localhost"}}
- t:
    try:
      call: http.get
      args: {url: "http://localhost"}
    retry: ${http.default_retry}
"""
    )
    kinds = [type(step.action) for step in program.main.body.steps]
    assert kinds == [Loop, Parallel, Try]
    loop = program.main.body.steps[0].action
    assert isinstance(loop.body.steps[0].action, Switch)


@pytest.mark.parametrize(
    ("source", "line", "step", "words"),
    [
        ("- a:\n    assign:\n      - x: [1, 2\n", 4, None, "invalid YAML"),
        ("- a:\n    asign:\n      - x: 1\n", 2, "a", "unknown field 'asign'"),
        ("- a:\n    assign:\n      - x: 1\n    call: sys.log\n", 4, "a", "assign and call"),
        ("- a:\n    assign:\n      - x: 1\n    next: nowhere\n", 1, "a", "'nowhere' is not a step"),
        ("- a:\n    next: break\n", 1, "a", "only allowed inside a for loop"),
        (
            "- a:\n    steps:\n      - b:\n          next: continue\n",
            3,
            "b",
            "only allowed inside a for loop",
        ),
        (
            "- a:\n    assign:\n      - x: 1\n- b:\n    steps:\n      - a:\n          return: 1\n",
            6,
            "a",
            "duplicate",
        ),
        ("- a:\n    call: no_such_sub\n", 2, "a", "unknown function or subworkflow 'no_such_sub'"),
        ("- a:\n    call: googleapis.bigquery.v2.jobs.query\n", 2, "a", "googleapis.firestore.v1"),
        ('- a:\n    assign:\n      - x: ${http.get("u")}\n', 3, "a", "cannot be used inside an expression"),
        ('- a:\n    return: ${sys.log("x")}\n', 2, "a", "cannot be used inside an expression"),
        ("- a:\n    return: ${nope(1)}\n", 2, "a", "unknown function"),
        ("- a:\n    return: ${1 +}\n", 2, "a", "invalid expression"),
        ("main:\n  params: [a, b]\n  steps:\n    - s:\n        return: 1\n", 2, None, "most one parameter"),
        (
            "- a:\n    for:\n      value: v\n      steps:\n        - s:\n            return: 1\n",
            2,
            "a",
            "exactly one of in",
        ),
        (
            "- a:\n    for:\n      value: v\n      range: [1, 2, 3]\n"
            "      steps:\n        - s:\n            return: 1\n",
            4,
            "a",
            "two values",
        ),
        (
            "- a:\n    parallel:\n      branches:\n        - only:\n"
            "            steps:\n              - s:\n                  return: 1\n",
            3,
            "a",
            "2 to 10 branches",
        ),
        (
            "- a:\n    parallel:\n      exception_policy: failFast\n"
            "      for:\n        value: v\n        in: [1]\n"
            "        steps:\n          - s:\n              return: 1\n",
            3,
            "a",
            "continueAll",
        ),
        (
            "- a:\n    try:\n      call: sys.sleep\n      args: {seconds: 1}\n",
            2,
            "a",
            "try needs retry or except",
        ),
        (
            "- a:\n    call: sys.sleep\n    except:\n      steps:\n        - b:\n            return: 1\n",
            3,
            "a",
            "'except' needs 'try'",
        ),
        (
            "- a:\n    try:\n      return: 1\n    retry:\n      max_retries: 3\n",
            4,
            "a",
            "retry needs predicate",
        ),
        ("- a:\n    switch:\n      - next: b\n- b:\n    return: 1\n", 3, "a", "needs a condition"),
        ("- a:\n    args: {x: 1}\n    return: 1\n", 2, "a", "'args' needs 'call'"),
        ("- a:\n    raise: boom\n    next: b\n- b:\n    return: 1\n", 3, "a", "never run"),
        ("just text\n", 1, None, "a workflow is a map"),
    ],
)
def test_definition_errors_name_the_step_and_the_line(
    source: str, line: int, step: str | None, words: str
) -> None:
    error = definition_error(source)

    assert words in error.message
    assert error.line == line
    assert error.step == step
    assert str(error).startswith(f"test.yaml:{line}")


def test_yaml_that_reads_as_workflows_values_still_deploys() -> None:
    program = parse('- a:\n    return: ["2024-01-01", 7, 1.5, true, null, {k: [x]}]\n', "test.yaml")

    assert program.subworkflows["main"].body.steps[0].action.value is not None


def test_subworkflow_arguments_are_checked_against_its_params() -> None:
    """Calling a subworkflow with an unknown argument or without a required one cannot deploy."""
    base = (
        "main:\n  steps:\n    - a:\n        call: sub\n{args}sub:\n"
        "  params: [x, y: 2]\n  steps:\n    - r:\n        return: ${{x}}\n"
    )

    missing = definition_error(base.format(args=""))
    unknown = definition_error(base.format(args="        args: {x: 1, z: 3}\n"))

    assert "needs argument x" in missing.message and (missing.step, missing.line) == ("a", 4)
    assert "no parameter 'z'" in unknown.message and unknown.step == "a"


def test_an_unknown_connector_lists_the_supported_ones() -> None:
    error = definition_error("- a:\n    call: googleapis.storage.v1.objects.get\n")

    for connector in ("firestore v1", "translate v2", "translate v3", "pubsub v1"):
        family, version = connector.split()
        assert f"googleapis.{family}.{version}" in error.message


def test_next_cannot_jump_into_or_out_of_a_loop_body() -> None:
    """A loop body and a parallel branch run apart from their surroundings, so jumps stay inside them."""
    into = definition_error(
        "- a:\n    next: inner\n- l:\n    for:\n      value: v\n      in: [1]\n      steps:\n"
        "        - inner:\n            return: 1\n"
    )
    out = definition_error(
        "- l:\n    for:\n      value: v\n      in: [1]\n"
        "      steps:\n        - inner:\n            next: after\n"
        "- after:\n    return: 1\n"
    )

    assert "'inner'" in into.message and into.step == "a"
    assert "'after'" in out.message and (out.step, out.line) == ("inner", 6)


def test_next_may_leave_nested_steps_for_an_enclosing_step() -> None:
    program = parse(
        "- outer:\n    steps:\n      - inner:\n          next: last\n"
        "- skipped:\n    return: 0\n- last:\n    return: 1\n"
    )

    assert program.main.body.steps[0].action.body.steps[0].next == "last"


LOOP_BODY = "      in: [1]\n      steps:\n        - s:\n            next: end\n"


@pytest.mark.parametrize(
    ("source", "what"),
    [
        ("- l:\n    for:\n      value: item-1\n" + LOOP_BODY, "the loop variable"),
        ("- l:\n    for:\n      value: v\n      index: 2i\n" + LOOP_BODY, "the index variable"),
        (
            "- t:\n    try:\n      raise: x\n    except:\n      as: my-error\n"
            "      steps:\n        - s:\n            next: end\n",
            "except's as",
        ),
        ("main:\n  params: [run-args]\n  steps:\n    - s:\n        next: end\n", "a parameter"),
        (
            "main:\n  steps:\n    - s:\n        next: end\nsub:\n  params: [{max-tries: 3}]\n"
            "  steps:\n    - s2:\n        next: end\n",
            "a parameter",
        ),
    ],
)
def test_a_variable_name_is_letters_digits_and_underscores(source: str, what: str) -> None:
    """ "Variable names must start with a letter or underscore, and must consist of only
    letters, digits, and underscores." -- https://cloud.google.com/workflows/docs/reference/syntax/variables"""
    error = definition_error(source)

    assert error.message.startswith(what) and "is not a variable name" in error.message


def test_variable_names_may_start_with_an_underscore_and_hold_digits() -> None:
    program = parse("main:\n  params: [_args2]\n  steps:\n    - s:\n        return: ${_args2}\n")

    assert program.main.params[0].name == "_args2"


EXCEPT_THEN_READ = """
- guarded:
    try:
      steps:
        - attempt:
            assign:
              - tried: true
        - fail:
            raise: "boom"
    except:
      as: e
      steps:
        - note:
            assign:
              - noted: ${e}
- after:
    return: ${READ}
"""


@pytest.mark.parametrize("name", ["e", "noted"])
def test_reading_what_an_except_block_created_after_it_cannot_deploy(name: str) -> None:
    """ "accessing it outside of the loop will raise an error when deploying the workflow. This
    local scoping also applies to any variable created inside an except block."
    -- https://cloud.google.com/workflows/docs/reference/syntax/variables"""
    error = definition_error(EXCEPT_THEN_READ.replace("READ", name))

    assert (error.step, error.line) == ("after", 16)
    assert f"reads {name!r}" in error.message


@pytest.mark.parametrize(("name", "policy"), [("retry", "retry.always"), ("http", "http.default_retry")])
def test_a_loop_variable_named_like_a_library_leaves_the_library_readable(name: str, policy: str) -> None:
    """`${http.default_retry}` reads the library, not a loop's `http` (it was refused as a read
    of the loop's variable)."""
    parse(
        f"- each:\n    for:\n      value: {name}\n      in: [1]\n      steps:\n"
        f"        - a:\n            assign:\n              - x: ${{{name}}}\n"
        f"- t:\n    try:\n      call: sys.log\n      args:\n        text: hi\n"
        f"    retry:\n      predicate: ${{{policy}}}\n      max_retries: 1\n"
        f"      backoff:\n        initial_delay: 1\n        max_delay: 1\n        multiplier: 1\n",
        "test.yaml",
    )


def test_a_merged_map_used_again_through_an_alias_deploys() -> None:
    """A map that merges another (`<<: *b`) and overrides a key is read once more through its
    alias: its merged keys are no repetition (it was refused as "duplicate key 'b'")."""
    source = (
        "- init:\n    assign:\n      - base: &b {a: 1, b: 2}\n      - m: &m\n"
        "          <<: *b\n          b: 3\n      - n: *m\n- done:\n    return: ${n}\n"
    )
    assert interpreted_result(source) == {"a": 1, "b": 3}


def test_a_loop_in_a_switch_condition_keeps_its_variables_too() -> None:
    """ "A variable created inside a for loop belongs to the local scope of that loop"
    -- https://cloud.google.com/workflows/docs/reference/syntax/variables"""
    error = definition_error(
        "- s:\n    switch:\n      - condition: true\n        for:\n          value: v\n"
        "          in: [1]\n          steps:\n            - a:\n                assign:\n"
        "                  - inner: ${v}\n- r:\n    return: ${inner}\n"
    )

    assert (error.step, error.line) == ("r", 11) and "reads 'inner'" in error.message


def test_what_a_scope_or_its_enclosing_scopes_assign_reads_anywhere_in_it() -> None:
    """A try body is no scope of its own; a loop body reads its loop's and the enclosing
    variables; a name a loop creates that the scope around it also assigns is that scope's."""
    parse(EXCEPT_THEN_READ.replace("READ", "tried"))
    parse(
        """
- init:
    assign:
      - total: 0
- outer:
    for:
      value: row
      in: [[1, 2]]
      steps:
        - inner:
            for:
              value: cell
              in: ${row}
              steps:
                - add:
                    assign:
                      - total: ${total + cell + len(row)}
                      - last: ${cell}
- later:
    assign:
      - last: 0
- done:
    return: ${[total, last]}
"""
    )


@pytest.mark.parametrize("limit", ["0", "2.0", '"2"', "true"])
def test_a_literal_concurrency_limit_is_a_positive_integer(limit: str) -> None:
    """CONCURRENCY_LIMIT: "Must be a positive integer, and can be either a literal value or an
    expression" -- https://cloud.google.com/workflows/docs/reference/syntax/parallel-steps"""
    source = (
        f"- p:\n    parallel:\n      concurrency_limit: {limit}\n      for:\n        value: v\n"
        "        in: [1]\n        steps:\n          - s:\n              next: end\n"
    )
    error = definition_error(source)

    assert (error.step, error.line) == ("p", 3) and "positive integer" in error.message


def test_a_retry_predicate_may_name_a_subworkflow() -> None:
    """ "a custom predicate defined as a subworkflow" -- Retry steps."""
    program = parse(
        """
main:
  steps:
    - t:
        try:
          call: http.get
          args: {url: "http://localhost"}
        retry:
          predicate: ${my_predicate}
          max_retries: 3
          backoff:
            initial_delay: 1
            max_delay: 10
            multiplier: 2
my_predicate:
  params: [e]
  steps:
    - r:
        return: true
"""
    )

    assert program.main.body.steps[0].action.retry is not None


@pytest.mark.parametrize("name", available_templates())
def test_every_rendered_template_parses(name: str) -> None:
    template = load_template(name)
    source = render(template, {**PLATFORM_ENV, **template.env_for(REQUIRED_PARAMS.get(name, {}))})

    program = parse(source, f"{name}.yaml")

    assert "main" in program.subworkflows and "request_approval" in program.subworkflows


@pytest.mark.parametrize("name", available_templates())
def test_quoting_flow_expressions_changes_no_readable_template(name: str) -> None:
    """The quoting pass follows the strings, comments and block text of real definitions: a
    file YAML reads has no unquoted `${` starting a flow node, so nothing in it is quoted."""
    template = load_template(name)
    source = render(template, {**PLATFORM_ENV, **template.env_for(REQUIRED_PARAMS.get(name, {}))})

    assert definition._quote_flow_expressions(source) == source


_PARALLEL_WRITE = """
main:
  params: [order]
  steps:
    - prepare:
        assign:
          - totals: {{}}
          - label: draft
    - fan_out:
        parallel:
          shared: [totals]
{body}
    - done:
        return: ${{totals}}
"""
_RELABEL = """
          branches:
            - left:
                steps:
                  - relabel:
                      assign:
                        - label: final
            - right:
                steps:
                  - keep:
                      assign:
                        - totals.b: 2
"""
_RESULT_INTO_A_PARAMETER = """
          branches:
            - left:
                steps:
                  - keep:
                      assign:
                        - totals.a: 1
            - right:
                steps:
                  - fetch:
                      call: sys.now
                      result: order
"""
_KEY_OF_AN_UNSHARED_MAP = """
          for:
            value: n
            in: [1, 2]
            steps:
              - note:
                  assign:
                    - label.n: ${n}
"""
_LOCALS_AND_SHARED = """
          branches:
            - left:
                steps:
                  - mine:
                      assign:
                        - temp: 1
                        - temp: ${temp + 1}
                        - totals.a: ${temp}
                        - later: 1
                  - inner:
                      parallel:
                        shared: [totals]
                        for:
                          value: label
                          in: [x]
                          steps:
                            - put:
                                assign:
                                  - totals[label]: 1
            - right:
                steps:
                  - fetch:
                      call: sys.now
                      result: now
"""


@pytest.mark.parametrize(
    ("body", "line", "step", "name"),
    [
        (_RELABEL, 17, "relabel", "label"),
        (_RESULT_INTO_A_PARAMETER, 20, "fetch", "order"),
        (_KEY_OF_AN_UNSHARED_MAP, 18, "note", "label"),
    ],
)
def test_a_branch_assigning_an_unshared_parent_variable_cannot_deploy(
    body: str, line: int, step: str, name: str
) -> None:
    """ "shared: a list of writable variables with parent scope that allow assignments within the
    parallel step" (https://cloud.google.com/workflows/docs/reference/syntax/parallel-steps); the
    shared-variables sample marks a branch's write to a parent variable not in shared as a
    "deployment error" (GoogleCloudPlatform/workflows-samples, parallel shared variables)."""
    error = definition_error(_PARALLEL_WRITE.format(body=body.strip("\n")))

    assert f"assigns {name!r}" in error.message and "shared" in error.message
    assert (error.step, error.line) == (step, line)


def test_a_branch_may_create_its_own_variables_and_write_shared_ones() -> None:
    """Branch-local variables and a parallel for's loop variables are "local to this branch
    scope" (https://cloud.google.com/workflows/docs/reference/syntax/parallel-steps, shared
    variables sample); a variable the parent first assigns after the parallel step is not yet
    a parent variable, and a nested parallel step may share a variable the outer one shares."""
    source = _PARALLEL_WRITE.format(body=_LOCALS_AND_SHARED.strip("\n")).replace(
        "    - done:\n", "    - after:\n        assign:\n          - later: 2\n    - done:\n"
    )

    program = parse(source, "test.yaml")

    assert isinstance(program.main.body.steps[1].action, Parallel)


_SIBLINGS_LOCAL = """
          branches:
            - left:
                steps:
                  - mine:
                      assign:
                        - note: left
            - right:
                steps:
                  - borrow:
                      assign:
                        - totals.b: ${note}
"""
_ITERATION_READS_NOTHING_DEFINED = """
          for:
            value: n
            in: [1, 2]
            steps:
              - add:
                  assign:
                    - totals[string(n)]: ${n + missing}
"""


@pytest.mark.parametrize(
    ("body", "line", "step", "name"),
    [(_SIBLINGS_LOCAL, 20, "borrow", "note"), (_ITERATION_READS_NOTHING_DEFINED, 16, "add", "missing")],
)
def test_a_branch_reading_a_variable_it_does_not_have_cannot_deploy(
    body: str, line: int, step: str, name: str
) -> None:
    """Google's shared-variables sample marks a branch's read of a variable that only another
    branch assigns (`temp: ${temp2}`) as a "deployment error, temp2 is not defined in this
    branch" (https://cloud.google.com/workflows/docs/samples/workflows-parallel-shared-variables,
    workflows-samples src/parallel_shared_variables.workflows.yaml); the engine failed the
    branch at run time with a KeyError instead."""
    error = definition_error(_PARALLEL_WRITE.format(body=body.strip("\n")))

    assert f"reads {name!r}" in error.message and "not defined in this branch" in error.message
    assert (error.step, error.line) == (step, line)


def test_a_branch_reads_parent_variables_its_own_and_library_values() -> None:
    """What a branch may read: the parent's variables, parameters, its own (whatever their
    order), loop variables, an except's error, subworkflow names as retry predicates, library
    values such as `http.default_retry`, and a variable the parent assigns after the parallel
    step (a `next` may jump back over it)."""
    body = """
          branches:
            - left:
                steps:
                  - early:
                      switch:
                        - condition: ${late == null}
                          next: set_late
                  - set_late:
                      assign:
                        - late: ${label + string(order) + string(after_step)}
                  - guarded:
                      try:
                        call: sys.now
                        result: now
                      retry: ${http.default_retry}
                      except:
                        as: e
                        steps:
                          - note:
                              assign:
                                - totals.e: ${e}
                  - again:
                      try:
                        call: sys.now
                      retry:
                        predicate: ${always}
                        max_retries: 1
                        backoff:
                          initial_delay: 1
                          max_delay: 1
                          multiplier: 1
            - right:
                steps:
                  - loop:
                      for:
                        value: v
                        index: i
                        in: ${[1]}
                        steps:
                          - put:
                              assign:
                                - totals[string(i)]: ${v + len(totals)}
"""
    source = (
        _PARALLEL_WRITE.format(body=body.strip("\n")).replace(
            "    - done:\n", "    - after:\n        assign:\n          - after_step: 2\n    - done:\n"
        )
        + """
always:
  params: [e]
  steps:
    - answer:
        return: true
"""
    )

    program = parse(source, "test.yaml")

    assert isinstance(program.main.body.steps[1].action, Parallel)


def test_an_unquoted_expression_inside_a_flow_list_or_map_deploys_and_evaluates(engine: Engine) -> None:
    """Google deploys `fieldPaths: [${firestore_key}]`, an expression unquoted inside a YAML
    flow list, in its callback-event tutorial
    (https://cloud.google.com/workflows/docs/tutorials/create-wait-for-events-callbacks, sample
    https://cloud.google.com/workflows/docs/samples/workflows-callback-event-sample) and in
    workflows-demos state-management-firestore/workflow.yaml; the engine refused both as
    "invalid YAML", since a YAML 1.1 reader stops a plain scalar at the `{`."""
    source = """
- build:
    assign:
      - key: k
      - pair: [${key}, ${"a, b}" + key}]
      - nested: {first: ${key + "]"}, more: [ ${len([1, 2])} ]}
- done:
    return: [${pair}, ${nested}]
"""
    engine.deploy("flows", source)
    execution = engine.start("flows")
    engine.wait_idle()

    assert engine.get(execution.id).result == [["k", "a, b}k"], {"first": "k]", "more": [2]}]


def test_a_flow_list_broken_otherwise_is_still_invalid_yaml() -> None:
    """The error is the one of the same list with its expression quoted, where the reader
    finds the list unclosed."""
    error = definition_error("- build:\n    assign:\n      - pair: [${key}, 2\n")
    quoted = definition_error('- build:\n    assign:\n      - pair: ["${key}", 2\n')

    assert "invalid YAML" in error.message
    assert (error.message, error.line) == (quoted.message, quoted.line)


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail, rather than hang the suite, when the block runs past `seconds`."""

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ("main:\n  steps:\n    - a:\n        call: sys.log\n        args: {text: Hello ${name}}\n", 5),
        ('x: [a ${b}, "c"]\n', 1),
        ('x: [a ${b}]\ny: "z"\n', 1),
        ('x: [$${a}, "c"]\n', 1),
    ],
)
def test_an_expression_in_the_middle_of_a_flow_scalar_is_invalid_yaml(source: str, line: int) -> None:
    """Only an expression that starts a node of a flow collection is read as one: `Hello ${name}`
    there stays a YAML error (quoting its `${name}` used to loop for ever)."""
    with deadline(5):
        error = definition_error(source)

    assert "invalid YAML" in error.message
    assert (error.source, error.line) == ("test.yaml", line)


def test_a_yaml_error_after_a_flow_expression_names_its_own_line() -> None:
    source = """
- build:
    assign:
      - key: k
      - xs: [${1 + 1}]
- more:
    assign:
      - y: 2
      - z: [1, 2}
- done:
    return: ${xs}
"""
    error = definition_error(source)

    assert "invalid YAML" in error.message and error.line == 9


def test_thousands_of_flow_expressions_are_read_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    """A refused file is quoted in one pass and read once more, not once per expression."""
    reads = []

    class CountingLoader(definition._Loader):  # type: ignore[misc,name-defined]
        def get_single_node(self) -> Any:
            reads.append(1)
            return super().get_single_node()

    monkeypatch.setattr(definition, "_Loader", CountingLoader)
    items = ", ".join(f"${{{i}}}" for i in range(1800))
    source = "- build:\n    assign:\n" + "".join(f"      - l{n}: [{items}]\n" for n in range(4))
    source += "- done:\n    return: ${l3[1799]}\n"

    program = parse(source, "test.yaml")

    assert len(reads) == 2
    assert program.subworkflows["main"].body.steps[1].action.value.expr is not None


def test_quoting_flow_expressions_leaves_strings_comments_and_block_text_alone(engine: Engine) -> None:
    """The `[${...}` in a quoted scalar, a comment or a block scalar is text, not a flow list."""
    source = """
- build:
    assign:
      - key: k
      - single: 'it''s [${key}, {${key}'
      - double: "a \\" [${key}"
      - block: |
          it's [${key}, "${key}
      - folded: >-
          {a: ${key}}
      - pair: [it's, ${key}]  # [${key}
- done:
    return: ${[single, double, block, folded, pair]}
"""
    engine.deploy("flows", source)
    execution = engine.start("flows")
    engine.wait_idle()

    assert engine.get(execution.id).result == [
        "it's [${key}, {${key}",
        'a " [${key}',
        "it's [${key}, \"${key}\n",
        "{a: ${key}}",
        ["it's", "k"],
    ]


# Workflow sources come from others: YAML's own features must not get past the deploy-time
# checks. Google documents only the Workflows data types ("Data types",
# https://cloud.google.com/workflows/docs/reference/syntax/datatypes): null, booleans,
# integers, doubles, strings, lists and maps, whose keys are strings. Anything else is a
# definition error naming the line, rather than a Python traceback or a value no step can use.
_STEP = "main:\n  steps:\n    - s:\n        return: {}\n"


def _alias_bomb(levels: int) -> str:
    """`levels` anchors, each a list of ten aliases of the one before: 10**levels values."""
    lines = ["    - a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"    - a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels)]
    return (
        "main:\n  steps:\n    - s:\n        assign:\n" + "\n".join(f"      {line}" for line in lines) + "\n"
    )


@pytest.mark.parametrize(
    ("source", "line", "words"),
    [
        (_STEP.format("!!python/object/apply:os.system [echo]"), 4, "tag !!python/object/apply:os.system"),
        (_STEP.format("!!set {a, b}"), 4, "tag !!set is not a Workflows data type"),
        (_STEP.format("!!omap [a: 1]"), 4, "tag !!omap"),
        (_STEP.format("!!pairs [a: 1, a: 2]"), 4, "tag !!pairs"),
        (_STEP.format("!!binary aGVsbG8="), 4, "tag !!binary"),
        (_STEP.format("!custom 1"), 4, "tag !custom"),
        (_STEP.format("{[1, 2]: x}"), 4, "a map key must be a string"),
        ("main:\n  steps:\n    - [s]:\n        return: 1\n", 3, "a map key must be a string"),
        (_STEP.format("&a [*a]"), 4, "alias refers to a value that contains it"),
        (_STEP.format("{a: 1, a: 2}"), 4, "duplicate key 'a'"),
        (_STEP.format("!!int abc"), 4, "invalid YAML value 'abc'"),
        (_STEP.format("!!float abc"), 4, "invalid YAML value 'abc'"),
        (_STEP.format("!!bool maybe"), 4, "invalid YAML value 'maybe'"),
        (_STEP.format("9" * 5000), 4, "invalid YAML value '9999"),
        (_STEP.format("a\x01b"), 4, "control characters are not allowed"),
        (_STEP.format("[" * 200 + "]" * 200), 4, "nest more than 100 levels"),
        # a4, ten of a3's 11,111 values and its own, is the first past 100,000.
        (_alias_bomb(9), 9, "more than 100000 values once its YAML aliases are written out"),
    ],
)
def test_yaml_features_beyond_the_workflows_data_types_are_definition_errors(
    source: str, line: int, words: str
) -> None:
    with deadline(10):
        error = definition_error(source)

    assert words in error.message
    assert (error.source, error.line) == ("test.yaml", line)


def test_aliases_and_a_long_document_written_out_still_deploy(engine: Engine) -> None:
    """Only what aliases add counts: a long file that writes its 150,000 values out deploys,
    and so does an alias that repeats a small value."""
    steps = "".join(f"    - s{i}:\n        assign:\n          - x: [{i}, {i}]\n" for i in range(15_000))
    aliased = "          - a: &a {k: [1, 2]}\n          - b: *a\n"

    engine.deploy("long", "main:\n  steps:\n" + steps + "    - r:\n        return: 1\n")
    engine.deploy(
        "aliased",
        "main:\n  steps:\n    - s:\n        assign:\n" + aliased + "    - r:\n        return: ${b}\n",
    )
    execution = engine.start("aliased")
    engine.wait_idle()

    assert engine.get(execution.id).result == {"k": [1, 2]}


def test_a_lone_equals_sign_is_text() -> None:
    """YAML 1.1 reads a plain `=` as its "value key", which no Workflows value is: it is text."""
    program = parse(_STEP.format("="), "test.yaml")

    assert program.main.body.steps[0].action.value.value == "="  # type: ignore[union-attr]
