"""The language's queries: what the renderer, the policy pack and the tests ask of a workflow."""

from __future__ import annotations

import pytest

from approvals.engine.language import queries
from approvals.engine.language.definition import Call, Program, Return, Switch, parse
from approvals.engine.language.parser import source_value

SOURCE = """\
main:
  params: [input]
  steps:
    - read:
        assign:
          - region: ${sys.get_env("REGION")}
          - optional: ${sys.get_env("NICE", "x")}
          - dynamic: ${sys.get_env(input.name)}
    - make:
        call: events.create_callback_endpoint
        args:
          http_callback_method: POST
        result: cb
    - wait:
        try:
          call: events.await_callback
          args:
            callback: ${cb}
            timeout: 60
          result: answer
        except:
          as: e
          steps:
            - check:
                switch:
                  - condition: ${not ("TimeoutError" in e.tags)}
                    raise: ${e}
    - decide:
        switch:
          - condition: ${answer == null}
            call: notify
            args:
              text: ${"late " + sys.get_env("TEAM")}
    - done:
        return: ${helper(1)}
notify:
  params: [text]
  steps:
    - log:
        try:
          steps:
            - inner:
                call: sys.log
                args:
                  text: ${text}
        retry:
          predicate: ${retry_when}
          max_retries: 2
        except:
          as: err
          steps:
            - give_up:
                raise: ${err}
helper:
  params: [n]
  steps:
    - out:
        return: ${n}
retry_when:
  params: [e]
  steps:
    - yes:
        return: true
"""


@pytest.fixture(scope="module")
def program() -> Program:
    return parse(SOURCE, "q.yaml")


def test_sites_walk_every_action_depth_first_with_conditions_under_their_step(program: Program) -> None:
    main = [(site.step, type(site.action).__name__) for site in queries.sites(program.main)]

    assert main == [
        ("read", "Assign"),
        ("make", "Call"),
        ("wait", "Try"),
        ("wait", "Call"),  # the short form of try: its body is the step itself
        ("check", "Switch"),
        ("check", "Raise"),  # the condition's inline action
        ("decide", "Switch"),
        ("decide", "Call"),
        ("done", "Return"),
    ]


def test_calls_give_each_call_step_its_arguments_line_and_subworkflow(program: Program) -> None:
    found = [(site.subworkflow, site.step, site.call.function, site.line) for site in queries.calls(program)]

    assert found == [
        ("main", "make", "events.create_callback_endpoint", 10),
        ("main", "wait", "events.await_callback", 16),
        ("main", "decide", "notify", 31),
        ("notify", "inner", "sys.log", 43),
    ]
    [notify] = [site for site in queries.calls(program) if site.call.function == "notify"]
    assert {name: source_value(value) for name, value in (notify.call.args or {}).items()} == {
        "text": '${"late " + sys.get_env("TEAM")}'
    }


def test_env_reads_name_constant_reads_and_flag_the_others(program: Program) -> None:
    reads = [(read.name, read.has_default, read.step, read.line) for read in queries.env_reads(program)]

    assert reads == [
        ("REGION", False, "read", 6),
        ("NICE", True, "read", 7),
        (None, False, "read", 8),  # not a constant: a caller that must know the name refuses it
        ("TEAM", False, "decide", 33),
    ]


def test_awaits_and_the_handlers_guarding_them(program: Program) -> None:
    [wait] = list(queries.awaits(program))

    assert (wait.step, source_value((wait.call.args or {})["timeout"])) == ("wait", 60)
    [handler] = wait.handlers
    assert handler.handler.name == "e"
    assert handler.tags == {"TimeoutError"}


def test_handlers_of_a_step_are_innermost_first_and_none_outside_a_try(program: Program) -> None:
    [wait_step] = [step for step in program.main.body.steps if step.name == "wait"]
    [inner] = [site.node for site in queries.sites(program.subworkflows["notify"]) if site.step == "inner"]
    assert inner is not None

    assert queries.handlers_of(program, wait_step) == ()  # the try step itself is not inside it
    [handler] = queries.handlers_of(program, inner)
    assert handler.handler.name == "err"
    assert handler.tags == frozenset()  # it rethrows whatever it catches, testing no tag
    with pytest.raises(ValueError, match="not a step of this program"):
        queries.handlers_of(parse("- a:\n    return: 1\n"), inner)


def test_referenced_names_cover_calls_expressions_and_retry_predicates(program: Program) -> None:
    assert queries.referenced_names(program.main) == {"notify", "helper"}
    assert queries.referenced_names(program.subworkflows["notify"]) == {"retry_when"}


def test_a_partial_source_reads_without_resolving_its_names() -> None:
    source = "main:\n  steps:\n    - ask:\n        call: request_approval\n        args: {id: ${make_id()}}\n"

    with pytest.raises(ValueError, match="unknown function or subworkflow 'make_id'"):
        parse(source)
    [call] = list(queries.calls(parse(source, strict=False)))
    assert (call.call.function, call.call.kind) == ("request_approval", "unresolved")
    assert queries.referenced_names(parse(source, strict=False)) == {"request_approval", "make_id"}


def test_reads_and_values_of_an_action(program: Program) -> None:
    [decide] = [site.action for site in queries.sites(program.main) if isinstance(site.action, Switch)][1:]
    [notify] = [site.action for site in queries.sites(program.main) if isinstance(site.action, Call)][2:]
    [done] = [site.action for site in queries.sites(program.main) if isinstance(site.action, Return)]

    assert queries.action_reads(decide) == {"answer"}
    assert queries.action_reads(notify) == set()  # sys.get_env is a call, not a variable
    assert [source_value(value) for value in queries.values_of(done)] == ["${helper(1)}"]
    assert queries.reads(
        parse("- a:\n    return: ${cb.url + x[cb.id]}\n").main.body.steps[0].action.value
    ) == {
        "cb.url",
        "x",
        "cb.id",
    }
