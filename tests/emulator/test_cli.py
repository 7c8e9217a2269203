"""`python -m emulator run WORKFLOW.yaml`, as a user runs it (DESIGN: emulator command line)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def write(tmp_path: Path, source: str, name: str = "workflow.yaml") -> Path:
    path = tmp_path / name
    path.write_text(source)
    return path


def test_success_prints_the_result_as_json(tmp_path: Path) -> None:
    workflow = write(
        tmp_path,
        """
main:
  params: [args]
  steps:
    - greet:
        return:
          greeting: ${"Hello " + args.name}
          who: ${sys.get_env("WHO")}
          workflow: ${sys.get_env("GOOGLE_CLOUD_WORKFLOW_ID")}
""",
        "hello-world.yaml",
    )

    done = run("run", str(workflow), "--data", '{"name": "Ada"}', "--env", "WHO=me")

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"greeting": "Hello Ada", "who": "me", "workflow": "hello-world"}


def test_sys_log_lines_are_printed_on_stderr(tmp_path: Path) -> None:
    workflow = write(
        tmp_path,
        """
- note:
    call: sys.log
    args:
      text: starting the nightly export
- done:
    return: ok
""",
    )

    done = run("run", str(workflow))

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == "ok"
    assert "starting the nightly export" in done.stderr


def test_an_uncaught_error_prints_it_as_json_on_stderr(tmp_path: Path) -> None:
    workflow = write(tmp_path, "- boom:\n    raise:\n      tags: [ValueError]\n      message: nope\n")

    done = run("run", str(workflow))

    assert done.returncode == 1
    assert done.stdout == ""
    error = json.loads(done.stderr.strip().splitlines()[-1])
    assert error == {"tags": ["ValueError"], "message": "nope"}


def test_a_runtime_error_carries_its_tags(tmp_path: Path) -> None:
    workflow = write(tmp_path, "- div:\n    return: ${1 / 0}\n")

    done = run("run", str(workflow))

    assert done.returncode == 1
    assert "ZeroDivisionError" in json.loads(done.stderr.strip().splitlines()[-1])["tags"]


def test_a_definition_error_names_file_line_and_step(tmp_path: Path) -> None:
    workflow = write(tmp_path, "main:\n  steps:\n    - first:\n        next: nowhere\n")

    done = run("run", str(workflow))

    assert done.returncode == 2
    assert done.stderr.startswith(f"{workflow}:")
    assert "first" in done.stderr


def test_sleep_and_callbacks_run_on_the_wall_clock(tmp_path: Path) -> None:
    workflow = write(
        tmp_path,
        """
main:
  steps:
    - create:
        call: events.create_callback_endpoint
        result: callback
    - nap:
        call: sys.sleep
        args:
          seconds: 0.2
    - wait:
        try:
          call: events.await_callback
          args:
            callback: ${callback}
            timeout: 0.2
        except:
          as: e
          steps:
            - report:
                return: ${e.tags}
""",
    )

    done = run("run", str(workflow))

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["TimeoutError"]
    assert "callback: http://127.0.0.1:" in done.stderr


def test_help_and_bad_arguments() -> None:
    assert "WORKFLOW.yaml" in run("run", "--help").stdout
    bad = run("run", "x.yaml", "--data", "{nope")
    assert bad.returncode == 2
    assert "--data" in bad.stderr


def test_a_result_that_is_not_json_fails_the_run_instead_of_hanging_it(tmp_path: Path) -> None:
    """ "Bytes can't be returned by a workflow as they can't be JSON-encoded" (data types
    reference); a function value (a retry policy) cannot be either."""
    for returned in ('${text.encode("hi")}', "${http.default_retry}"):
        workflow = write(tmp_path, f"- give_back:\n    return: {returned}\n")

        done = run("run", str(workflow))

        assert (done.returncode, done.stdout) == (1, "")
        # The error is the last line on stderr, as for any failed run.
        error = json.loads(done.stderr.strip().splitlines()[-1])
        assert error["tags"] == ["ValueError"]
        assert error["message"].startswith("a workflow's result must be JSON")
        assert "Traceback" not in done.stderr
