"""In production, data is not lost by accident: protected databases and workflows."""

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .resource_types import FIRESTORE_DATABASE, WORKFLOW
from .settings import schema, settings
from .stacks import PROD_STACKS, in_prod, stack_name
from .values import read, shown

SCHEMA = schema(prod_stacks=PROD_STACKS)
# type -> [(property, required value, the Python argument, the components' stack setting)]
REQUIRED = {
    FIRESTORE_DATABASE: [
        (
            "deleteProtectionState",
            "DELETE_PROTECTION_ENABLED",
            'delete_protection_state="DELETE_PROTECTION_ENABLED"',
            "approvals:deletionProtection: true",
        ),
        (
            "pointInTimeRecoveryEnablement",
            "POINT_IN_TIME_RECOVERY_ENABLED",
            'point_in_time_recovery_enablement="POINT_IN_TIME_RECOVERY_ENABLED"',
            "approvals:pointInTimeRecovery: true",
        ),
    ],
    WORKFLOW: [
        ("deletionProtection", True, "deletion_protection=True", "approvals:deletionProtection: true"),
    ],
}


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in REQUIRED or not in_prod(args.urn, settings(args, SCHEMA)["prod_stacks"]):
        return
    kind = "Firestore database" if args.resource_type == FIRESTORE_DATABASE else "Workflow"
    for prop, required, argument, stack_setting in REQUIRED[args.resource_type]:
        value = read(args.props, prop)
        if value != required:
            report_violation(
                f"{kind} {args.name} has {prop} {shown(value)} in production "
                f"stack '{stack_name(args.urn)}'. Fix: set {argument} (with the components: "
                f"{stack_setting} in the stack's config).",
                None,
            )


prod_data_protection = ResourceValidationPolicy(
    name="prod-data-protection",
    description="In production, Firestore has delete protection and point-in-time recovery, and "
    "workflows have deletion protection.",
    validate=validate,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=SCHEMA,
)
