"""In production, every approval is decided by people: no workflow approves on its own."""

import json

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .resource_types import WORKFLOW
from .settings import schema, settings
from .stacks import PROD_STACKS, in_prod, stack_name
from .values import read

SCHEMA = schema(prod_stacks=PROD_STACKS)
AUTO = "auto"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != WORKFLOW or not in_prod(args.urn, settings(args, SCHEMA)["prod_stacks"]):
        return
    policy = read(args.props, "userEnvVars", "APPROVAL_POLICY")
    try:
        mode = json.loads(policy).get("mode") if isinstance(policy, str) else None
    except (ValueError, AttributeError):  # not the components' JSON object: nothing to judge
        return
    if mode == AUTO:
        report_violation(
            f"Approval workflow {args.name} in production stack '{stack_name(args.urn)}' has APPROVAL_POLICY "
            "mode auto, so every request is approved at once without anyone looking at it. Fix: set mode "
            '"single" or "quorum" (approvals:mode in the stack\'s config, or ApprovalWorkflowArgs.mode).',
            None,
        )


approval_mode_not_auto_in_prod = ResourceValidationPolicy(
    name="approval-mode-not-auto-in-prod",
    description="In production, no approval workflow runs in auto mode (approved without a person).",
    validate=validate,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=SCHEMA,
)
