"""Procurement: the approvals platform once, a purchase-order approval on it, and a quotes bucket."""

import json

import pulumi
from team import FINANCE, TEAM_LABELS, quotes_bucket

from approvals import ApprovalPlatform, ApprovalPlatformArgs, ApprovalWorkflow, ApprovalWorkflowArgs

config = pulumi.Config()
project = pulumi.Config("gcp").require("project")

platform = ApprovalPlatform(
    "approvals", ApprovalPlatformArgs(project=project, labels=TEAM_LABELS, max_instances=5)
)
purchase_orders = ApprovalWorkflow(
    "purchase-orders",
    ApprovalWorkflowArgs(
        platform=platform,
        template="expense_approval",
        approvers=config.require_object("buyers"),
        timeout_seconds=3 * 24 * 3600,
        params={
            "EXPENSE_SECOND_STAGE_THRESHOLD": str(config.require_int("secondStageThreshold")),
            "FINANCE_APPROVERS": json.dumps(FINANCE),
        },
    ),
)
quotes = quotes_bucket(project, after=platform)

pulumi.export("approval_page", platform.site_url)
pulumi.export("workflow", purchase_orders.workflow_name)
pulumi.export("quotes_bucket", quotes.url)
