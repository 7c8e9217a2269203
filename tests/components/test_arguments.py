"""A wrong argument fails at construction, naming it and what is allowed; defaults can all be overridden."""

import json
from collections.abc import Callable
from typing import Any

import pulumi_gcp as gcp
import pytest

from approvals import (
    ApprovalPlatform,
    ApprovalPlatformArgs,
    ApprovalWorkflow,
    ApprovalWorkflowArgs,
    Collections,
    Escalation,
    InvalidArgumentError,
)
from approvals.function import PythonFunction, PythonFunctionArgs
from approvals.platform import FUNCTIONS_DIR
from approvals.testing import Graph, capture

CONFIG = {"gcp:project": "approvals-test"}
EXPENSE_PARAMS = {"FINANCE_APPROVERS": ["finance@example.com"]}
TWO = ["a@example.com", "b@example.com"]
# The groups the workflows below may name: a group must be declared on the platform.
GROUPS = {"x": ["x@example.com"], "reviewers": TWO, "directors": ["d@example.com"]}
UNDECLARED = "group:legal is not declared"
LEGAL = ["group:legal"]


def run(program: Callable[[], Any]) -> Graph:
    return capture(program, config=CONFIG)


def platform() -> ApprovalPlatform:
    return ApprovalPlatform("approvals", ApprovalPlatformArgs(groups=GROUPS))


@pytest.mark.parametrize(
    ("kwargs", "argument", "hint"),
    [
        ({"region": "Europe West"}, "ApprovalPlatformArgs.region", "europe-west1"),
        ({"firestore_location": "mars"}, "ApprovalPlatformArgs.firestore_location", "eur3"),
        ({"max_instances": 0}, "ApprovalPlatformArgs.max_instances", "1 to 1000"),
        ({"min_instances": 5, "max_instances": 2}, "ApprovalPlatformArgs.min_instances", "0 to 2"),
        ({"function_memory": "3Gi"}, "ApprovalPlatformArgs.function_memory", "256Mi"),
        ({"ingress_settings": "OPEN"}, "ApprovalPlatformArgs.ingress_settings", "ALLOW_ALL"),
        ({"deletion_protection": "yes"}, "ApprovalPlatformArgs.deletion_protection", "True or False"),
        ({"labels": {"Team": "x"}}, "ApprovalPlatformArgs.labels['Team']", "lower-case"),
        ({"database_id": "My DB"}, "ApprovalPlatformArgs.database_id", "(default)"),
        ({"hosting_site_id": "x"}, "ApprovalPlatformArgs.hosting_site_id", "6-30"),
        (
            {"collections": Collections(requests="same", callbacks="same")},
            "ApprovalPlatformArgs.collections",
            "",
        ),
        ({"project": "Not_A_Project"}, "ApprovalPlatformArgs.project", "project id"),
        (
            {"mail_webhook_url": "http://mail.example.com"},
            "ApprovalPlatformArgs.mail_webhook_url",
            "https://",
        ),
        (
            {"collections": Collections(delegations="approval_requests")},
            "ApprovalPlatformArgs.collections",
            "would hold two",
        ),
        (
            {"collections": Collections(memberships="approval_audit")},
            "ApprovalPlatformArgs.collections",
            "would hold two",
        ),
        ({"groups": ["legal"]}, "ApprovalPlatformArgs.groups", "a map of group name"),
        ({"groups": {"Legal": TWO}}, "ApprovalPlatformArgs.groups['Legal']", "lower-case"),
        ({"groups": {"group:legal": TWO}}, "ApprovalPlatformArgs.groups['group:legal']", "1-63"),
        ({"groups": {"l" * 64: TWO}}, f"ApprovalPlatformArgs.groups['{'l' * 64}']", "1-63"),
        ({"groups": {"legal": []}}, "ApprovalPlatformArgs.groups['legal']", "non-empty list"),
        ({"groups": {"legal": "a@example.com"}}, "ApprovalPlatformArgs.groups['legal']", "non-empty list"),
        ({"groups": {"legal": ["lee"]}}, "ApprovalPlatformArgs.groups['legal']", "e-mail"),
        (
            {"groups": {"legal": ["lee@example.com", "Lee@Example.com"]}},
            "ApprovalPlatformArgs.groups['legal']",
            "duplicates",
        ),
    ],
)
def test_bad_platform_arguments(kwargs: dict[str, Any], argument: str, hint: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        run(lambda: ApprovalPlatform("approvals", ApprovalPlatformArgs(**kwargs)))
    assert caught.value.argument == argument
    assert hint in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "argument", "hint"),
    [
        ({"concurrency": 0}, "PythonFunctionArgs.concurrency", "1 to 1000"),
        ({"concurrency": 1001, "cpu": "1"}, "PythonFunctionArgs.concurrency", "1 to 1000"),
        ({"concurrency": True}, "PythonFunctionArgs.concurrency", "1 to 1000"),
        ({"cpu": "1.5"}, "PythonFunctionArgs.cpu", "0.083"),
        ({"concurrency": 40}, "PythonFunctionArgs.cpu", "at least 1 vCPU"),
        ({"concurrency": 40, "cpu": "0.583"}, "PythonFunctionArgs.cpu", "at least 1 vCPU"),
    ],
)
def test_bad_function_concurrency(kwargs: dict[str, Any], argument: str, hint: str) -> None:
    def program() -> None:
        bucket = gcp.storage.Bucket("sources", location="EU")
        PythonFunction(
            "status",
            PythonFunctionArgs(
                source_dir=FUNCTIONS_DIR / "status",
                entry_point="status",
                bucket=bucket,
                service_account_email="status@approvals-test.iam.gserviceaccount.com",
                project="approvals-test",
                region="europe-west1",
                **kwargs,
            ),
        )

    with pytest.raises(InvalidArgumentError) as caught:
        run(program)
    assert caught.value.argument == argument
    assert hint in str(caught.value)


