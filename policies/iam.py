"""Which roles IAM resources grant: no primitive roles anywhere, and project-level
roles for service accounts only from each account's allow-list."""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .settings import schema, settings
from .values import read, strings

IAM_KINDS = ("iammember", "iambinding", "iampolicy")
PROJECT_GRANTS = {"gcp:projects/iAMMember:IAMMember", "gcp:projects/iAMBinding:IAMBinding"}


@dataclass(frozen=True)
class Grant:
    role: str
    member: str


def is_iam(resource_type: str) -> bool:
    """IAM members, bindings and policies of every service (projects, buckets, run services, ...)."""
    return resource_type.rsplit(":", 1)[-1].lower().endswith(IAM_KINDS)


def grants(props: Mapping[str, Any]) -> list[Grant]:
    """(role, member) pairs of an IAM member (`member`), binding (`members`) or policy (`policyData`)."""
    role = read(props, "role")
    members = [m for m in [read(props, "member")] if isinstance(m, str)] + strings(read(props, "members"))
    found = [Grant(role, member) for member in members] if isinstance(role, str) else []
    policy_data = read(props, "policyData")
    if isinstance(policy_data, str):
        try:
            bindings = json.loads(policy_data).get("bindings") or []
        except (ValueError, AttributeError):
            bindings = []
        found += [
            Grant(binding["role"], member)
            for binding in bindings
            if isinstance(binding, dict) and isinstance(binding.get("role"), str)
            for member in binding.get("members") or []
        ]
    return found


PRIMITIVE_SCHEMA = schema(
    forbidden_roles={
        "type": "array",
        "items": {"type": "string"},
        "default": ["roles/owner", "roles/editor", "roles/viewer"],
        "description": "Roles no IAM resource may grant.",
    }
)


def validate_primitive_roles(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not is_iam(args.resource_type):
        return
    forbidden = set(settings(args, PRIMITIVE_SCHEMA)["forbidden_roles"])
    for grant in grants(args.props):
        if grant.role in forbidden:
            report_violation(
                f"{args.name} grants the primitive role {grant.role} to {grant.member}. "
                f"Fix: grant a predefined or custom role with only the permissions {grant.member} needs; "
                "a primitive role reaches almost every service in the project.",
                None,
            )


no_primitive_roles = ResourceValidationPolicy(
    name="no-primitive-roles",
    description="No IAM grant of roles/owner, roles/editor or roles/viewer.",
    validate=validate_primitive_roles,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PRIMITIVE_SCHEMA,
)


ALLOW_LIST_SCHEMA = schema(
    allowed_roles={
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
        # The platform's accounts and what each needs; the first matching pattern wins.
        "default": {
            "*-start": ["projects/*/roles/approvals_*_executionStarter", "roles/datastore.user"],
            "*-decide": ["projects/*/roles/approvals_*_callbackSender", "roles/datastore.user"],
            "*-build": [
                "roles/logging.logWriter",
                "roles/artifactregistry.writer",
                "roles/storage.objectViewer",
            ],
            # Workflows publish events on their platform's topic only (a topic-level
            # grant), so no Pub/Sub role belongs on the project.
            "wf-*": ["roles/datastore.user", "roles/logging.logWriter", "roles/cloudtranslate.user"],
            "*-cancel": ["projects/*/roles/approvals_*_executionCanceller", "roles/datastore.user"],
            # delegate starts a delegation's timer workflow and cancels a replaced one's.
            "*-delegate": [
                "projects/*/roles/approvals_*_executionStarter",
                "projects/*/roles/approvals_*_executionCanceller",
                "roles/datastore.user",
            ],
            "*-timer": ["roles/logging.logWriter"],
            # A vote cast through a signed link may decide, and then sends the callback.
            "*-link": ["projects/*/roles/approvals_*_callbackSender", "roles/datastore.user"],
            # notify stamps requests with their delegates; it reads the link key on
            # its secret only, never on the project.
            "*-notify": ["roles/datastore.user"],
            # status reads requests and whether their executions ended; it writes nothing.
            "*-status": ["projects/*/roles/approvals_*_executionViewer", "roles/datastore.viewer"],
            "*-pusher": [],
            "*-web": [],
            "*": [],
        },
        "description": "Account id pattern (before the @) -> the project roles (patterns) it may hold.",
    }
)


def allowed_for(account_id: str, allowed_roles: Mapping[str, Any]) -> tuple[str | None, list[str]]:
    """The first pattern matching the account, and the roles it allows (none when nothing matches)."""
    for pattern, roles in allowed_roles.items():
        if fnmatchcase(account_id, pattern):
            return pattern, list(roles)
    return None, []


def validate_project_roles(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in PROJECT_GRANTS:
        return
    allowed_roles = settings(args, ALLOW_LIST_SCHEMA)["allowed_roles"]
    for grant in grants(args.props):
        if not grant.member.startswith("serviceAccount:"):
            continue
        account_id = grant.member.removeprefix("serviceAccount:").split("@", 1)[0]
        pattern, roles = allowed_for(account_id, allowed_roles)
        if any(fnmatchcase(grant.role, role) for role in roles):
            continue
        listed = (
            f"pattern '{pattern}' allows {', '.join(roles) or 'no project role'}" if pattern else "no pattern"
        )
        report_violation(
            f"{args.name} grants {grant.role} on the project to {grant.member}, which is not on the "
            f"allow-list of service account '{account_id}' ({listed}). Fix: grant the role on the one "
            "resource the account uses instead of the whole project, or add it to the "
            f"project-roles-allow-list policy's allowed_roles for '{pattern or account_id}'.",
            None,
        )


project_roles_allow_list = ResourceValidationPolicy(
    name="project-roles-allow-list",
    description="Service accounts hold only the project-level roles their allow-list names.",
    validate=validate_project_roles,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=ALLOW_LIST_SCHEMA,
)
