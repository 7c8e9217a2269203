"""Buckets are never reachable through object ACLs or public grants."""

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .resource_types import BUCKET
from .values import read, shown

# property -> (required value, the Python argument that sets it)
REQUIRED = {
    "uniformBucketLevelAccess": (True, "uniform_bucket_level_access=True"),
    "publicAccessPrevention": ("enforced", 'public_access_prevention="enforced"'),
}


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != BUCKET:
        return
    for prop, (required, argument) in REQUIRED.items():
        value = read(args.props, prop)
        if value != required:
            report_violation(
                f"Bucket {args.name} has {prop} {shown(value)}, so objects can be "
                f"shared past the bucket's IAM. Fix: set {argument}.",
                None,
            )


bucket_access_hardened = ResourceValidationPolicy(
    name="bucket-access-hardened",
    description="Buckets use uniform bucket-level access and enforce public access prevention.",
    validate=validate,
    enforcement_level=EnforcementLevel.MANDATORY,
)
