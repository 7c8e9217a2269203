"""Finding templates, and turning their parameters into env vars."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from approvals.workflow_templates import (
    PLATFORM_ENV_VARS,
    Param,
    TemplateError,
    available_templates,
    load_template,
)

WriteTemplate = Callable[[str], Path]


def test_an_unknown_template_name_lists_the_available_ones() -> None:
    with pytest.raises(TemplateError) as caught:
        load_template("translation")

    for name in available_templates():
        assert name in str(caught.value)


def test_a_missing_own_template_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(TemplateError) as caught:
        load_template(tmp_path / "nope.yaml")

    assert caught.value.path == str(tmp_path / "nope.yaml")


def test_template_files_are_found_from_any_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    template = load_template("translation_validation")

    assert template.path.is_absolute()
    assert template.path.is_file()


def test_translation_declares_the_translation_api_and_role() -> None:
    template = load_template("translation_validation")

    assert template.roles == ("roles/cloudtranslate.user",)
    assert template.services == ("translate.googleapis.com",)
    assert template.params["TARGET_LANGUAGE"] == Param(
        "TARGET_LANGUAGE", "Language code to translate into.", "fr"
    )


@pytest.mark.parametrize(
    ("name", "required"),
    [
        ("translation_validation", ["text"]),
        ("expense_approval", ["amount", "currency", "reason"]),
        ("deploy_approval", ["service", "version", "change_url"]),
    ],
)
def test_each_template_declares_its_execution_input(name: str, required: list[str]) -> None:
    schema = load_template(name).input_schema

    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert schema["required"] == required
    assert set(schema["properties"]) == set(required)
    # The start function adds these itself; an input may never set them.
    assert not {"request_id", "requester"} & set(schema["properties"])


def test_no_template_param_shadows_a_platform_env_var() -> None:
    for name in available_templates():
        assert not set(load_template(name).params) & PLATFORM_ENV_VARS


def test_env_for_fills_defaults() -> None:
    assert load_template("translation_validation").env_for({}) == {
        "SOURCE_LANGUAGE": "en",
        "TARGET_LANGUAGE": "fr",
    }


def test_env_for_treats_none_as_not_given() -> None:
    env = load_template("translation_validation").env_for({"TARGET_LANGUAGE": None})

    assert env["TARGET_LANGUAGE"] == "fr"


def test_env_for_names_an_unknown_param_and_the_allowed_ones() -> None:
    with pytest.raises(TemplateError) as caught:
        load_template("translation_validation").env_for({"TARGET_LANG": "de"})

    message = str(caught.value)
    assert "'TARGET_LANG'" in message
    assert "SOURCE_LANGUAGE" in message
    assert "TARGET_LANGUAGE" in message


def test_env_for_names_a_missing_required_param() -> None:
    with pytest.raises(TemplateError) as caught:
        load_template("deploy_approval").env_for({})

    assert "DEPLOY_WEBHOOK_URL" in str(caught.value)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("https://deploy.example.com", "https://deploy.example.com"),
        (True, "true"),
        (False, "false"),
        (2500, "2500"),
        (99.5, "99.5"),
        (["cfo@example.com", "group:finance"], '["cfo@example.com", "group:finance"]'),
        ({"tier": 2}, '{"tier": 2}'),
    ],
)
def test_env_for_turns_values_into_text(value: object, text: str) -> None:
    env = load_template("expense_approval").env_for({"FINANCE_APPROVERS": value})

    assert env["FINANCE_APPROVERS"] == text
    assert env["EXPENSE_SECOND_STAGE_THRESHOLD"] == "1000"


def test_env_for_json_round_trips_lists() -> None:
    approvers = ["cfo@example.com", "group:finance"]
    env = load_template("expense_approval").env_for({"FINANCE_APPROVERS": approvers})

    assert json.loads(env["FINANCE_APPROVERS"]) == approvers


def test_env_for_refuses_values_it_cannot_turn_into_text() -> None:
    with pytest.raises(TemplateError) as caught:
        load_template("deploy_approval").env_for({"DEPLOY_WEBHOOK_URL": object()})

    assert "DEPLOY_WEBHOOK_URL" in str(caught.value)


def test_an_own_template_accepts_any_upper_snake_param(write_template: WriteTemplate) -> None:
    template = load_template(write_template("main:\n  steps:\n    - done:\n        return: 1\n"))

    assert template.name == "team"
    assert template.env_for({"TEAM_NAME": "blue", "LIMIT": 3}) == {"TEAM_NAME": "blue", "LIMIT": "3"}


@pytest.mark.parametrize("name", ["team_name", "APPROVERS", "GOOGLE_CLOUD_REGION", "WORKFLOWS_X"])
def test_an_own_template_refuses_names_it_cannot_set(write_template: WriteTemplate, name: str) -> None:
    template = load_template(write_template("main:\n  steps:\n    - done:\n        return: 1\n"))

    with pytest.raises(TemplateError) as caught:
        template.env_for({name: "x"})

    assert repr(name) in str(caught.value)
