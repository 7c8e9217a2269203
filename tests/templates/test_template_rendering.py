"""Rendering the catalog templates: the library steps they get, and what those steps do.

The rendered sources are read back by the engine's parser and asked through its queries
(`approvals.engine.language.queries`), as the engine would run them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from approvals.engine.language import queries
from approvals.engine.language.definition import (
    Action,
    Assign,
    Call,
    Program,
    Raise,
    Return,
    Steps,
    Subworkflow,
    Switch,
    Try,
    parse,
)
from approvals.engine.language.parser import Expression, Name, source_value
from approvals.engine.language.queries import CallSite, Site
from approvals.workflow_templates import available_templates, load_template, render
from tests.templates.examples import (
    PLATFORM_ENV,
    REQUIRED_PARAMS,
    args_of,
    render_with_defaults,
    rendered_workflow,
)

TEMPLATES = available_templates()


def calls(of: Program | Subworkflow, target: str) -> list[CallSite]:
    """Every call step to target."""
    return [site for site in queries.calls(of) if site.call.function == target]


def steps(of: Subworkflow) -> list[Site]:
    """The named steps of a subworkflow, nested ones included, in source order."""
    return [site for site in queries.sites(of) if site.node is not None]


def mentions(action: Action | None, variable: str) -> bool:
    """Whether an action's own expressions read the variable."""
    return any(n == variable or n.startswith(f"{variable}.") for n in queries.action_reads(action))