def test_a_missing_project_says_how_to_set_it() -> None:
    with pytest.raises(InvalidArgumentError, match=r"pulumi config set gcp:project"):
        capture(lambda: ApprovalPlatform("approvals", ApprovalPlatformArgs()), config={})


@pytest.mark.parametrize(
    ("kwargs", "argument", "hint"),
    [
        ({"template": "no_such_template"}, "ApprovalWorkflowArgs.template", "translation_validation"),
        ({"approvers": []}, "ApprovalWorkflowArgs.approvers", "non-empty"),
        ({"approvers": "alice@example.com"}, "ApprovalWorkflowArgs.approvers", "non-empty"),
        ({"approvers": ["not-an-email"]}, "ApprovalWorkflowArgs.approvers", "group:NAME"),
        ({"approvers": ["a@example.com", "A@example.com"]}, "ApprovalWorkflowArgs.approvers", "duplicates"),
        ({"timeout_seconds": 0}, "ApprovalWorkflowArgs.timeout_seconds", "1 to 31536000"),
        ({"timeout_seconds": 400 * 86400}, "ApprovalWorkflowArgs.timeout_seconds", "1 to 31536000"),
        ({"params": {"NO_SUCH_PARAM": "x"}}, "ApprovalWorkflowArgs.params", "TARGET_LANGUAGE"),
        ({"call_log_level": "VERBOSE"}, "ApprovalWorkflowArgs.call_log_level", "LOG_ALL_CALLS"),
        ({"workflow_key": "Bad Key"}, "ApprovalWorkflowArgs.workflow_key", "lower-case"),
        ({"extra_roles": ["owner"]}, "ApprovalWorkflowArgs.extra_roles", "roles/"),
        ({"mode": "manual"}, "ApprovalWorkflowArgs.mode", "auto, single, quorum"),
        ({"quorum": 0}, "ApprovalWorkflowArgs.quorum", "1 to 1000"),
        ({"quorum": 3, "approvers": TWO}, "ApprovalWorkflowArgs.quorum", "3 could never be reached"),
        ({"quorum": 1001, "approvers": [*TWO, "group:x"]}, "ApprovalWorkflowArgs.quorum", "1 to 1000"),
        ({"rejection_quorum": 2}, "ApprovalWorkflowArgs.rejection_quorum", "2 could never be reached"),
        ({"reminder_every_seconds": 30}, "ApprovalWorkflowArgs.reminder_every_seconds", "60 to"),
        (
            {"reminder_every_seconds": 3600, "timeout_seconds": 3600},
            "ApprovalWorkflowArgs.reminder_every_seconds",
            "not below timeout_seconds 3600",
        ),
        (
            {"escalate_to": {"approvers": TWO, "timeout_seconds": 60}},
            "ApprovalWorkflowArgs.escalate_to",
            "an Escalation",
        ),
        (
            {"escalate_to": Escalation(approvers=["boss"], timeout_seconds=60)},
            "ApprovalWorkflowArgs.escalate_to.approvers",
            "group:NAME",
        ),
        (
            {"escalate_to": Escalation(approvers=[], timeout_seconds=60)},
            "ApprovalWorkflowArgs.escalate_to.approvers",
            "non-empty",
        ),
        (
            {"escalate_to": Escalation(approvers=TWO, timeout_seconds=365 * 86400)},
            "ApprovalWorkflowArgs.escalate_to.timeout_seconds",
            "1 to 31449600",
        ),
        (
            {"escalate_to": Escalation(approvers=TWO, timeout_seconds=60, quorum=3)},
            "ApprovalWorkflowArgs.escalate_to.quorum",
            "3 could never be reached",
        ),
        ({"prevent_self_approval": "yes"}, "ApprovalWorkflowArgs.prevent_self_approval", "True or False"),
        ({"votes_visible": "never"}, "ApprovalWorkflowArgs.votes_visible", "always, after_decision"),
        ({"requesters": []}, "ApprovalWorkflowArgs.requesters", "non-empty"),
        ({"requesters": "a@example.com"}, "ApprovalWorkflowArgs.requesters", "non-empty"),
        ({"requesters": ["example.com"]}, "ApprovalWorkflowArgs.requesters", "domain:example.com"),
        ({"requesters": ["domain:not a domain"]}, "ApprovalWorkflowArgs.requesters", "domain:example.com"),
        ({"requesters": ["group:legal"]}, "ApprovalWorkflowArgs.requesters", UNDECLARED),
        (
            {"requesters": ["domain:developer.gserviceaccount.com"]},
            "ApprovalWorkflowArgs.requesters",
            "would match service accounts by domain",
        ),
        (
            {"requesters": ["a@example.com", "domain:Gserviceaccount.com"]},
            "ApprovalWorkflowArgs.requesters",
            "each service account's e-mail",
        ),
        ({"approvers": ["ann@gmail.com"]}, "ApprovalWorkflowArgs.requesters", "no safe default"),
        ({"max_pending_per_requester": 0}, "ApprovalWorkflowArgs.max_pending_per_requester", "1 to 1000"),
        ({"approvers": ["a@example.com", "group:Legal"]}, "ApprovalWorkflowArgs.approvers", UNDECLARED),
        (
            {"escalate_to": Escalation(approvers=["group:legal"], timeout_seconds=60)},
            "ApprovalWorkflowArgs.escalate_to.approvers",
            UNDECLARED,
        ),
        (
            {"template": "expense_approval", "params": {"FINANCE_APPROVERS": ["group:legal"]}},
            "ApprovalWorkflowArgs.params",
            UNDECLARED,
        ),
        (
            {
                "template": "approval_chain",
                "params": {
                    "APPROVAL_STAGES": json.dumps(
                        [
                            {"name": "tech", "approvers": ["group:reviewers"]},
                            {"name": "law", "options": {"rules": [{"name": "l", "approvers": LEGAL}]}},
                        ]
                    )
                },
            },
            "ApprovalWorkflowArgs.params",
            UNDECLARED,
        ),
    ],
)
def test_bad_workflow_arguments(kwargs: dict[str, Any], argument: str, hint: str) -> None:
    def program() -> None:
        args = {"platform": platform(), "template": "translation_validation", "approvers": ["a@example.com"]}
        ApprovalWorkflow("translate", ApprovalWorkflowArgs(**{**args, **kwargs}))

    with pytest.raises(InvalidArgumentError) as caught:
        run(program)
    assert caught.value.argument == argument
    assert hint in str(caught.value)


