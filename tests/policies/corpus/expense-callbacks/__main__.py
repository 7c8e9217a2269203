"""Expense claims: a workflow per claim waits for the manager's decision."""

from pathlib import Path

import pulumi
import pulumi_gcp as gcp

HERE = Path(__file__).parent
project = pulumi.Config("gcp").require("project")
labels = {"app": "expenses", "managed-by": "pulumi"}

database = gcp.firestore.Database(
    "default",
    name="(default)",
    location_id="eur3",
    type="FIRESTORE_NATIVE",
    delete_protection_state="DELETE_PROTECTION_DISABLED",
    deletion_policy="DELETE",
)
ruleset = gcp.firebaserules.Ruleset(
    "expenses",
    project=project,
    source=gcp.firebaserules.RulesetSourceArgs(
        files=[
            gcp.firebaserules.RulesetSourceFileArgs(
                name="firestore.rules", content=(HERE / "firestore.rules").read_text()
            )
        ]
    ),
    opts=pulumi.ResourceOptions(depends_on=[database]),
)
gcp.firebaserules.Release(
    "expenses",
    name="cloud.firestore",
    project=project,
    ruleset_name=ruleset.name,
    opts=pulumi.ResourceOptions(delete_before_replace=True),
)

account = gcp.serviceaccount.Account("wf-expense-claims", account_id="wf-expense-claims")
for role in ("roles/datastore.user", "roles/logging.logWriter"):
    gcp.projects.IAMMember(
        f"wf-expense-claims-{role.split('/')[1].split('.')[0]}",
        project=project,
        role=role,
        member=account.member,
    )

gcp.workflows.Workflow(
    "expense-claim",
    name="expense-claim",
    region="europe-west1",
    service_account=account.email,
    source_contents=(HERE / "expense.yaml").read_text(),
    deletion_protection=False,
    labels=labels,
)
