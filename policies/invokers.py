"""No public invoker on a service, unless hosting must reach it or it is allow-listed."""

from collections.abc import Sequence
from fnmatch import fnmatchcase

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from .iam import grants, is_iam
from .pulumi_internals import UnknownValueError
from .resource_types import HOSTING_VERSION
from .settings import schema, settings
from .values import UNKNOWN, Unchecked, read, read_known

PUBLIC_MEMBERS = {"allUsers", "allAuthenticatedUsers"}
# Where each service's IAM resources name the service they guard.
SERVICE_PROPERTY = {
    "gcp:cloudrunv2/service": "name",
    "gcp:cloudrun/iam": "service",
    "gcp:cloudfunctionsv2/function": "cloudFunction",
    "gcp:cloudfunctions/function": "cloudFunction",
}

SCHEMA = schema(
    allowed_services={
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "Services (fnmatch patterns) that may be invoked by allUsers/allAuthenticatedUsers.",
    },
    allow_hosting_targets={
        "type": "boolean",
        "default": True,
        "description": "Allow services a Firebase Hosting rewrite in the stack points at "
        "(hosting must reach them; each authenticates every call itself).",
    },
)


def guarded_service(resource: PolicyResource) -> str | None:
    """The Cloud Run service or function an IAM resource guards (None: a project, bucket, ...).

    A name unknown until deploy raises UnknownValueError: it may be an allowed one or not.
    """
    for prefix, key in SERVICE_PROPERTY.items():
        if resource.resource_type.startswith(prefix):
            value = read(resource.props, key)
            return value.rsplit("/", 1)[-1] if isinstance(value, str) else None
    return None


def hosting_targets(resources: list[PolicyResource], unchecked: Unchecked) -> set[str]:
    """Services that Firebase Hosting rewrites in the stack send traffic to; a target unknown
    until deploy is noted in `unchecked`."""
    targets = set()
    for resource in resources:
        if resource.resource_type != HOSTING_VERSION:
            continue
        rewrites = read_known(resource.props, "config", "rewrites")
        count = len(rewrites) if isinstance(rewrites, Sequence) and not isinstance(rewrites, str) else 0
        for index in range(count):
            for path in (("run", "serviceId"), ("function",)):
                target = read_known(resource.props, "config", "rewrites", index, *path)
                if isinstance(target, str):
                    targets.add(target)
                elif target is UNKNOWN:
                    unchecked.note_value(resource.name, "config", "rewrites", str(index), *path)
    return targets


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    config = settings(args, SCHEMA)
    allowed = list(config["allowed_services"])
    # Only a public grant that nothing may allow is reported while a hosting target is unknown.
    targets_unchecked = Unchecked()
    if config["allow_hosting_targets"]:
        allowed += sorted(hosting_targets(args.resources, targets_unchecked))
    unchecked = Unchecked()
    for resource in args.resources:
        if not is_iam(resource.resource_type):
            continue
        try:
            public = [grant for grant in grants(resource.props) if grant.member in PUBLIC_MEMBERS]
            service = guarded_service(resource) if public else None
        except UnknownValueError as error:
            unchecked.note(resource.name, error)
            continue
        if not public or (service and any(fnmatchcase(service, pattern) for pattern in allowed)):
            continue
        if service and targets_unchecked:
            targets_unchecked.pass_to(unchecked)
            continue
        where = (
            f"service '{service}', which is neither in allowed_services nor a Firebase Hosting rewrite "
            "target in this stack"
            if service
            else "a resource that is not a service"
        )
        for grant in public:
            report_violation(
                f"{resource.name} grants {grant.role} to {grant.member} on {where}. Fix: grant the role to "
                "the principals that call it; if the service must be public and authenticates every call "
                "itself, route Firebase Hosting to it or add it to the no-public-invokers policy's "
                "allowed_services.",
                resource.urn,
            )
    unchecked.raise_if_any()


no_public_invokers = StackValidationPolicy(
    name="no-public-invokers",
    description="No allUsers/allAuthenticatedUsers grant, except on services Firebase Hosting must reach "
    "or that are allow-listed.",
    validate=validate,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=SCHEMA,
)
