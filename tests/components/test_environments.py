"""Production gets stricter defaults than development, from stack config alone."""

import json
from pathlib import Path

import pytest

from approvals import InvalidArgumentError
from approvals.testing import Graph, capture_program

REPO = Path(__file__).resolve().parents[2]


def database(graph: Graph) -> dict:
    (db,) = graph.of_type("gcp:firestore/database:Database")
    return db.inputs


def test_prod_protects_its_data_and_dev_does_not(dev_graph: Graph, prod_graph: Graph) -> None:
    assert database(prod_graph)["deleteProtectionState"] == "DELETE_PROTECTION_ENABLED"
    assert database(prod_graph)["pointInTimeRecoveryEnablement"] == "POINT_IN_TIME_RECOVERY_ENABLED"
    assert database(prod_graph)["deletionPolicy"] == "ABANDON"
    assert database(dev_graph)["deleteProtectionState"] == "DELETE_PROTECTION_DISABLED"
    assert database(dev_graph)["pointInTimeRecoveryEnablement"] == "POINT_IN_TIME_RECOVERY_DISABLED"
    assert all(w.inputs["deletionProtection"] for w in prod_graph.of_type("gcp:workflows/workflow:Workflow"))
    assert not any(
        w.inputs["deletionProtection"] for w in dev_graph.of_type("gcp:workflows/workflow:Workflow")
    )
    (prod_bucket,) = prod_graph.of_type("gcp:storage/bucket:Bucket")
    (dev_bucket,) = dev_graph.of_type("gcp:storage/bucket:Bucket")
    assert prod_bucket.inputs["forceDestroy"] is False and prod_bucket.inputs["versioning"]["enabled"] is True
    assert dev_bucket.inputs["forceDestroy"] is True


def test_every_function_is_bounded_in_both(dev_graph: Graph, prod_graph: Graph) -> None:
    def limits(graph: Graph) -> set[int]:
        return {
            f.inputs["serviceConfig"]["maxInstanceCount"]
            for f in graph.of_type("gcp:cloudfunctionsv2/function:Function")
        }

    assert limits(dev_graph) == {3}
    assert limits(prod_graph) == {20}


def test_prod_lists_its_own_workflows_and_labels(prod_graph: Graph) -> None:
    workflows = {
        w.inputs["name"]: w
        for w in prod_graph.within("approvals:index:ApprovalWorkflow", "gcp:workflows/workflow:Workflow")
    }
    assert set(workflows) == {"translation-validation", "expense-approval", "deploy-approval"}
    assert workflows["deploy-approval"].inputs["userEnvVars"]["DEPLOY_WEBHOOK_URL"] == (
        "https://deploy.example.com/hooks/approved"
    )
    for workflow in workflows.values():
        assert workflow.inputs["labels"]["environment"] == "prod"
    assert prod_graph.outputs["site_url"] == "https://approvals-prod-approvals.web.app"


def approval_policies(graph: Graph) -> dict[str, dict]:
    return {
        w.inputs["name"]: json.loads(w.inputs["userEnvVars"]["APPROVAL_POLICY"])
        for w in graph.within("approvals:index:ApprovalWorkflow", "gcp:workflows/workflow:Workflow")
    }


def test_prod_needs_two_approvals_and_dev_shows_a_quorum(dev_graph: Graph, prod_graph: Graph) -> None:
    dev = approval_policies(dev_graph)
    assert {name: (p["mode"], p["quorum"]) for name, p in dev.items()} == {
        "translation-validation": ("quorum", 1),
        "expense-approval": ("quorum", 1),
        "release-approval": ("quorum", 2),
    }
    assert dev["release-approval"]["reminder_every_seconds"] == 3600
    assert dev["release-approval"]["escalate_to"] == {
        "approvers": ["cto@example.com"],
        "quorum": 1,
        "timeout_seconds": 86400,
    }
    prod = approval_policies(prod_graph)
    assert {(p["mode"], p["quorum"]) for p in prod.values()} == {("quorum", 2)}
    assert prod["translation-validation"]["reminder_every_seconds"] == 43200
    assert prod["deploy-approval"]["escalate_to"] == {
        "approvers": ["cto@example.com", "group:engineering-directors"],
        "quorum": 1,
        "timeout_seconds": 21600,
    }
    assert all(p["prevent_self_approval"] for p in prod.values())


