"""`python -m emulator run WORKFLOW.yaml`, as a user runs it (DESIGN: emulator command line)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from approvals.emulator.__main__ import build_parser, plain_run_arguments
from benchmarks.cli import installed_layout
from benchmarks.engine import WAITER
from tests.support.lines import Lines

ROOT = Path(__file__).resolve().parents[2]
ONE_STEP = "main:\n  steps:\n    - done:\n        return: 1\n"
# Loaded only by the workflows or commands that need them: teams run `run` in loops.
NOT_FOR_ONE_STEP = (
    "urllib.request",
    "http.client",
    "http.server",
    "email",
    "concurrent.futures",
    "zoneinfo",
    "hashlib",
    "grpc",
    "google",
    "pulumi",
    "pulumi_gcp",
    "approvals.platform",
    "approvals.emulator.stack",
    "approvals.engine.api.server",
    "approvals.engine.runtime.http_client",
    "approvals.engine.runtime.connectors",
    "approvals.engine.runtime.stdlib.core",
    "approvals.engine.runtime.stdlib.text",
    # The engine's records are NamedTuples; difflib only words definition errors, and
    # logging starts with the first message. Each was milliseconds of a run's start.
    "dataclasses",
    "inspect",
    "difflib",
    "logging",
    "traceback",
    # argparse reads only what the plain form cannot (help, mistakes): with gettext, locale
    # and shutil, about 3 ms. uuid imports platform: execution ids come from os.urandom.
    "argparse",
    "gettext",
    "locale",
    "shutil",
    "uuid",
    "platform",
)
# Callbacks' and `up`'s; .venv's editable finder imports them at every start, so only a run
# on an install's layout shows whether a one-step run does.
NOT_FOR_ONE_STEP_INSTALLED = (*NOT_FOR_ONE_STEP, "pathlib", "urllib", "ipaddress", "fnmatch")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_with("-m", "emulator", *args)


# `python -m MODULE ARGS` (no ARGS: a bare interpreter), then the names of every module the
# process holds, as a last line on stderr. (`-X importtime` misses importlib.import_module.)
MODULES_AFTER_RUN = """
import json, runpy, sys
module = sys.argv.pop(1)
try:
    if sys.argv[1:]:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
