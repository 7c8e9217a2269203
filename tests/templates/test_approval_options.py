"""request_approval's literal arguments are checked when the template is rendered."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from approvals.engine.language.definition import parse
from approvals.engine.language.parser import source_value
from approvals.engine.language.queries import calls
from approvals.workflow_templates import TemplateError, load_template, render
from tests.templates.examples import PLATFORM_ENV

WriteTemplate = Callable[[str], Path]


def template_with(args: dict[str, object]) -> str:
    """A team workflow whose `ask` step (line 4) calls request_approval with `args`."""
    call = {"request_id": "r1", "subject": "Ship it?", "payload": {}, **args}
    body = yaml.safe_dump({"call": "request_approval", "args": call, "result": "decision"}, sort_keys=False)
    indented = "".join(f"        {line}\n" for line in body.splitlines())
    return f"main:\n  steps:\n    - ask:\n{indented}    - answer:\n        return: ${{decision}}\n"


def template_with_try(args: dict[str, object]) -> str:
    """A team workflow whose `ask` step calls request_approval (line 5) inside try."""
    call = {"request_id": "r1", "subject": "Ship it?", "payload": {}, **args}
    attempt = {"call": "request_approval", "args": call, "result": "decision"}
    body = yaml.safe_dump(
        {"try": attempt, "except": {"as": "e", "steps": [{"give_up": {"raise": "${e}"}}]}}, sort_keys=False
    )
    indented = "".join(f"        {line}\n" for line in body.splitlines())
    return f"main:\n  steps:\n    - ask:\n{indented}    - answer:\n        return: ${{decision}}\n"


def rendered_options(path: Path) -> object:
    """The options the rendered workflow's `ask` step passes to request_approval."""
    [ask] = [site for site in calls(parse(render(load_template(path), PLATFORM_ENV))) if site.step == "ask"]
    return source_value((ask.call.args or {})["options"])


def render_error(path: Path) -> TemplateError:
    with pytest.raises(TemplateError) as caught:
        render(load_template(path), PLATFORM_ENV)
    return caught.value


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"options": {"quorom": 2}}, "has an unknown option 'quorom' (did you mean 'quorum'?)"),
        ({"timeout": 60}, "has an unknown argument 'timeout' (did you mean 'timeout_seconds'?)"),
        ({"options": {"quorum": 0}}, "options.quorum must be a positive integer"),
        (
            {"approvers": ["a@example.com", "b@example.com"], "options": {"quorum": 3}},
            "options.quorum is 3 but only 2 approvers are named",
        ),
        ({"options": {"rejection_quorum": "two"}}, "options.rejection_quorum must be a positive integer"),
        ({"options": {"reminder_every": -5}}, "options.reminder_every must be a positive integer"),
        ({"options": {"prevent_self_approval": "no"}}, "options.prevent_self_approval must be true or false"),
        ({"options": {"rules": []}}, "options.rules must be a non-empty list"),
        (
            {
                "options": {
                    "rules": [
                        {"name": "legal", "approvers": ["group:legal"]},
                        {"name": "legal", "approvers": ["group:finance"]},
                    ]
                }
            },
            "options.rules[1].name 'legal' is used twice",
        ),
        ({"options": {"rules": [{"name": "legal", "approvers": []}]}}, "options.rules[0].approvers must be"),
        (
            {"options": {"rules": [{"name": "legal", "approvers": ["l@example.com"], "quorum": 2}]}},
            "options.rules[0].quorum is 2 but only 1 approvers are named",
        ),
        (
            {"options": {"escalate_to": {"approvers": ["boss@example.com"]}}},
            "options.escalate_to.timeout_seconds must be a positive integer",
        ),
        (
            {"options": {"escalate_to": {"approvers": ["boss@example.com"], "timeout_seconds": 60, "to": 1}}},
            "options.escalate_to has an unknown escalation field 'to'",
        ),
        ({"approvers": []}, "approvers must be a non-empty list"),
    ],
)
def test_a_bad_literal_option_names_the_file_line_and_step(
    write_template: WriteTemplate, args: dict[str, object], message: str
) -> None:
    path = write_template(template_with(args))

    error = render_error(path)

    assert (error.path, error.line, error.step) == (str(path), 4, "ask")
    assert f"step 'ask': request_approval {message}" in str(error)


def test_a_missing_required_argument_is_named(write_template: WriteTemplate) -> None:
    path = write_template(
        "main:\n  steps:\n    - ask:\n        call: request_approval\n        args:\n          subject: x\n"
    )

    assert "request_approval is missing payload, request_id" in str(render_error(path))


def test_good_options_and_expressions_render(write_template: WriteTemplate) -> None:
    options = {
        "quorum": 2,
        "rejection_quorum": "${n}",
        "reminder_every": 3600,
        "prevent_self_approval": False,
        "rules": [
            {"name": "legal", "approvers": ["group:legal"], "quorum": 2},
            {"name": "finance", "approvers": "${finance}"},
        ],
        "escalate_to": {"approvers": ["boss@example.com"], "timeout_seconds": 86400},
    }
    path = write_template(
        template_with({"approvers": ["a@example.com", "b@example.com"], "options": options})
    )

    assert rendered_options(path) == options


def test_a_call_inside_try_is_checked_with_its_own_args(write_template: WriteTemplate) -> None:
    options = {"quorum": 2, "escalate_to": {"approvers": ["boss@example.com"], "timeout_seconds": 60}}
    path = write_template(
        template_with_try({"approvers": ["a@example.com", "b@example.com"], "options": options})
    )

    assert rendered_options(path) == options


def test_a_bad_option_inside_try_names_the_file_line_and_step(write_template: WriteTemplate) -> None:
    path = write_template(template_with_try({"options": {"quorom": 2}}))

    error = render_error(path)

    assert (error.path, error.line, error.step) == (str(path), 5, "ask")
    assert "step 'ask': request_approval has an unknown option 'quorom'" in str(error)