def test_an_undeclared_group_says_where_to_declare_it() -> None:
    """A group nobody declared has no members: its requests could never be decided."""

    def program() -> None:
        ApprovalWorkflow(
            "translate",
            ApprovalWorkflowArgs(
                platform=platform(), template="translation_validation", approvers=["group:legal", "group:x"]
            ),
        )

    with pytest.raises(InvalidArgumentError) as caught:
        run(program)
    assert caught.value.argument == "ApprovalWorkflowArgs.approvers"
    assert UNDECLARED in str(caught.value)
    assert "ApprovalPlatformArgs.groups" in str(caught.value)
    assert "approvals:groups" in str(caught.value)


def test_declared_groups_are_stored_one_document_per_member() -> None:
    ann, lee = "ann@example.com", "lee@example.com"

    def program() -> None:
        shared = ApprovalPlatform(
            "approvals", ApprovalPlatformArgs(groups={"legal": ["Lee@Example.com", ann], "ops": [ann]})
        )
        assert shared.groups == {"legal": (lee, ann), "ops": (ann,)}
        ApprovalWorkflow(
            "translate",
            ApprovalWorkflowArgs(
                platform=shared,
                template="expense_approval",
                approvers=["group:Legal"],
                params={"FINANCE_APPROVERS": ["group:ops"]},
            ),
        )

    graph = run(program)
    (platform_resource,) = graph.of_type("approvals:index:ApprovalPlatform")
    memberships = {
        d.inputs["documentId"]: d
        for d in graph.of_type("gcp:firestore/document:Document")
        if d.inputs["collection"] == "approval_memberships"
    }
    assert {member: json.loads(d.inputs["fields"]) for member, d in memberships.items()} == {
        ann: {"groups": {"arrayValue": {"values": [{"stringValue": "legal"}, {"stringValue": "ops"}]}}},
        lee: {"groups": {"arrayValue": {"values": [{"stringValue": "legal"}]}}},
    }
    assert all(d.parent == platform_resource.urn for d in memberships.values())


