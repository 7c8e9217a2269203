"""Production gets stricter defaults than development, from stack config alone."""

import json
from pathlib import Path

import pytest

from components.testing import Graph, capture_program

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
    workflows = {w.inputs["name"]: w for w in prod_graph.of_type("gcp:workflows/workflow:Workflow")}
    assert set(workflows) == {"translation-validation", "expense-approval", "deploy-approval"}
    assert workflows["deploy-approval"].inputs["userEnvVars"]["DEPLOY_WEBHOOK_URL"] == (
        "https://deploy.example.com/hooks/approved"
    )
    for workflow in workflows.values():
        assert workflow.inputs["labels"]["environment"] == "prod"
    assert prod_graph.outputs["site_url"] == "https://approvals-prod-approvals.web.app"


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
    (workflow,) = graph.of_type("gcp:workflows/workflow:Workflow")
    assert workflow.inputs["userEnvVars"]["TARGET_LANGUAGE"] == "de"
    assert workflow.inputs["region"] == "us-east1"
