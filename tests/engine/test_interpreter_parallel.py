"""Conformance: parallel branches and loops, shared variables, limits and branch errors."""

from __future__ import annotations

from approvals.engine.runtime.effects import SleepEffect
from tests.engine.interpreter_support import START, Driver, error_of, result_of

BRANCHES = """
- init:
    assign:
      - order: []
- work:
    parallel:
      shared: [order]
      {limit}
      branches:
        - slow:
            steps:
              - wait_slow:
                  call: sys.sleep
                  args: {{seconds: 5}}
              - note_slow:
                  assign:
                    - order: ${{list.concat(order, "slow")}}
        - fast:
            steps:
              - wait_fast:
                  call: sys.sleep
                  args: {{seconds: 1}}
              - note_fast:
                  assign:
                    - order: ${{list.concat(order, "fast")}}
- done:
    return: ${{order}}
"""


def test_branches_run_concurrently_and_interleave_at_blocking_calls() -> None:
    """ "Parallel steps can reduce the total execution time ... by performing multiple blocking
    calls at the same time" (Execute workflow steps in parallel)."""
    driver = Driver()
    run = driver.run(BRANCHES.format(limit=""))

    assert run.result == ["fast", "slow"]
    assert driver.host.clock == START + 5  # both sleeps overlapped
    assert [effect_id for effect_id, _ in driver.effects] == ["0/p0.1:0", "0/p0.0:0"]


def test_concurrency_limit_queues_branches() -> None:
    """ "CONCURRENCY_LIMIT: the maximum number of branches and iterations that can concurrently
    execute ... before further branches and iterations are queued to wait" (Parallel steps)."""
    driver = Driver()
    run = driver.run(BRANCHES.format(limit="concurrency_limit: 1"))

    assert run.result == ["slow", "fast"]
    assert driver.host.clock == START + 6


def test_only_shared_variables_are_written_back_branch_locals_stay_local() -> None:
    """ "shared: a list of writable variables with parent scope"; "local_result is local to this
    branch scope" (Parallel steps shared-variables sample)."""
    source = """
- init:
    assign:
      - results: {}
      - untouched: 1
- work:
    parallel:
      shared: [results]
      branches:
        - a:
            steps:
              - set_a:
                  assign:
                    - local: A
                    - results.a: ${local}
        - b:
            steps:
              - set_b:
                  assign:
                    - local: B
                    - results.b: ${local + string(untouched)}
- done:
    return: ${results}
"""
    assert result_of(source) == {"a": "A", "b": "B1"}
    assert "KeyError" in error_of(source.replace("return: ${results}", "return: ${local}"))["tags"]


def test_a_parallel_for_loop_runs_every_iteration() -> None:
    """ "A loop where iterations can run concurrently" (Parallel steps)."""
    source = """
- init:
    assign:
      - total: 0
- work:
    parallel:
      shared: [total]
      for:
        value: n
        in: [1, 2, 3, 4]
        steps:
          - wait:
              call: sys.sleep
              args:
                seconds: ${5 - n}
          - add:
              assign:
                - total: ${total + n}
- done:
    return: ${total}
"""
    driver = Driver()
    run = driver.run(source)
    assert run.result == 10
    assert sorted(effect_id for effect_id, _ in driver.effects) == [f"0/p0.{i}:0" for i in range(4)]
    assert all(isinstance(effect, SleepEffect) for _, effect in driver.effects)


def test_unhandled_branch_errors_surface_after_every_branch_ends() -> None:
    """ "The default policy, continueAll, results in no further action, and all other branches
    will attempt to run" (Parallel steps); then "UnhandledBranchError: Raised when one or more
    branches or iterations encounters an unhandled runtime error" (Workflow errors)."""
    source = """
- init:
    assign:
      - done: []
- work:
    try:
      steps:
        - fan_out:
            parallel:
              shared: [done]
              for:
                value: n
                range: [0, 3]
                steps:
                  - check:
                      switch:
                        - condition: ${n % 2 != 0}
                          raise: ${"odd " + string(n)}
                  - record:
                      assign:
                        - done: ${list.concat(done, n)}
    except:
      as: e
      steps:
        - report:
            return: ${[e, done]}
"""
    error, done = result_of(source)
    assert error["tags"] == ["UnhandledBranchError"]
    assert sorted(done) == [0, 2]
    assert error["branches"] == [{"id": "1", "error": "odd 1"}, {"id": "3", "error": "odd 3"}]


def test_parallel_steps_nest_two_levels_deep_at_most() -> None:
    """ "Parallel steps can contain other nested parallel steps, up to the depth limit" (Execute
    workflow steps in parallel); "ParallelNestingError" (Workflow errors)."""
    inner = """
                  - level{n}:
                      parallel:
                        branches:
                          - x{n}:
                              steps:
                                {body}
                          - y{n}:
                              steps:
                                - ny{n}:
                                    assign:
                                      - z: 1
"""
    leaf = (
        "- leaf:\n                                    assign:\n                                      - z: 1"
    )
    two = "- top:\n    parallel:\n      branches:\n        - a:\n            steps:" + inner.format(
        n=2, body=leaf
    )
    two += (
        "        - b:\n            steps:\n              - nb:\n"
        "                  assign:\n                    - z: 1\n"
    )
    assert Driver().run(two).error is None

    three = """
main:
  steps:
    - top:
        parallel:
          branches:
            - a:
                steps:
                  - go:
                      call: nest
            - b:
                steps:
                  - nb:
                      assign:
                        - z: 1
nest:
  steps:
    - mid:
        parallel:
          branches:
            - c:
                steps:
                  - deeper:
                      call: inner
            - d:
                steps:
                  - nd:
                      assign:
                        - z: 1
inner:
  steps:
    - bottom:
        parallel:
          branches:
            - e:
                steps:
                  - ne:
                      assign:
                        - z: 1
            - f:
                steps:
                  - nf:
                      assign:
                        - z: 1
"""
    error = error_of(three)
    assert error["tags"] == ["UnhandledBranchError"]
    nested = error["branches"][0]["error"]
    assert nested["tags"] == ["UnhandledBranchError"]
    assert nested["branches"][0]["error"]["tags"] == ["ParallelNestingError"]