finally:
    print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def imported_by_run(
    workflow: Path | None, python: str = sys.executable, module: str = "emulator"
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """The run of `workflow`, and every module its process imported."""
    arguments = ["-c", MODULES_AFTER_RUN, module, *(["run", str(workflow)] if workflow else [])]
    done = subprocess.run(
        [python, *arguments], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    return done, set(json.loads(done.stderr.splitlines()[-1]))


def heavy(modules: set[str], unneeded: tuple[str, ...] = NOT_FOR_ONE_STEP) -> list[str]:
    """Those of `modules` that are, or are inside, one of `unneeded`."""
    return sorted(m for m in modules if any(m == n or m.startswith(f"{n}.") for n in unneeded))


def run_with(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
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


# `python -m emulator ARGS` in a process where `import re2` fails, as without the extra.
WITHOUT_RE2 = """
import runpy, sys
sys.modules["re2"] = None
runpy.run_module("emulator", run_name="__main__", alter_sys=True)
"""


def test_without_google_re2_only_regular_expressions_fail_and_say_how_to_fix_it(tmp_path: Path) -> None:
    """google-re2 comes with the `emulator` extra: a bare install still runs text.split, and a
    regular expression fails its execution with the install command, not a traceback."""
    split = write(tmp_path, '- split:\n    return: ${text.split("a,b", ",")}\n', "split.yaml")
    regex = write(tmp_path, '- match:\n    return: ${text.match_regex("a1", "[0-9]")}\n', "regex.yaml")

    done = run_with("-c", WITHOUT_RE2, "run", str(split))

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["a", "b"]

    done = run_with("-c", WITHOUT_RE2, "run", str(regex))

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    error = json.loads(done.stderr.strip().splitlines()[-1])
    assert 'pip install "approvals[emulator]"' in error["message"]


def test_a_definition_error_names_file_line_and_step(tmp_path: Path) -> None:
    workflow = write(tmp_path, "main:\n  steps:\n    - first:\n        next: nowhere\n")

    done = run("run", str(workflow))

    assert done.returncode == 2
    assert done.stderr.startswith(f"{workflow}:")
    assert "first" in done.stderr


def test_a_file_that_is_not_utf8_is_a_definition_error_not_a_traceback(tmp_path: Path) -> None:
    """A workflow's source is text (Google deploys it as a string); a byte that is not UTF-8
    is the file's error, exit 2, like any other, where a UnicodeDecodeError escaped before."""
    workflow = tmp_path / "latin1.yaml"
    workflow.write_bytes(b"main:\n  steps:\n    - done:\n        return: caf\xe9\n")

    done = run("run", str(workflow))

    assert done.returncode == 2
    assert done.stderr.startswith(f"{workflow}:4: the file is not UTF-8")
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("data", "words"),
    [("[" * 5000 + "]" * 5000, "nests more than 100 levels deep"), ('{"x": NaN}', "NaN is not valid JSON")],
)
def test_data_too_deep_or_not_json_is_a_bad_argument(data: str, words: str) -> None:
    """`--data` is JSON: NaN is not, and a value nested thousands deep cannot be walked (Python's
    RecursionError escaped as a traceback before; NaN was taken)."""
    done = run("run", "x.yaml", "--data", data)

    assert done.returncode == 2
    assert words in done.stderr
    assert "Traceback" not in done.stderr


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


def test_help_names_the_command_the_user_typed(tmp_path: Path) -> None:
    """An installed package has no `emulator` module: its users type `python -m approvals.emulator`."""
    installed = subprocess.run(
        [sys.executable, "-m", "approvals.emulator", "run", "--help"],
        cwd=tmp_path,  # outside the repository, as a consumer runs it
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    from_a_clone = run("run", "--help")

    assert installed.stdout.startswith("usage: python -m approvals.emulator run "), installed.stderr
    assert "example: python -m approvals.emulator run hello.yaml" in installed.stdout
    assert from_a_clone.stdout.startswith("usage: python -m emulator run ")
    assert "example: python -m emulator run hello.yaml" in from_a_clone.stdout


def test_a_connector_without_its_endpoint_names_the_variable_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST", "TRANSLATE_URL"):
        monkeypatch.delenv(name, raising=False)
    call = "googleapis.translate.v2.translations.translate"
    workflow = write(tmp_path, f"- t:\n    call: {call}\n    args: {{q: Hi, target: de}}\n")

    done = run("run", str(workflow))

    assert done.returncode == 1
    assert "TRANSLATE_URL" in json.loads(done.stderr.strip().splitlines()[-1])["message"]


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


@pytest.mark.parametrize(
    "exported",
    [{}, {"FIRESTORE_EMULATOR_HOST": "127.0.0.1:1", "PUBSUB_EMULATOR_HOST": "127.0.0.1:1"}],
    ids=["plain shell", "emulator hosts exported"],
)
def test_a_one_step_run_imports_neither_clients_nor_servers_nor_pulumi(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exported: dict[str, str]
) -> None:
    """Whatever the shell exports: a team working with the emulators keeps their hosts set."""
    for name in ("FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST", "TRANSLATE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in exported.items():
        monkeypatch.setenv(name, value)
    done, modules = imported_by_run(write(tmp_path, ONE_STEP))
    # Site hooks of installed packages import some on any start (the `google` namespace).
    _, bare = imported_by_run(None)

    assert (done.returncode, done.stdout) == (0, "1\n"), done.stderr
    assert "approvals.engine.runtime.engine" in modules  # the listing is real
    assert heavy(modules - bare) == []


def test_a_one_step_run_of_an_installed_package_imports_only_what_it_needs(tmp_path: Path) -> None:
    """As a consumer runs it: `python -m approvals.emulator`, with no editable finder at start."""
    python = str(installed_layout(tmp_path / "venv"))
    done, modules = imported_by_run(write(tmp_path, ONE_STEP), python, "approvals.emulator")
    _, bare = imported_by_run(None, python, "approvals.emulator")

    assert (done.returncode, done.stdout) == (0, "1\n"), done.stderr
    assert "approvals.engine.runtime.engine" in modules
    assert heavy(modules - bare, NOT_FOR_ONE_STEP_INSTALLED) == []


README_EXAMPLE = ["run", "hello.yaml", "--data", '{"name": "Ada"}', "--env", "WHO=me"]


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "w.yaml"],
        README_EXAMPLE,
        ["run", "--location", "europe-west1", "--data", "3", "w.yaml", "--data", '"last"'],
        ["run", "w.yaml", "--project", "", "--env", "EMPTY=", "--env", "B=x=y", "--data", "[1, 2.5]"],
    ],
)
def test_the_plain_form_reads_as_argparse_reads_it(argv: list[str]) -> None:
    """plain_run_arguments spares a run argparse: what it reads, argparse must read alike."""
    plain = plain_run_arguments(argv)

    assert plain is not None
    assert vars(plain) == vars(build_parser().parse_args(argv))


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--dat", "1", "w.yaml"],  # argparse takes a prefix of an option's name
        ["run", "--data=1", "w.yaml"],
        ["run", "w.yaml", "--data", "-1"],
        ["run", "w.yaml", "--data", "{nope"],
        ["run", "w.yaml", "--env", "NOEQ"],
        ["run", "w.yaml", "--env", "=x"],
        ["run", "w.yaml", "--data"],
        ["run", "a.yaml", "b.yaml"],
        ["run"],
        ["run", "--help"],
        ["run", "-h", "w.yaml"],
        ["run", "--", "w.yaml"],
        ["health"],
        [],
    ],
)
def test_anything_but_the_plain_form_is_left_to_argparse(argv: list[str]) -> None:
    assert plain_run_arguments(argv) is None


