"""Engine basics: deploy, start, results and errors, env vars, http effects, cancel, logs."""

from __future__ import annotations

import uuid

import pytest

from approvals.engine.runtime.clock import DEFAULT_EPOCH, VirtualClock
from approvals.engine.runtime.engine import Engine, FailedPreconditionError, NotFoundError, random_uuid
from approvals.engine.runtime.errors import DefinitionError
from tests.support.servers import RecordingServer, Reply

ADD_ONE = """
main:
  params: [args]
  steps:
    - add:
        return: ${args.x + 1}
"""


def test_ids_are_random_uuids_as_uuid4_writes_them() -> None:
    """Execution and callback ids, and uuid.generate (random_uuid spares a run the uuid module)."""
    ids = [random_uuid() for _ in range(200)]

    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert (str(parsed), parsed.version, parsed.variant) == (text, 4, uuid.RFC_4122)


def test_an_execution_returns_its_result(engine: Engine, clock: VirtualClock) -> None:
    revision = engine.deploy("adder", ADD_ONE)
    started = engine.start("adder", {"x": 41})

    engine.wait_idle()

    done = engine.get(started.id)
    assert (done.state, done.result, done.revision) == ("SUCCEEDED", 42, revision)
    assert done.argument == {"x": 41}
    assert done.start_time == done.end_time == clock.now() == DEFAULT_EPOCH


def test_an_uncaught_error_fails_the_execution_with_its_tags(engine: Engine) -> None:
    engine.deploy(
        "failing",
        """
main:
  steps:
    - lookup:
        assign:
          - m: {}
          - v: ${m.missing}
""",
    )
    execution = engine.start("failing")
    engine.wait_idle()

    failed = engine.get(execution.id)
    assert failed.state == "FAILED"
    assert "KeyError" in failed.error["tags"]
    assert failed.result is None


def test_a_raised_map_is_the_error_as_is(engine: Engine) -> None:
    engine.deploy("raising", "- r:\n    raise:\n      code: 55\n      message: nope\n")
    execution = engine.start("raising")
    engine.wait_idle()
    assert engine.get(execution.id).error == {"code": 55, "message": "nope"}


def test_builtin_and_user_env_vars(engine: Engine) -> None:
    """Built-in env vars of "Use environment variables" plus the deployed user vars."""
    names = [
        "GOOGLE_CLOUD_PROJECT_ID",
        "GOOGLE_CLOUD_PROJECT_NUMBER",
        "GOOGLE_CLOUD_LOCATION",
        "GOOGLE_CLOUD_WORKFLOW_ID",
        "GOOGLE_CLOUD_WORKFLOW_REVISION_ID",
        "GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID",
        "GOOGLE_CLOUD_SERVICE_ACCOUNT_NAME",
        "GREETING",
    ]
    entries = "\n".join(f'          {n}: ${{sys.get_env("{n}")}}' for n in names)
    source = f"main:\n  steps:\n    - read:\n        return:\n{entries}\n"
    revision = engine.deploy("envs", source, env={"GREETING": "hello"}, service_account="wf@demo.iam")

    execution = engine.start("envs")
    engine.wait_idle()

    assert engine.get(execution.id).result == {
        "GOOGLE_CLOUD_PROJECT_ID": "demo-approvals",
        "GOOGLE_CLOUD_PROJECT_NUMBER": "123456789012",
        "GOOGLE_CLOUD_LOCATION": "us-central1",
        "GOOGLE_CLOUD_WORKFLOW_ID": "envs",
        "GOOGLE_CLOUD_WORKFLOW_REVISION_ID": revision,
        "GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID": execution.id,
        "GOOGLE_CLOUD_SERVICE_ACCOUNT_NAME": "wf@demo.iam",
        "GREETING": "hello",
    }


def test_a_definition_error_propagates_from_deploy(engine: Engine) -> None:
    with pytest.raises(DefinitionError) as caught:
        engine.deploy("broken", "main:\n  steps:\n    - go:\n        next: nowhere\n")
    assert caught.value.step == "go"
    assert caught.value.line is not None
    with pytest.raises(NotFoundError):
        engine.start("broken")


