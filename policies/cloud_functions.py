"""Functions say who may reach them and how far they can scale (cost and blast radius)."""

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .resource_types import FUNCTION
from .settings import schema, settings
from .values import number, read

SCHEMA = schema(
    max_instances_limit={
        "type": "number",
        "default": 100,
        "description": "The highest serviceConfig.maxInstanceCount a function may set.",
    }
)


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != FUNCTION:
        return
    limit = settings(args, SCHEMA)["max_instances_limit"]
    if read(args.props, "serviceConfig", "ingressSettings") is None:
        report_violation(
            f"Function {args.name} does not set serviceConfig.ingressSettings. Fix: set ingress_settings "
            '(e.g. "ALLOW_INTERNAL_ONLY", or "ALLOW_ALL" for a function Firebase Hosting serves) so who can '
            "reach it is a decision, not a default.",
            None,
        )
    count = read(args.props, "serviceConfig", "maxInstanceCount")
    if count is None:
        report_violation(
            f"Function {args.name} does not set serviceConfig.maxInstanceCount, so a burst of traffic "
            f"scales it without bound. Fix: set max_instance_count (at most {number(limit)}).",
            None,
        )
    elif count > limit:
        report_violation(
            f"Function {args.name} sets serviceConfig.maxInstanceCount {number(count)}, above "
            f"max_instances_limit {number(limit)}. Fix: set max_instance_count to at most {number(limit)}.",
            None,
        )


function_ingress_and_scaling = ResourceValidationPolicy(
    name="function-ingress-and-scaling",
    description="Functions set their ingress and a bounded maximum instance count.",
    validate=validate,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=SCHEMA,
)
