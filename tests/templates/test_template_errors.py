"""Broken templates fail with the file, the line and the step to fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from approvals.workflow_templates import TemplateError, load_template, render
from tests.templates.examples import PLATFORM_ENV

WriteTemplate = Callable[[str], Path]


def render_error(path: Path, env: dict[str, str] | None = None) -> TemplateError:
    with pytest.raises(TemplateError) as caught:
        render(load_template(path), PLATFORM_ENV if env is None else env)
    return caught.value


def test_a_yaml_syntax_error_names_the_file_and_line(write_template: WriteTemplate) -> None:
    path = write_template(
        """main:
  steps:
    - greet:
        return: [${name}]
"""
    )
    error = render_error(path)

    assert (error.path, error.line, error.step) == (str(path), 4, None)
    assert str(error).startswith(f"{path}:4: invalid YAML")


def test_an_unknown_subworkflow_names_the_file_line_and_step(write_template: WriteTemplate) -> None:
    path = write_template(
        """main:
  steps:
    - ask:
        call: request_aproval
        args:
          request_id: r1
"""
    )
    error = render_error(path)

    assert (error.path, error.line, error.step) == (str(path), 4, "ask")
    assert str(error).startswith(f"{path}:4: step 'ask': calls unknown subworkflow 'request_aproval'")
    assert "did you mean 'request_approval'?" in error.message


def test_a_missing_env_var_names_the_file_line_and_step(write_template: WriteTemplate) -> None:
    path = write_template(
        """main:
  steps:
    - read_settings:
        assign:
          - region: ${sys.get_env("GOOGLE_CLOUD_LOCATION")}
          - optional: ${sys.get_env("NICE_TO_HAVE", "x")}
          - team: ${sys.get_env("TEAM_NAME")}
    - done:
        return: ${team}
"""
    )
    error = render_error(path)

    assert (error.path, error.line, error.step) == (str(path), 7, "read_settings")
    assert "'TEAM_NAME'" in str(error)
    assert render(load_template(path), {"TEAM_NAME": "blue"})


def test_the_library_needs_the_platform_env(write_template: WriteTemplate) -> None:
    path = write_template(
        """main:
  steps:
    - ask:
        call: request_approval
        args: {request_id: r1, subject: s, payload: {}}
"""
    )
    env = {k: v for k, v in PLATFORM_ENV.items() if k != "APPROVALS_AUDIT_COLLECTION"}
    error = render_error(path, env)

    assert error.path.endswith("approval.yaml")
    assert error.line is not None
    assert error.step is not None
    assert "APPROVALS_AUDIT_COLLECTION" in error.message


def test_a_subworkflow_named_like_a_library_one_is_a_clash(write_template: WriteTemplate) -> None:
    path = write_template(
        """main:
  steps:
    - ask:
        call: request_approval
        args: {request_id: r1}
request_approval:
  params: [request_id]
  steps:
    - approve:
        return: true
"""
    )
    error = render_error(path)

    assert (error.path, error.line) == (str(path), 6)
    assert "'request_approval'" in error.message


def test_a_duplicate_step_or_subworkflow_name_is_reported(write_template: WriteTemplate) -> None:
    path = write_template(
        """main:
  steps:
    - done:
        return: 1
helper:
  steps:
    - done:
        return: 2
helper:
  steps:
    - done:
        return: 3
"""
    )
    error = render_error(path)

    assert (error.path, error.line) == (str(path), 9)
    assert "duplicate key 'helper'" in error.message


def test_a_step_that_is_not_a_map_names_the_step(write_template: WriteTemplate) -> None:
    path = write_template("main:\n  steps:\n    - first:\n        return: 1\n    - second: oops\n")
    error = render_error(path)

    assert (error.line, error.step) == (5, "second")


def test_a_workflow_without_main_is_refused(write_template: WriteTemplate) -> None:
    path = write_template("helper:\n  steps:\n    - done:\n        return: 1\n")

    assert "no main" in render_error(path).message


def test_more_than_twenty_env_vars_is_refused(write_template: WriteTemplate) -> None:
    path = write_template("main:\n  steps:\n    - done:\n        return: 1\n")
    env = {f"SETTING_{i}": "x" for i in range(21)}
    error = render_error(path, env)

    assert error.path == str(path)
    assert "at most 20" in error.message
    assert render(load_template(path), dict(list(env.items())[:20]))


def test_a_rendered_source_over_128_kb_is_refused(write_template: WriteTemplate) -> None:
    steps = "".join(f"    - step_{i}:\n        assign:\n          - note: {'x' * 1000}\n" for i in range(140))
    path = write_template(f"main:\n  steps:\n{steps}")
    error = render_error(path)

    assert error.path == str(path)
    assert "131072" in error.message


def test_main_with_two_params_is_refused(write_template: WriteTemplate) -> None:
    path = write_template("main:\n  params: [a, b]\n  steps:\n    - done:\n        return: 1\n")
    error = render_error(path)

    assert error.line == 2
    assert "main takes at most one parameter" in error.message
