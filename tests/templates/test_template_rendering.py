"""Rendering the catalog templates: the library steps they get, and what those steps do."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from approvals.workflow_templates import available_templates, load_template, render
from tests.templates.examples import (
    PLATFORM_ENV,
    REQUIRED_PARAMS,
    render_with_defaults,
    rendered_workflow,
)
from tests.templates.workflow_walk import all_steps, call_sites, mentions, steps_in, strings_in

TEMPLATES = available_templates()
# Reads without a default: a read with one (APPROVALS_EVENTS_TOPIC) may find nothing.
GET_ENV = re.compile(r'sys\.get_env\("([A-Z0-9_]+)"\)')
OPTIONAL_GET_ENV = re.compile(r'sys\.get_env\("([A-Z0-9_]+)",')


def calls(workflow: dict[str, Any], target: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(subworkflow, step, call site) of every call to target."""
    return [
        (subworkflow, name, site)
        for subworkflow, name, body in all_steps(workflow)
        for site in call_sites(body)
        if site["call"] == target
    ]


def defined_or_stdlib(workflow: dict[str, Any], target: str) -> bool:
    return "." in target or target in workflow


def test_the_catalog_lists_the_four_templates() -> None:
    assert TEMPLATES == ["approval_chain", "deploy_approval", "expense_approval", "translation_validation"]


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_template_renders_with_its_defaults_and_calls_request_approval(name: str) -> None:
    workflow = rendered_workflow(name)

    assert next(iter(workflow)) == "main"
    assert calls(workflow, "request_approval")
    assert "request_approval" in workflow
    for _, _, body in all_steps(workflow):
        for site in call_sites(body):
            assert defined_or_stdlib(workflow, site["call"]), site["call"]


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_env_var_a_rendered_template_reads_is_set(name: str) -> None:
    template = load_template(name)
    env = {**PLATFORM_ENV, **template.env_for(REQUIRED_PARAMS.get(name, {}))}
    source = render(template, env)

    read = set(GET_ENV.findall(source))
    assert {name for name in read if not name.startswith("GOOGLE_CLOUD_")} <= set(env)
    assert set(OPTIONAL_GET_ENV.findall(source)) == {"APPROVALS_EVENTS_TOPIC", "APPROVAL_POLICY"}


@pytest.mark.parametrize("name", TEMPLATES)
def test_parameters_reach_the_workflow_only_as_env_vars(name: str) -> None:
    template = load_template(name)
    first = render_with_defaults(template)
    other_values = {param: "[]" for param in template.params}
    second = render(template, {**PLATFORM_ENV, **template.env_for(other_values)})

    assert first == second


def test_a_template_gets_only_the_library_subworkflows_it_reaches(write_template: Any) -> None:
    path = write_template(
        """
main:
  steps:
    - store_note:
        call: firestore_update_document
        args:
          collection: notes
          document_id: "1"
          values: {note: hello}
"""
    )
    workflow = yaml.safe_load(render(load_template(path), PLATFORM_ENV))

    assert set(workflow) == {
        "main",
        "firestore_update_document",
        "firestore_fields",
        "firestore_value",
        "firestore_documents_path",
        "firestore_contention",
    }


def test_a_template_without_library_calls_renders_alone(write_template: Any) -> None:
    path = write_template("main:\n  steps:\n    - done:\n        return: 42\n")

    assert set(yaml.safe_load(render(load_template(path), {}))) == {"main"}


def test_a_plain_list_of_steps_is_the_main_workflow(write_template: Any) -> None:
    path = write_template(
        """
- ask:
    call: request_approval
    args:
      request_id: "r1"
      subject: "Ship it?"
      payload: {}
    result: decision
- answer:
    return: ${decision.approved}
"""
    )
    workflow = yaml.safe_load(render(load_template(path), PLATFORM_ENV))

    assert [name for name, _ in steps_in(workflow["main"]["steps"])] == ["ask", "answer"]
    assert "request_approval" in workflow