def test_platform_must_be_a_platform() -> None:
    with pytest.raises(InvalidArgumentError, match=r"ApprovalWorkflowArgs.platform: got str"):
        run(
            lambda: ApprovalWorkflow(
                "w",
                ApprovalWorkflowArgs(platform="approvals", template="expense_approval", approvers=["a@b.co"]),
            )
        )


def test_a_required_template_param_is_named_when_missing() -> None:
    def program() -> None:
        ApprovalWorkflow(
            "deploy",
            ApprovalWorkflowArgs(platform=platform(), template="deploy_approval", approvers=["a@b.co"]),
        )

    with pytest.raises(InvalidArgumentError, match=r"ApprovalWorkflowArgs.params: .*DEPLOY_WEBHOOK_URL"):
        run(program)


def test_a_bad_argument_registers_nothing() -> None:
    """The error comes before the first resource, so nothing is half-created."""
    errors: list[InvalidArgumentError] = []

    def program() -> None:
        try:
            ApprovalPlatform("approvals", ApprovalPlatformArgs(region="nowhere"))
        except InvalidArgumentError as error:
            errors.append(error)

    graph = run(program)
    assert len(errors) == 1
    assert graph.resources == ()


def test_existing_resources_are_used_instead_of_created() -> None:
    def program() -> None:
        database = gcp.firestore.Database(
            "mine-db", name="shared", location_id="eur3", type="FIRESTORE_NATIVE"
        )
        account = gcp.serviceaccount.Account("mine-sa", account_id="my-decider")
        pusher = gcp.serviceaccount.Account("mine-pusher-sa", account_id="my-pusher")
        timer = gcp.serviceaccount.Account("mine-timer-sa", account_id="my-timer")
        workflow_account = gcp.serviceaccount.Account("mine-wf-sa", account_id="my-workflow")
        bucket = gcp.storage.Bucket("mine-bucket", name="my-sources", location="EU")
        shared = ApprovalPlatform(
            "approvals",
            ApprovalPlatformArgs(
                database=database,
                decide_service_account=account,
                pusher_service_account=pusher,
                timer_service_account=timer,
                source_bucket=bucket,
                enable_apis=False,
            ),
        )
        ApprovalWorkflow(
            "expenses",
            ApprovalWorkflowArgs(
                platform=shared,
                template="expense_approval",
                approvers=["a@example.com"],
                params=EXPENSE_PARAMS,
                service_account=workflow_account,
            ),
        )

    graph = run(program)
    assert [d.name for d in graph.of_type("gcp:firestore/database:Database")] == ["mine-db"]
    assert [b.name for b in graph.of_type("gcp:storage/bucket:Bucket")] == ["mine-bucket"]
    assert graph.of_type("gcp:projects/service:Service") == []
    accounts = {a.inputs["accountId"] for a in graph.of_type("gcp:serviceaccount/account:Account")}
    assert accounts == {
        "my-decider",
        "my-pusher",
        "my-timer",
        "my-workflow",
        *(
            f"approvals-{role}"
            for role in ("start", "cancel", "delegate", "link", "status", "notify", "web", "build")
        ),
    }
    (subscription,) = graph.of_type("gcp:pubsub/subscription:Subscription")
    assert subscription.inputs["pushConfig"]["oidcToken"]["serviceAccountEmail"] == (
        "my-pusher@approvals-test.iam.gserviceaccount.com"
    )
    (decide,) = [
        f for f in graph.of_type("gcp:cloudfunctionsv2/function:Function") if f.name == "approvals-decide"
    ]
    assert (
        decide.inputs["serviceConfig"]["serviceAccountEmail"]
        == "my-decider@approvals-test.iam.gserviceaccount.com"
    )
    assert decide.inputs["serviceConfig"]["environmentVariables"]["APPROVALS_DATABASE"] == "shared"
    timer_workflow = graph.named("approvals-delegation-timer", "gcp:workflows/workflow:Workflow")
    assert timer_workflow.inputs["serviceAccount"].startswith(
        "projects/approvals-test/serviceAccounts/my-timer@"
    )
    (release,) = graph.of_type("gcp:firebaserules/release:Release")
    assert release.inputs["name"] == "cloud.firestore/shared"
    (workflow,) = graph.within("approvals:index:ApprovalWorkflow", "gcp:workflows/workflow:Workflow")
    assert "my-workflow@" in workflow.inputs["serviceAccount"]


