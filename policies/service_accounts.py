"""Each workflow runs as its own service account, created in the same stack."""

from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from .resource_types import FUNCTION, SERVICE_ACCOUNT, WORKFLOW
from .values import UNKNOWN, read_known

# Where the runtimes that can share an account name it: (top-level property, path to the value).
RUNS_AS = {
    WORKFLOW: ("serviceAccount", ("serviceAccount",)),
    FUNCTION: ("serviceConfig", ("serviceConfig", "serviceAccountEmail")),
    "gcp:cloudfunctions/function:Function": ("serviceAccountEmail", ("serviceAccountEmail",)),
    "gcp:cloudrunv2/service:Service": ("template", ("template", "serviceAccount")),
}


def email_of(reference: str) -> str:
    """`projects/p/serviceAccounts/EMAIL`, `projects/-/serviceAccounts/EMAIL` or `EMAIL` -> EMAIL."""
    return reference.rsplit("/", 1)[-1]


def is_account(account: PolicyResource, email: str) -> bool:
    """Whether `account` has this email; by its account id while the email is unknown (preview)."""
    known = {email_of(v) for k in ("email", "name") if isinstance(v := read_known(account.props, k), str)}
    if known:
        return email in known
    return email.split("@", 1)[0] == read_known(account.props, "accountId")


def kind(resource: PolicyResource) -> str:
    """`gcp:cloudrunv2/service:Service` -> service, ... workflow, function."""
    return resource.resource_type.split("/", 1)[1].split(":", 1)[0]


def account_of(
    resource: PolicyResource, reference: Any, accounts: list[PolicyResource]
) -> PolicyResource | None:
    """The stack's account `resource` runs as; an unknown reference is matched by dependency."""
    if isinstance(reference, str):
        return next((a for a in accounts if is_account(a, email_of(reference))), None)
    if reference is UNKNOWN:
        prop = RUNS_AS[resource.resource_type][0]
        for candidates in (resource.property_dependencies.get(prop, []), resource.dependencies):
            found = [d for d in candidates if d.resource_type == SERVICE_ACCOUNT]
            if len(found) == 1:
                return found[0]
    return None


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    accounts = [r for r in args.resources if r.resource_type == SERVICE_ACCOUNT]
    runs_as: dict[str, PolicyResource] = {}  # urn of a workflow or function -> its account
    for resource in args.resources:
        if resource.resource_type not in RUNS_AS:
            continue
        reference = read_known(resource.props, *RUNS_AS[resource.resource_type][1])
        account = account_of(resource, reference, accounts)
        if account is not None:
            runs_as[resource.urn] = account
            continue
        if resource.resource_type != WORKFLOW:
            continue
        if reference in (None, ""):
            report_violation(
                f"Workflow {resource.name} sets no serviceAccount, so it runs as the project's Compute "
                "Engine default service account (Editor on the project). Fix: create a "
                "gcp.serviceaccount.Account for this workflow in the stack and set service_account to it "
                "(ApprovalWorkflow does).",
                resource.urn,
            )
        else:
            # Pulumi tracks dependencies through applies: an unknown account that depends on
            # none of the stack's accounts is not one of them (another stack's, typically).
            runs_as_text = (
                "an account known only at deploy, which depends on no service account of this stack"
                if reference is UNKNOWN
                else reference
            )
            report_violation(
                f"Workflow {resource.name} runs as {runs_as_text}, which is not a service account created in "
                "this stack. Fix: create a gcp.serviceaccount.Account for this workflow in the stack and set "
                "service_account to it, so its roles are declared and reviewed here.",
                resource.urn,
            )
    by_urn = {r.urn: r for r in args.resources}
    for urn, account in runs_as.items():
        workflow = by_urn[urn]
        if workflow.resource_type != WORKFLOW:
            continue
        others = [
            f"{kind(by_urn[other])} {by_urn[other].name}"
            for other, shared in runs_as.items()
            if other != urn and shared.urn == account.urn
        ]
        if others:
            email = read_known(account.props, "email")
            label = email if isinstance(email, str) else account.name
            report_violation(
                f"Workflow {workflow.name} shares service account {label} with {', '.join(others)}. "
                "Fix: give each workflow its own gcp.serviceaccount.Account, so one's roles do not reach the "
                "other.",
                urn,
            )


workflow_dedicated_service_account = StackValidationPolicy(
    name="workflow-dedicated-service-account",
    description="Every workflow runs as a service account of its own, created in this stack.",
    validate=validate,
    enforcement_level=EnforcementLevel.MANDATORY,
)
