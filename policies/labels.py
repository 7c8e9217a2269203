"""Labelled resources carry the labels that say what they belong to (cost and ownership)."""

from collections.abc import Mapping

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .resource_types import BUCKET, FUNCTION, WORKFLOW
from .settings import schema, settings
from .values import read

LABELLED = {WORKFLOW, FUNCTION, BUCKET}
SCHEMA = schema(
    labels={
        "type": "array",
        "items": {"type": "string"},
        "default": ["app", "managed-by"],
        "description": "Label keys every workflow, function and bucket carries.",
    }
)


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in LABELLED:
        return
    labels = read(args.props, "labels")
    present = set(labels) if isinstance(labels, Mapping) else set()
    missing = [key for key in settings(args, SCHEMA)["labels"] if key not in present]
    if missing:
        report_violation(
            f"{args.resource_type.rsplit(':', 1)[-1]} {args.name} is missing labels {', '.join(missing)}. "
            f"Fix: add them to its labels (the components take them from ApprovalPlatformArgs labels and add "
            "app and managed-by themselves).",
            None,
        )


required_labels = ResourceValidationPolicy(
    name="required-labels",
    description="Workflows, functions and buckets carry the required labels.",
    validate=validate,
    enforcement_level=EnforcementLevel.ADVISORY,
    config_schema=SCHEMA,
)
