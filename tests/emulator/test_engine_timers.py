"""Virtual time: sleeps and await timeouts fire only when the test advances the clock."""

from __future__ import annotations

from approvals.engine.runtime.clock import DEFAULT_EPOCH, VirtualClock
from approvals.engine.runtime.engine import Engine
from approvals.engine.runtime.store import ExecutionRecord

SLEEP_THEN_NOW = """
main:
  steps:
    - nap:
        call: sys.sleep
        args:
          seconds: 3600
    - woke:
        return: ${sys.now()}
"""

AWAIT_DEFAULT_TIMEOUT = """
main:
  steps:
    - create:
        call: events.create_callback_endpoint
        args:
          http_callback_method: POST
        result: callback
    - wait:
        try:
          call: events.await_callback
          args:
            callback: ${callback}
          result: request
        except:
          as: e
          steps:
            - expired:
                switch:
                  - condition: ${"TimeoutError" in e.tags}
                    return: expired
            - other:
                raise: ${e}
    - answered:
        return: ${request.http_request.body}
"""


def run_until(engine: Engine, source: str, seconds: int) -> ExecutionRecord:
    """Deploy and start `source`; it must still be active a second of virtual time short of
    `seconds`. Returns the execution once `seconds` have passed."""
    engine.deploy("timed", source)
    execution = engine.start("timed")

    engine.advance(seconds - 1)
    assert engine.get(execution.id).state == "ACTIVE"
    engine.advance(1)

    return engine.get(execution.id)


def test_sleep_resumes_when_virtual_time_reaches_it(engine: Engine, clock: VirtualClock) -> None:
    done = run_until(engine, SLEEP_THEN_NOW, 3600)

    assert (done.state, done.result) == ("SUCCEEDED", DEFAULT_EPOCH + 3600)


def test_one_advance_fires_timers_in_order_at_their_own_times(engine: Engine) -> None:
    engine.deploy(
        "naps",
        """
main:
  steps:
    - init:
        assign:
          - times: []
    - loop:
        for:
          value: i
          range: [1, 3]
          steps:
            - nap:
                call: sys.sleep
                args:
                  seconds: 10
            - note:
                assign:
                  - times: ${list.concat(times, sys.now() - """
        + str(DEFAULT_EPOCH)
        + """)}
    - done:
        return: ${times}
""",
    )
    execution = engine.start("naps")

    engine.advance(100)

    assert engine.get(execution.id).result == [10, 20, 30]


def test_a_twelve_hour_await_times_out_in_virtual_time(engine: Engine) -> None:
    """await_callback: "timeout ... (default: 43200.0)"; "TimeoutError In case of a timeout"."""
    done = run_until(engine, AWAIT_DEFAULT_TIMEOUT, 43200)

    assert (done.state, done.result) == ("SUCCEEDED", "expired")
    assert done.end_time == DEFAULT_EPOCH + 43200