def test_listed_workflows_set_their_own_approval_policy() -> None:
    entry = {
        "name": "x",
        "template": "expense_approval",
        "approvers": ["a@example.com", "b@example.com"],
        "params": {"FINANCE_APPROVERS": '["f@example.com"]'},
        "quorum": 2,
        "reminderEverySeconds": 600,
        "preventSelfApproval": False,
        "votesVisible": "after_decision",
        "escalateTo": {"approvers": ["boss@example.com"], "timeoutSeconds": 3600, "quorum": 1},
    }
    graph = capture_program(
        REPO / "__main__.py",
        stack="dev",
        config={"approvals:mode": "auto", "approvals:workflows": json.dumps([entry])},
    )
    assert approval_policies(graph)["x"] == {
        "mode": "auto",
        "quorum": 2,
        "rejection_quorum": 1,
        "reminder_every_seconds": 600,
        "escalate_to": {"approvers": ["boss@example.com"], "quorum": 1, "timeout_seconds": 3600},
        "prevent_self_approval": False,
        "votes_visible": "after_decision",
    }


def test_a_bad_escalation_entry_names_the_config_key() -> None:
    entry = {
        "name": "x",
        "template": "expense_approval",
        "approvers": ["a@example.com"],
        "escalateTo": {"approvers": ["boss@example.com"], "timeout": 3600},
    }
    with pytest.raises(ValueError, match=r"approvals:workflows\[0\]\.escalateTo: must be a map"):
        capture_program(
            REPO / "__main__.py", stack="dev", config={"approvals:workflows": json.dumps([entry])}
        )


def test_a_typo_in_listed_workflows_names_the_config_key() -> None:
    with pytest.raises(
        ValueError, match=r"approvals:workflows\[0\]: missing \['approvers'\], unknown \['aprovers'\]"
    ):
        capture_program(
            REPO / "__main__.py",
            stack="dev",
            config={
                "approvals:workflows": json.dumps(
                    [{"name": "x", "template": "expense_approval", "aprovers": ["a@example.com"]}]
                )
            },
        )


def test_both_stacks_declare_the_groups_their_workflows_name(dev_graph: Graph, prod_graph: Graph) -> None:
    """Both stacks build, and their groups (approvals:groups) become membership documents."""
    for graph, members in ((dev_graph, 2), (prod_graph, 12)):
        documents = graph.of_type("gcp:firestore/document:Document")
        assert len([d for d in documents if d.inputs["collection"] == "approval_memberships"]) == members


def test_a_group_the_stack_does_not_declare_fails_the_program() -> None:
    undeclared = r"group:reviewers is not declared.*approvals:groups"
    with pytest.raises(InvalidArgumentError, match=undeclared) as caught:
        capture_program(REPO / "__main__.py", stack="dev", config={"approvals:groups": "{}"})
    assert caught.value.argument == "ApprovalWorkflowArgs.approvers"


def test_stack_config_reaches_the_components() -> None:
    graph = capture_program(
        REPO / "__main__.py",
        stack="dev",
        config={
            "approvals:targetLanguage": "de",
            "approvals:region": "us-east1",
            "approvals:workflows": "[]",
        },
    )
    (workflow,) = graph.within("approvals:index:ApprovalWorkflow", "gcp:workflows/workflow:Workflow")
    assert workflow.inputs["userEnvVars"]["TARGET_LANGUAGE"] == "de"
    assert workflow.inputs["region"] == "us-east1"