def test_the_callback_is_awaited_with_a_timeout_and_a_timeout_expires_the_request() -> None:
    workflow = rendered_workflow("translation_validation")
    [(_, _, create)] = calls(workflow, "events.create_callback_endpoint")
    assert create["args"]["http_callback_method"] == "POST"

    [(subworkflow, step, _)] = calls(workflow, "events.await_callback")
    body = dict(steps_in(workflow[subworkflow]["steps"]))[step]
    assert "timeout" in body["try"]["args"]
    handler = body["except"]
    error = handler["as"]
    # A timeout is an outcome (the loop checks the deadline again), not a crash;
    # any other error propagates.
    [rethrow] = [
        condition
        for _, except_body in steps_in(handler["steps"])
        for condition in except_body.get("switch", ())
        if condition["condition"] == f'${{not ("TimeoutError" in {error}.tags)}}'
    ]
    assert rethrow["raise"] == f"${{{error}}}"


def test_an_expired_request_is_marked_expired_and_audited() -> None:
    workflow = rendered_workflow("translation_validation")
    expire = workflow["expire_request"]
    written = [site["args"] for _, _, body in all_steps({"x": expire}) for site in call_sites(body)]

    # An expired request keeps no delegates' stamps: whoever stood in reads it no longer.
    assert {"status": "expired", "delegates": [], "stand_in_for": {}} in [
        args.get("values") for args in written
    ]
    assert "expired" in [args.get("event") for args in written]
    [returned] = [body["return"] for _, body in steps_in(expire["steps"]) if "return" in body]
    assert returned["status"] == "expired"
    assert returned["approved"] is False


def test_invalid_callbacks_are_audited_and_awaited_again() -> None:
    workflow = rendered_workflow("translation_validation")
    [(subworkflow, _, _)] = calls(workflow, "events.await_callback")
    steps = list(steps_in(workflow[subworkflow]["steps"]))
    names = [name for name, _ in steps]

    audit = [body for _, body in steps if body.get("args", {}).get("event") == "invalid_callback"]
    assert len(audit) == 1
    loop_target = steps[-1][1].get("next")
    assert loop_target in names
    assert names.index(loop_target) < names.index(next(name for name, body in steps if "try" in body))


def test_the_callback_url_is_written_only_to_the_callbacks_collection() -> None:
    workflow = rendered_workflow("translation_validation")
    [(subworkflow, _, create)] = calls(workflow, "events.create_callback_endpoint")
    callback = create["result"]
    steps = list(steps_in(workflow[subworkflow]["steps"]))
    assigned = {
        variable: value
        for _, body in steps
        for assignment in body.get("assign", ())
        for variable, value in assignment.items()
    }

    users = [body for _, body in steps if "call" in body and mentions(body.get("args"), callback)]
    writes = [body for body in users if body["call"].startswith(("firestore_", "googleapis."))]
    assert len(writes) == 1
    [write] = writes
    collection = write["args"]["collection"]
    collection = assigned.get(collection.removeprefix("${").removesuffix("}"), collection)
    assert collection == '${sys.get_env("APPROVALS_CALLBACKS_COLLECTION")}'
    assert write["args"]["values"]["url"] == f"${{{callback}.url}}"
    # Everything else only hands the endpoint on, to be awaited and nothing else.
    for body in users:
        if body is write:
            continue
        assert body["args"]["callback"] == f"${{{callback}}}"
        assert not any(mentions(value, callback) for key, value in body["args"].items() if key != "callback")
        receiver = workflow[body["call"]]
        used_by = [b for _, b in steps_in(receiver["steps"]) if mentions(b, "callback")]
        assert [site["call"] for b in used_by for site in call_sites(b)] == ["events.await_callback"]


