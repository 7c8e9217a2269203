"""The engine protocol: effects and their ids, resolution, replay, cancellation; a template end to end."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from approvals.engine.language.definition import parse
from approvals.engine.runtime.effects import (
    AwaitCallbackEffect,
    CallEffect,
    CreateCallbackEffect,
    SleepEffect,
)
from approvals.engine.runtime.errors import WorkflowError
from approvals.engine.runtime.interpreter import Run
from approvals.workflow_templates import load_template, render
from tests.engine.interpreter_support import START, Driver, TestHost, error_of
from tests.templates.examples import PLATFORM_ENV

SLEEPS = """
- first:
    call: sys.sleep
    args:
      seconds: 10
- now:
    assign:
      - t: ${sys.now()}
- second:
    call: sys.sleep_until
    args:
      time: "2023-11-14T22:15:00Z"
- done:
    return: ${t}
"""


def test_sleeps_are_effects_on_the_engine_clock() -> None:
    """ "sys.sleep: Suspends execution for the given number of seconds" (stdlib sys); the engine's
    clock decides when it ends, so a virtual clock makes it instant."""
    host = TestHost()
    run = Run(parse(SLEEPS), None, host)
    run.advance()

    assert run.pending == {"0:0": SleepEffect(START + 10)}
    host.clock += 10
    run.resolve("0:0")
    run.advance()
    assert run.pending == {"0:1": SleepEffect(1_700_000_100.0)}
    run.resolve("0:1")
    run.advance()
    assert run.done and run.result == START + 10


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        ('${double("nan")}', "at most 31536000 (one year), got nan"),
        ('${double("inf")}', "at most 31536000 (one year), got inf"),
        ("31536001", "at most 31536000 (one year)"),
    ],
)
def test_a_sleep_past_one_year_is_a_value_error(seconds: str, words: str) -> None:
    """sys.sleep: "Maximum is 31536000 (one year)"
    (https://cloud.google.com/workflows/docs/reference/stdlib/sys/sleep). A sleep of NaN or
    infinity was an effect the engine could never end: its loop spun on NaN, and its wait
    overflowed on infinity, which stopped the loop thread and every execution with it."""
    source = f"- nap:\n    call: sys.sleep\n    args:\n      seconds: {seconds}\n"

    error = error_of(source)

    assert error["tags"] == ["ValueError"]
    assert words in error["message"]


def test_a_one_year_sleep_is_an_effect() -> None:
    run = Run(parse("- nap:\n    call: sys.sleep\n    args:\n      seconds: 31536000\n"), None, TestHost())
    run.advance()

    assert run.pending == {"0:0": SleepEffect(START + 31_536_000)}


@pytest.mark.parametrize("timeout", ['${double("nan")}', '${double("inf")}'])
def test_an_await_timeout_must_be_finite(timeout: str) -> None:
    """A timeout of NaN or infinity made a timer the engine could never fire (see above)."""
    source = f"""
- create:
    call: events.create_callback_endpoint
    result: callback
- wait:
    call: events.await_callback
    args:
      callback: ${{callback}}
      timeout: {timeout}
"""
    error = error_of(source)

    assert error["tags"] == ["ValueError"]
    assert "timeout must be a finite number of seconds" in error["message"]


def test_retry_waits_grow_no_longer_than_a_year() -> None:
    """A backoff whose multiplier overflows a double waits a year at most, the longest sleep
    (the multiplication raised Python's OverflowError, an internal error, before)."""
    source = """
- flaky:
    try:
      call: http.get
      args:
        url: https://example.com/
    retry:
      predicate: ${http.default_retry_predicate}
      max_retries: 3
      backoff:
        initial_delay: 1
        multiplier: 1e300
- done:
    return: ok
"""

    def respond(effect: CallEffect) -> Any:
        raise WorkflowError({"tags": ["HttpError"], "code": 503, "message": "busy"})

    driver = Driver(respond=respond)
    run = driver.run(source.replace("1e300", "${1e300}"))

    sleeps = [effect.until for _, effect in driver.effects if isinstance(effect, SleepEffect)]
    assert run.error is not None and run.error.value["code"] == 503
    # 1, then 1e300 and 1e600 (past a double), each cut to a year.
    assert [b - a for a, b in itertools.pairwise([START, *sleeps])] == [1.0, 31_536_000, 31_536_000]


@pytest.mark.parametrize("part", ["initial_delay", "max_delay", "multiplier"])
def test_a_backoff_of_nan_or_infinity_is_refused(part: str) -> None:
    source = f"""
- flaky:
    try:
      raise: boom
    retry:
      predicate: ${{http.default_retry_predicate}}
      max_retries: 3
      backoff:
        {part}: ${{double("nan")}}
"""
    error = error_of(source)

    assert error["tags"] == ["TypeError"]
    assert f"backoff {part} must be a non-negative finite number" in error["message"]


def test_effect_ids_are_the_same_on_a_replay() -> None:
    """A replay that delivers the same results in the same order issues the same ids."""
    first, second = Driver(), Driver()
    source = """
- work:
    parallel:
      branches:
        - a:
            steps:
              - a1: {call: http.get, args: {url: "http://a"}}
              - a2: {call: http.get, args: {url: "http://a2"}}
        - b:
            steps:
              - b1: {call: sys.sleep, args: {seconds: 1}}
- after:
    call: http.get
    args: {url: "http://c"}
"""
    respond = lambda effect: {"code": 200}  # noqa: E731
    first.respond = second.respond = respond
    first.run(source)
    second.run(source)

    assert first.effects == second.effects
    assert [effect_id for effect_id, _ in first.effects] == ["0/p0.0:0", "0/p0.0:1", "0/p0.1:0", "0:1"]


def test_callbacks_are_created_and_awaited_through_effects() -> None:
    """ "events.create_callback_endpoint ... http_callback_method" and "events.await_callback ...
    timeout (default 43200)" (stdlib events)."""
    source = """
- create:
    call: events.create_callback_endpoint
    args:
      http_callback_method: POST
    result: callback
- wait:
    call: events.await_callback
    args:
      callback: ${callback}
    result: request
- done:
    return: ${request.http_request.body.approved}
"""
    driver = Driver(callbacks=[{"approved": True}])
    run = driver.run(source)

    assert run.result is True
    kinds = [effect for _, effect in driver.effects]
    assert kinds[0] == CreateCallbackEffect("POST")
    assert isinstance(kinds[1], AwaitCallbackEffect) and kinds[1].timeout == 43200


def test_an_await_timeout_is_a_timeout_error() -> None:
    """ "TimeoutError" when no callback arrives in time (stdlib events.await_callback)."""
    source = """
- create:
    call: events.create_callback_endpoint
    result: callback
- wait:
    try:
      call: events.await_callback
      args:
        callback: ${callback}
        timeout: 60
    except:
      as: e
      steps:
        - expired:
            return: ${e.tags}
"""
    assert Driver().run(source).result == ["TimeoutError"]


def test_cancel_ends_the_run_and_drops_pending_effects() -> None:
    """A cancelled execution stops where it waits (Executions API: CancelExecution)."""
    run = Run(parse(SLEEPS), None, TestHost())
    run.advance()
    run.cancel()

    assert run.done and run.cancelled and run.pending == {}
    assert run.result is None and run.error is None


def test_an_effect_error_is_raised_at_the_waiting_step() -> None:
    run = Run(parse("- get:\n    call: http.get\n    args: {url: 'http://x'}\n"), None, TestHost())
    run.advance()
    run.resolve("0:0", error=WorkflowError.tagged("ConnectionFailedError", "refused"))
    run.advance()

    assert run.done and run.error is not None and run.error.tags == ["ConnectionFailedError"]


def test_the_host_sees_which_branch_is_running() -> None:
    """The engine's host journals sys.now()/uuid.generate() per branch: Run.branch tells it which."""
    seen: list[str] = []

    class Spy(TestHost):
        def uuid4(self) -> str:
            seen.append(run.branch)
            return super().uuid4()

    source = """
- work:
    parallel:
      branches:
        - a:
            steps:
              - ua: {assign: [{x: "${uuid.generate()}"}]}
        - b:
            steps:
              - ub: {assign: [{x: "${uuid.generate()}"}]}
"""
    run = Run(parse(source), None, Spy())
    run.advance()
    assert run.done and run.error is None
    assert seen == ["0/p0.0", "0/p0.1"]


def fake_google(effect: CallEffect) -> Any:
    """Canned Firestore and Translation answers, enough for the approval library."""
    if effect.name.endswith("documents.createDocument") or effect.name.endswith("documents.patch"):
        return {
            "name": "projects/p/databases/(default)/documents/x/y",
            "fields": effect.args["body"]["fields"],
        }
    if effect.name == "googleapis.translate.v2.translations.translate":
        return {"data": {"translations": [{"translatedText": "Bonjour"}]}}
    ada = {"stringValue": "ada@example.com"}
    if effect.name.endswith("documents.get"):
        # The request as decide leaves it: claimed, with ada's decision.
        claim = {"outcome": {"stringValue": "approved"}, "approver": ada, "principal": ada}
        return {
            "fields": {"status": {"stringValue": "deciding"}, "decision": {"mapValue": {"fields": claim}}}
        }
    if effect.name.endswith("documents.runQuery"):
        vote = {
            "voter": ada,
            "outcome": {"stringValue": "approved"},
            "round": {"stringValue": "initial"},
            "principals": {"arrayValue": {"values": [ada]}},
        }
        return [{"document": {"fields": vote}}]
    raise AssertionError(f"unexpected call {effect.name}")


def test_the_translation_template_runs_to_an_approval() -> None:
    """The repository's first real program: translate, store, wait for an approver's callback."""
    template = load_template("translation_validation")
    env = {**PLATFORM_ENV, **template.env_for({})}
    source = render(template, env)
    host = TestHost(
        env={
            **env,
            "GOOGLE_CLOUD_PROJECT_ID": "p",
            "GOOGLE_CLOUD_LOCATION": "europe-west1",
            "GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID": "exec-1",
            "GOOGLE_CLOUD_WORKFLOW_ID": "translation",
        }
    )
    decision = {
        "request_id": "req-1",
        "outcome": "approved",
        "principal": "ada@example.com",
        "approver": "ada@example.com",
        "comment": "fine",
    }
    driver = Driver(host=host, respond=fake_google, callbacks=[{"outcome": "bogus"}, decision])

    run = driver.run(source, {"text": "Hello", "request_id": "req-1", "requester": "bob@example.com"})

    assert run.error is None, run.error
    assert run.result == {"text": "Hello", "translation": "Bonjour", "approved": True}
    names = [effect.name for _, effect in driver.effects if isinstance(effect, CallEffect)]
    assert "googleapis.translate.v2.translations.translate" in names


def test_a_callback_method_that_is_not_a_string_is_a_type_error() -> None:
    """events.create_callback_endpoint
    (https://cloud.google.com/workflows/docs/reference/stdlib/events/create_callback_endpoint):
    http_callback_method is a `string`; "TypeError: In case of invalid input types"."""
    source = """
- create:
    try:
      call: events.create_callback_endpoint
      args:
        http_callback_method: 5
    except:
      as: e
      steps:
        - refused:
            return: ${e.tags}
"""
    driver = Driver()

    assert driver.run(source).result == ["TypeError"]
    assert driver.effects == []