def strings_in(value: Any) -> Iterator[str]:
    """Every string inside a YAML value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings_in(item)


def test_the_catalog_lists_the_four_templates() -> None:
    assert TEMPLATES == ["approval_chain", "deploy_approval", "expense_approval", "translation_validation"]


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_template_renders_with_its_defaults_and_calls_request_approval(name: str) -> None:
    workflow = rendered_workflow(name)

    assert next(iter(workflow.subworkflows)) == "main"
    assert calls(workflow, "request_approval")
    assert "request_approval" in workflow.subworkflows
    for site in queries.calls(workflow):
        target = site.call.function
        assert "." in target or target in workflow.subworkflows, target


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_env_var_a_rendered_template_reads_is_set(name: str) -> None:
    template = load_template(name)
    env = {**PLATFORM_ENV, **template.env_for(REQUIRED_PARAMS.get(name, {}))}
    reads = list(queries.env_reads(parse(render(template, env))))

    assert all(read.name is not None for read in reads)
    required = {read.name for read in reads if not read.has_default}
    assert {name for name in required if name and not name.startswith("GOOGLE_CLOUD_")} <= set(env)
    # Reads with a default (APPROVALS_EVENTS_TOPIC) may find nothing.
    assert {read.name for read in reads if read.has_default} == {"APPROVALS_EVENTS_TOPIC", "APPROVAL_POLICY"}


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
    workflow = parse(render(load_template(path), PLATFORM_ENV))

    assert set(workflow.subworkflows) == {
        "main",
        "firestore_update_document",
        "firestore_fields",
        "firestore_value",
        "firestore_documents_path",
        "firestore_contention",
    }


def test_a_template_without_library_calls_renders_alone(write_template: Any) -> None:
    path = write_template("main:\n  steps:\n    - done:\n        return: 42\n")

    assert set(parse(render(load_template(path), {})).subworkflows) == {"main"}


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
    workflow = parse(render(load_template(path), PLATFORM_ENV))

    assert [site.step for site in steps(workflow.main)] == ["ask", "answer"]
    assert "request_approval" in workflow.subworkflows


def test_the_callback_is_awaited_with_a_timeout_and_a_timeout_expires_the_request() -> None:
    workflow = rendered_workflow("translation_validation")
    [create] = calls(workflow, "events.create_callback_endpoint")
    assert args_of(create)["http_callback_method"] == "POST"

    [wait] = list(queries.awaits(workflow))
    assert "timeout" in args_of(wait)
    [handler] = wait.handlers
    assert handler.tags == {"TimeoutError"}
    error = handler.handler.name
    # A timeout is an outcome (the loop checks the deadline again), not a crash;
    # any other error propagates.
    [rethrow] = [
        condition
        for site in queries.sites_in(handler.handler.body)
        if isinstance(site.action, Switch)
        for condition in site.action.conditions
        if source_value(condition.test) == f'${{not ("TimeoutError" in {error}.tags)}}'
    ]
    assert isinstance(rethrow.action, Raise)
    assert source_value(rethrow.action.value) == f"${{{error}}}"


def test_an_expired_request_is_marked_expired_and_audited() -> None:
    expire = rendered_workflow("translation_validation").subworkflows["expire_request"]
    written = [args_of(site) for site in queries.calls(expire)]

    # An expired request keeps no delegates' stamps: whoever stood in reads it no longer.
    assert {"status": "expired", "delegates": [], "stand_in_for": {}} in [
        args.get("values") for args in written
    ]
    assert "expired" in [args.get("event") for args in written]
    [returned] = [source_value(s.action.value) for s in steps(expire) if isinstance(s.action, Return)]
    assert returned["status"] == "expired"
    assert returned["approved"] is False


def test_invalid_callbacks_are_audited_and_awaited_again() -> None:
    workflow = rendered_workflow("translation_validation")
    [wait] = list(queries.awaits(workflow))
    named = steps(workflow.subworkflows[wait.subworkflow])
    names = [site.step for site in named]

    audit = [
        site
        for site in named
        if isinstance(site.action, Call)
        and source_value((site.action.args or {}).get("event")) == "invalid_callback"
    ]
    assert len(audit) == 1
    last = named[-1].node
    assert last is not None
    assert last.next in names
    assert names.index(last.next) < names.index(next(s.step for s in named if isinstance(s.action, Try)))


def test_the_callback_url_is_written_only_to_the_callbacks_collection() -> None:
    workflow = rendered_workflow("translation_validation")
    [create] = calls(workflow, "events.create_callback_endpoint")
    assert create.call.result is not None
    callback = create.call.result.name
    subworkflow = workflow.subworkflows[create.subworkflow]
    assigned = {
        assignment.text: assignment.value
        for site in queries.sites(subworkflow)
        if isinstance(site.action, Assign)
        for assignment in site.action.assignments
    }

    users = [site for site in queries.calls(subworkflow) if mentions(site.call, callback)]
    writes = [site for site in users if site.call.function.startswith(("firestore_", "googleapis."))]
    assert len(writes) == 1
    [write] = writes
    collection = (write.call.args or {})["collection"]
    if isinstance(collection, Expression) and isinstance(collection.expr, Name):
        collection = assigned.get(collection.expr.name, collection)
    assert source_value(collection) == '${sys.get_env("APPROVALS_CALLBACKS_COLLECTION")}'
    assert args_of(write)["values"]["url"] == f"${{{callback}.url}}"
    # Everything else only hands the endpoint on, to be awaited and nothing else.
    for site in users:
        if site is write:
            continue
        args = site.call.args or {}
        assert source_value(args["callback"]) == f"${{{callback}}}"
        others = [value for key, value in args.items() if key != "callback"]
        assert not any(name.split(".")[0] == callback for value in others for name in queries.reads(value))
        receiver = workflow.subworkflows[site.call.function]
        used_by = [s.action for s in queries.sites(receiver) if mentions(s.action, "callback")]
        assert [action.function for action in used_by if isinstance(action, Call)] == [
            "events.await_callback"
        ]


def test_the_request_document_holds_what_the_approval_page_shows() -> None:
    workflow = rendered_workflow("translation_validation")
    writes = [
        args
        for site in calls(workflow, "firestore_create_document")
        if "status" in (args := args_of(site)).get("values", {})
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
    converter = rendered_workflow("translation_validation").subworkflows["firestore_value"]
    returned = " ".join(
        text
        for site in steps(converter)
        for value in queries.values_of(site.action)
        for text in strings_in(source_value(value))
    )

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
    assert {site.call.function for site in queries.calls(converter)} == {
        "firestore_value",
        "firestore_fields",
    }


def test_expense_asks_finance_only_above_the_threshold_and_after_an_approval() -> None:
    workflow = rendered_workflow("expense_approval")
    stages = calls(workflow, "request_approval")

    assert [args_of(site).get("stage") for site in stages] == ["manager", "finance"]
    finance = args_of(stages[1])
    assert finance["request_id"] == '${request_id + "-finance"}'
    assert finance["approvers"] == '${json.decode(sys.get_env("FINANCE_APPROVERS"))}'
    # Before the finance stage, a switch returns early on rejection or a small amount.
    main_steps = [site.action for site in steps(workflow.main)]
    gate = next(action for action in main_steps if isinstance(action, Switch))
    conditions = [str(source_value(condition.test)) for condition in gate.conditions]
    assert any("not manager_decision.approved" in c for c in conditions)
    assert any("second_stage_threshold" in c for c in conditions)
    assert main_steps.index(gate) < main_steps.index(stages[1].call)


def test_deploy_calls_the_webhook_with_oidc_only_after_an_approval() -> None:
    workflow = rendered_workflow("deploy_approval")
    [webhook] = calls(workflow, "http.post")
    assert args_of(webhook)["auth"] == {"type": "OIDC"}
    assert args_of(webhook)["url"] == "${webhook_url}"

    main_steps = [site.action for site in steps(workflow.main)]
    gate = next(action for action in main_steps if isinstance(action, Switch))
    [refusal] = gate.conditions
    assert source_value(refusal.test) == "${not decision.approved}"
    assert isinstance(refusal.action, Steps)
    [returned] = [step.action for step in refusal.action.body.steps]
    assert isinstance(returned, Return)
    assert source_value(returned.value)["deployed"] is False
    webhook_step = next(
        action
        for action in main_steps
        if isinstance(action, Try) and any(step.action is webhook.call for step in action.body.steps)
    )
    assert main_steps.index(gate) < main_steps.index(webhook_step)


def test_translation_stores_text_translation_and_outcome_like_the_seed() -> None:
    workflow = rendered_workflow("translation_validation")
    stored = [
        set(args["values"])
        for site in calls(workflow, "firestore_update_document")
        if (args := args_of(site)).get("collection") == "${translations}"
        and args.get("document_id") == "${translation_id}"
    ]
    # The translations are the template's own collection, under its workflow's extension.
    [located] = calls(workflow, "template_collection")
    assert args_of(located) == {"name": "translations"}

    assert stored == [{"text", "requester", "request_id"}, {"translation"}, {"approved"}]
    [translate] = calls(workflow, "googleapis.translate.v2.translations.translate")
    assert args_of(translate)["query"]["source"] == "${source_language}"
    [returned] = [source_value(s.action.value) for s in steps(workflow.main) if isinstance(s.action, Return)]
    assert set(returned) == {"text", "translation", "approved"}