def test_the_request_document_holds_what_the_approval_page_shows() -> None:
    workflow = rendered_workflow("translation_validation")
    writes = [
        site["args"]
        for _, _, site in calls(workflow, "firestore_create_document")
        if "status" in site["args"].get("values", {})
    ]

    [request] = writes
    assert request["values"]["status"] == "pending"
    assert set(request["values"]) >= {
        "request_id",
        "template",
        "stage",
        "approvers",
        "requester",
        "subject",
        "payload",
        "workflow_id",
        "execution_id",
    }
    assert set(request["timestamps"]) == {"created_at", "due_at", "expires_at"}
    assert "url" not in request["values"]


def test_values_become_typed_firestore_fields() -> None:
    converter = rendered_workflow("translation_validation")["firestore_value"]
    returned = " ".join(strings_in([body for _, body in steps_in(converter["steps"])]))

    for kind in (
        "nullValue",
        "booleanValue",
        "integerValue",
        "doubleValue",
        "stringValue",
        "arrayValue",
        "mapValue",
    ):
        assert kind in returned
    # Lists and maps convert their items with the same subworkflows, recursively.
    called = {site["call"] for _, body in steps_in(converter["steps"]) for site in call_sites(body)}
    assert called == {"firestore_value", "firestore_fields"}


def test_expense_asks_finance_only_above_the_threshold_and_after_an_approval() -> None:
    workflow = rendered_workflow("expense_approval")
    stages = calls(workflow, "request_approval")

    assert [site["args"].get("stage") for _, _, site in stages] == ["manager", "finance"]
    finance = stages[1][2]["args"]
    assert finance["request_id"] == '${request_id + "-finance"}'
    assert finance["approvers"] == '${json.decode(sys.get_env("FINANCE_APPROVERS"))}'
    # Before the finance stage, a switch returns early on rejection or a small amount.
    main_steps = [body for _, body in steps_in(workflow["main"]["steps"])]
    gate = next(body for body in main_steps if "switch" in body)
    conditions = [condition["condition"] for condition in gate["switch"]]
    assert any("not manager_decision.approved" in c for c in conditions)
    assert any("second_stage_threshold" in c for c in conditions)
    assert main_steps.index(gate) < main_steps.index(stages[1][2])


def test_deploy_calls_the_webhook_with_oidc_only_after_an_approval() -> None:
    workflow = rendered_workflow("deploy_approval")
    [(_, _, webhook)] = calls(workflow, "http.post")
    assert webhook["args"]["auth"] == {"type": "OIDC"}
    assert webhook["args"]["url"] == "${webhook_url}"

    main_steps = [body for _, body in steps_in(workflow["main"]["steps"])]
    gate = next(body for body in main_steps if "switch" in body)
    [refusal] = gate["switch"]
    assert refusal["condition"] == "${not decision.approved}"
    [(_, returned)] = steps_in(refusal["steps"])
    assert returned["return"]["deployed"] is False
    webhook_step = next(body for body in main_steps if body.get("try") is webhook)
    assert main_steps.index(gate) < main_steps.index(webhook_step)


def test_translation_stores_text_translation_and_outcome_like_the_seed() -> None:
    workflow = rendered_workflow("translation_validation")
    stored = [
        set(site["args"]["values"])
        for _, _, site in calls(workflow, "firestore_update_document")
        if site["args"].get("collection") == "${translations}"
        and site["args"].get("document_id") == "${translation_id}"
    ]
    # The translations are the template's own collection, under its workflow's extension.
    [(_, _, located)] = calls(workflow, "template_collection")
    assert located["args"] == {"name": "translations"}

    assert stored == [{"text", "requester", "request_id"}, {"translation"}, {"approved"}]
    [(_, _, translate)] = calls(workflow, "googleapis.translate.v2.translations.translate")
    assert translate["args"]["query"]["source"] == "${source_language}"
    [returned] = [b["return"] for _, b in steps_in(workflow["main"]["steps"]) if "return" in b]
    assert set(returned) == {"text", "translation", "approved"}