def test_grant_invoke_gives_only_the_starter_role() -> None:
    def program() -> None:
        workflow = ApprovalWorkflow(
            "expenses",
            ApprovalWorkflowArgs(
                platform=platform(),
                template="expense_approval",
                approvers=["a@example.com"],
                params=EXPENSE_PARAMS,
            ),
        )
        workflow.grant_invoke("ci", "serviceAccount:ci@approvals-test.iam.gserviceaccount.com")

    graph = run(program)
    (grant,) = [
        m
        for m in graph.of_type("gcp:projects/iAMMember:IAMMember")
        if m.inputs["member"] == "serviceAccount:ci@approvals-test.iam.gserviceaccount.com"
    ]
    assert grant.inputs["role"] == "projects/approvals-test/roles/approvals_approvals_executionStarter"


def approval_policy(**kwargs: Any) -> dict[str, Any]:
    """The APPROVAL_POLICY a translation workflow with these arguments gets."""

    def program() -> None:
        args = {"platform": platform(), "template": "translation_validation", "approvers": TWO}
        ApprovalWorkflow("translate", ApprovalWorkflowArgs(**{**args, **kwargs}))

    (workflow,) = run(program).within("approvals:index:ApprovalWorkflow", "gcp:workflows/workflow:Workflow")
    text = workflow.inputs["userEnvVars"]["APPROVAL_POLICY"]
    assert " " not in text, "compact JSON"
    return json.loads(text)


