"""In production, no approval rests on a single person."""

import json

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .resource_types import WORKFLOW
from .settings import schema, settings
from .stacks import PROD_STACKS, in_prod, stack_name
from .values import number, read

SCHEMA = schema(
    prod_stacks=PROD_STACKS,
    min_approvers={
        "type": "number",
        "default": 2,
        "description": "The fewest entries an approval workflow's APPROVERS list has in production.",
    },
)


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    config = settings(args, SCHEMA)
    if args.resource_type != WORKFLOW or not in_prod(args.urn, config["prod_stacks"]):
        return
    listed = read(args.props, "userEnvVars", "APPROVERS")
    if listed is None:  # not an approval workflow
        return
    try:
        approvers = json.loads(listed)
    except (TypeError, ValueError):
        approvers = None
    where = f"Approval workflow {args.name} in production stack '{stack_name(args.urn)}'"
    fix = (
        f"Fix: list at least {number(config['min_approvers'])} approvers (people or groups) for it "
        "(approvers: in approvals:workflows, or approvals:approvers, in the stack's config)."
    )
    if not isinstance(approvers, list):
        report_violation(f"{where} has APPROVERS {listed!r}, which is not a JSON list. {fix}", None)
    elif len(approvers) < config["min_approvers"]:
        report_violation(
            f"{where} has {len(approvers)} approver(s) ({', '.join(map(str, approvers)) or 'none'}), fewer "
            f"than min_approvers {number(config['min_approvers'])}, so one absence blocks it. {fix}",
            None,
        )


prod_approver_count = ResourceValidationPolicy(
    name="prod-approver-count",
    description="In production, every approval workflow has at least two approvers.",
    validate=validate,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=SCHEMA,
)
