"""Release sign-off in production: the workflow follows the approval platform's env var conventions
(APPROVERS, APPROVAL_POLICY) so the platform's dashboards pick it up."""

import json
from pathlib import Path

import pulumi
import pulumi_gcp as gcp

config = pulumi.Config()
project = pulumi.Config("gcp").require("project")
approvers: list[str] = config.require_object("approvers")

sa = gcp.serviceaccount.Account(
    "wf-release-signoff", account_id="wf-release-signoff", display_name="release sign-off"
)
gcp.projects.IAMMember(
    "wf-release-signoff-logs", project=project, role="roles/logging.logWriter", member=sa.member
)

signoff = gcp.workflows.Workflow(
    "release-signoff",
    name="release-signoff",
    region="us-central1",
    service_account=sa.id,
    source_contents=Path(__file__).with_name("signoff.yaml").read_text(),
    user_env_vars={
        "APPROVERS": json.dumps(approvers),
        "APPROVAL_POLICY": json.dumps({"mode": "single"}),
        "NOTIFY_URL": config.require("notifyUrl"),
    },
    deletion_protection=True,
    labels={"app": "release-signoff", "managed-by": "pulumi"},
    opts=pulumi.ResourceOptions(protect=True),
)

pulumi.export("workflow", signoff.name)