def test_the_approval_policy_defaults_to_one_approval_and_no_self_approval() -> None:
    assert approval_policy() == {
        "mode": "single",
        "quorum": 1,
        "rejection_quorum": 1,
        "reminder_every_seconds": None,
        "escalate_to": None,
        "prevent_self_approval": True,
        "votes_visible": "always",
    }


def test_the_approval_policy_carries_every_setting() -> None:
    policy = approval_policy(
        mode="quorum",
        quorum=2,
        rejection_quorum=2,
        reminder_every_seconds=600,
        escalate_to=Escalation(approvers=["Boss@example.com", "group:Directors"], timeout_seconds=7200),
        prevent_self_approval=False,
        votes_visible="after_decision",
    )
    assert policy == {
        "mode": "quorum",
        "quorum": 2,
        "rejection_quorum": 2,
        "reminder_every_seconds": 600,
        "escalate_to": {
            "approvers": ["boss@example.com", "group:directors"],
            "quorum": 1,
            "timeout_seconds": 7200,
        },
        "prevent_self_approval": False,
        "votes_visible": "after_decision",
    }


def test_a_group_makes_any_quorum_reachable() -> None:
    policy = approval_policy(mode="quorum", quorum=5, approvers=["a@example.com", "group:reviewers"])
    assert policy["quorum"] == 5


def registration(graph: Any, key: str) -> dict[str, Any]:
    """The registry document the start function reads for ``key``, as plain values."""
    [document] = [
        d
        for d in graph.of_type("gcp:firestore/document:Document")
        if d.inputs["collection"] == "approval_workflows" and d.inputs["documentId"] == key
    ]
    fields = json.loads(document.inputs["fields"])
    return {name: next(iter(value.values())) for name, value in fields.items()}


def test_requesters_default_to_the_approvers_domains() -> None:
    def program() -> None:
        shared = ApprovalPlatform(
            "approvals", ApprovalPlatformArgs(groups={"legal": ["lee@law.example.org"]})
        )
        ApprovalWorkflow(
            "translate",
            ApprovalWorkflowArgs(
                platform=shared,
                template="translation_validation",
                approvers=["Ann@Example.com", "group:legal"],
                escalate_to=Escalation(approvers=["cto@corp.example.net"], timeout_seconds=60),
            ),
        )
        ApprovalWorkflow(
            "expenses",
            ApprovalWorkflowArgs(
                platform=shared,
                template="translation_validation",
                approvers=["ann@gmail.com"],
                # A service account is named by its e-mail.
                requesters=[
                    "Bob@Example.com",
                    "group:legal",
                    "domain:Example.org",
                    "ci@p.iam.gserviceaccount.com",
                ],
                max_pending_per_requester=3,
            ),
        )

    graph = run(program)

    translate = registration(graph, "translate")
    assert json.loads(translate["requesters"]) == [
        "domain:corp.example.net",
        "domain:example.com",
        "domain:law.example.org",
    ]
    assert translate["max_pending_per_requester"] == "10"
    expenses = registration(graph, "expenses")
    assert json.loads(expenses["requesters"]) == [
        "bob@example.com",
        "group:legal",
        "domain:example.org",
        "ci@p.iam.gserviceaccount.com",
    ]
    assert expenses["max_pending_per_requester"] == "3"