@pytest.mark.parametrize("name", ["", "GOOGLE_REGION", "WORKFLOWS_MODE"])
def test_a_reserved_env_var_name_cannot_deploy(engine: Engine, name: str) -> None:
    """ "Keys can't be an empty string", "Keys can't contain the prefix GOOGLE_" and
    "... WORKFLOWS_" -- https://cloud.google.com/workflows/docs/use-environment-variables"""
    with pytest.raises(DefinitionError) as caught:
        engine.deploy("reserved", "- r:\n    return: 1\n", {name: "x"})

    assert repr(name) in caught.value.message
    with pytest.raises(NotFoundError):
        engine.start("reserved")


def test_more_than_20_env_vars_cannot_deploy(engine: Engine) -> None:
    """userEnvVars: "This map has a maximum length of 20"
    -- https://cloud.google.com/workflows/docs/reference/rest/v1/projects.locations.workflows"""
    env = {f"VAR_{i}": "x" for i in range(21)}

    with pytest.raises(DefinitionError) as caught:
        engine.deploy("crowded", "- r:\n    return: 1\n", env)

    assert "at most 20" in caught.value.message
    engine.deploy("crowded", "- r:\n    return: 1\n", dict(list(env.items())[:20]))


def test_new_executions_use_the_latest_revision(engine: Engine) -> None:
    first = engine.deploy("versions", "- r:\n    return: 1\n")
    old = engine.start("versions")
    second = engine.deploy("versions", "- r:\n    return: 2\n")
    new = engine.start("versions")
    engine.wait_idle()

    assert first != second
    assert (engine.get(old.id).revision, engine.get(old.id).result) == (first, 1)
    assert (engine.get(new.id).revision, engine.get(new.id).result) == (second, 2)
    assert [e.id for e in engine.list("versions")] == [new.id, old.id]


def test_http_calls_reach_local_servers(engine: Engine, target: RecordingServer) -> None:
    target.script(Reply(201, {"ok": True}))
    engine.deploy(
        "caller",
        f"""
main:
  steps:
    - send:
        call: http.post
        args:
          url: {target.url}/things
          body:
            name: widget
        result: response
    - done:
        return: ${{[response.code, response.body]}}
""",
    )
    execution = engine.start("caller")
    engine.wait_idle()

    assert engine.get(execution.id).result == [201, {"ok": True}]
    [call] = target.calls
    assert (call.method, call.path, call.json()) == ("POST", "/things", {"name": "widget"})


def test_parallel_branches_each_perform_their_calls_once(engine: Engine, target: RecordingServer) -> None:
    engine.deploy(
        "fanout",
        f"""
main:
  steps:
    - fan:
        parallel:
          for:
            value: i
            range: [1, 5]
            steps:
              - send:
                  call: http.get
                  args:
                    url: ${{"{target.url}/item/" + string(i)}}
    - done:
        return: ok
""",
    )
    execution = engine.start("fanout")
    engine.wait_idle()

    assert engine.get(execution.id).state == "SUCCEEDED"
    assert sorted(call.path for call in target.calls) == [f"/item/{i}" for i in range(1, 6)]


def test_cancel_ends_a_waiting_execution(engine: Engine) -> None:
    engine.deploy(
        "sleeper", "- nap:\n    call: sys.sleep\n    args:\n      seconds: 60\n- r:\n    return: woke\n"
    )
    execution = engine.start("sleeper")
    engine.wait_idle()

    cancelled = engine.cancel(execution.id)
    engine.advance(120)

    assert cancelled.state == "CANCELLED"
    assert engine.get(execution.id).state == "CANCELLED"
    assert engine.get(execution.id).result is None
    with pytest.raises(FailedPreconditionError):
        engine.cancel(execution.id)


def test_unknown_ids_are_not_found(engine: Engine) -> None:
    with pytest.raises(NotFoundError):
        engine.get("nope")
    with pytest.raises(NotFoundError):
        engine.start("nope")
    with pytest.raises(NotFoundError):
        engine.cancel("nope")


def test_sys_log_goes_to_the_engine_log(engine: Engine) -> None:
    engine.deploy(
        "logger", '- say:\n    call: sys.log\n    args:\n      text: "hi"\n      severity: WARNING\n'
    )
    execution = engine.start("logger")
    engine.wait_idle()
    assert [(e.execution_id, e.severity) for e in engine.logs] == [(execution.id, "WARNING")]
