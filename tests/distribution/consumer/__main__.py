"""The payments team's stack: its own components package beside the installed approvals."""

from pathlib import Path

import pulumi

from approvals import ApprovalPlatform, ApprovalPlatformArgs, ApprovalWorkflow, ApprovalWorkflowArgs
from components import REFUND_APPROVERS, TEAM_LABELS

platform = ApprovalPlatform(
    "approvals",
    ApprovalPlatformArgs(labels=TEAM_LABELS, groups={"finance": ["fiona@example.com", "felix@example.com"]}),
)
deploys = ApprovalWorkflow(
    "deploys",
    ApprovalWorkflowArgs(
        platform=platform,
        template="deploy_approval",
        approvers=["release@example.com", "cto@example.com"],
        params={"DEPLOY_WEBHOOK_URL": "https://ci.example.com/deploy"},
    ),
)
refunds = ApprovalWorkflow(
    "refunds",
    ApprovalWorkflowArgs(
        platform=platform,
        template=Path(__file__).parent / "workflows" / "refund.yaml",
        approvers=REFUND_APPROVERS,
        input_schema={
            "type": "object",
            "required": ["order", "amount"],
            "properties": {"order": {"type": "string"}, "amount": {"type": "number"}},
        },
    ),
)
pulumi.export("site_url", platform.site_url)
pulumi.export("workflows", [deploys.workflow_name, refunds.workflow_name])