def test_a_library_namespace_loads_when_the_workflow_names_it(tmp_path: Path) -> None:
    workflow = write(tmp_path, '- split:\n    return: ${text.split("a,b", ",")}\n')

    done, modules = imported_by_run(workflow)

    assert json.loads(done.stdout) == ["a", "b"], done.stderr
    assert "approvals.engine.runtime.stdlib.text" in modules
    assert "approvals.engine.runtime.stdlib.hash" not in modules


@pytest.mark.parametrize(
    ("call", "problem"),
    [
        ("text.no_such_function", "unknown function or subworkflow 'text.no_such_function'"),
        ("googleapis.storage.v1.objects.get", "connector googleapis.storage.v1.objects.get is not supported"),
    ],
)
def test_deploy_time_checks_still_refuse_what_the_engine_lacks(
    tmp_path: Path, call: str, problem: str
) -> None:
    workflow = write(tmp_path, f"- first:\n    call: {call}\n- done:\n    return: 1\n")

    done = run("run", str(workflow))

    assert done.returncode == 2
    assert problem in done.stderr


def test_a_callback_url_printed_by_a_run_answers_and_resumes_it(tmp_path: Path) -> None:
    """The callback server starts with the first callback; the URL must answer at once."""
    workflow = write(tmp_path, WAITER)
    command = [sys.executable, "-m", "emulator", "run", str(workflow)]
    with subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        # Killed whatever happens: the workflow awaits its callback for a day.
        try:
            assert process.stderr is not None and process.stdout is not None
            stderr = Lines(process.stderr)
            line = stderr.wait_for(lambda line: line.startswith("callback: "), timeout=60)
            request = urllib.request.Request(
                line.removeprefix("callback: ").strip(),
                data=b'{"decision": "approve"}',
                headers={"Authorization": "Bearer me", "Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                assert response.status == 200
            try:
                # stdout holds one line of JSON: it cannot fill the pipe before the process ends.
                returncode = process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pytest.fail(f"the run did not end within 60s of its callback:\n{stderr.text}")
            assert returncode == 0, stderr.text
            assert json.loads(process.stdout.read()) == {"decision": "approve"}
        finally:
            process.kill()
            process.wait()


# `python -m emulator ARGS` whose callback server is given the port argv[1] names, which the test holds.
ON_A_HELD_PORT = """
import runpy, sys
from approvals.engine.api import server
port = int(sys.argv.pop(1))
start = server.WorkflowsServer.__init__
server.WorkflowsServer.__init__ = lambda self, engine, _=None: start(self, engine, port)
runpy.run_module("emulator", run_name="__main__", alter_sys=True)
"""


def test_a_callback_server_that_cannot_start_fails_the_run_instead_of_hanging_it(tmp_path: Path) -> None:
    """The server starts on the engine's thread at the first callback: its failure must end the run."""
    workflow = write(tmp_path, WAITER)

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        done = run_with("-c", ON_A_HELD_PORT, str(holder.getsockname()[1]), "run", str(workflow))

    assert (done.returncode, done.stdout) == (1, ""), done.stderr
    error = json.loads(done.stderr.strip().splitlines()[-1])
    assert error["tags"] == ["SystemError"]
    assert error["message"].startswith("the callback server could not start on 127.0.0.1: ")
    assert "Traceback" not in done.stderr
