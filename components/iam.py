"""Service accounts and the role grants between them."""

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumiverse_time

from .apis import IAM, RESOURCE_MANAGER, GoogleApis


@dataclass(frozen=True)
class Grant:
    """A project role for a member, optionally narrowed by an IAM condition."""

    role: pulumi.Input[str]
    condition: pulumi.Input[str] | None = None
    condition_title: str | None = None
    key: str | None = None
    """Names the IAMMember resource; needed when `role` is not a plain string."""

    def resource_suffix(self) -> str:
        if self.key:
            return self.key
        if not isinstance(self.role, str):
            raise TypeError("a Grant whose role is an Output needs a key")
        return self.role.rsplit("/", 1)[-1].replace(".", "-")


def service_account(
    name: str,
    *,
    account_id: str,
    display_name: str,
    description: str,
    project: str,
    parent: pulumi.Resource,
    apis: GoogleApis,
) -> gcp.serviceaccount.Account:
    """A dedicated service account, so each piece holds only its own roles."""
    return gcp.serviceaccount.Account(
        name,
        account_id=account_id,
        display_name=display_name,
        description=description,
        project=project,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=apis.require(IAM)),
    )


def member_of(account: gcp.serviceaccount.Account) -> pulumi.Output[str]:
    """The IAM member string of a service account."""
    return account.email.apply(lambda email: f"serviceAccount:{email}")


def grant_project_roles(
    name: str,
    *,
    project: str,
    member: pulumi.Input[str],
    grants: list[Grant],
    parent: pulumi.Resource,
    apis: GoogleApis,
) -> list[gcp.projects.IAMMember]:
    """One non-authoritative IAMMember per grant: never clobbers bindings made elsewhere.

    Each waits for the Resource Manager API, through which it edits the project's policy.
    """
    members = []
    for grant in grants:
        condition = None
        if grant.condition is not None:
            condition = gcp.projects.IAMMemberConditionArgs(
                title=grant.condition_title or grant.resource_suffix(),
                expression=grant.condition,
            )
        members.append(
            gcp.projects.IAMMember(
                f"{name}-{grant.resource_suffix()}",
                project=project,
                role=grant.role,
                member=member,
                condition=condition,
                opts=pulumi.ResourceOptions(parent=parent, depends_on=apis.require(RESOURCE_MANAGER)),
            )
        )
    return members


IAM_PROPAGATION = "120s"
"""Google: a grant typically reaches every service within 2 minutes (sometimes 7 or more)."""


def propagated(
    name: str, grants: list[gcp.projects.IAMMember], parent: pulumi.Resource
) -> pulumiverse_time.Sleep:
    """A pause after `grants`, for what must not start before Google honours them.

    A function build that starts the moment its build account's roles exist is
    refused on permission while IAM catches up. The pause runs again whenever a
    grant is replaced, and costs nothing on updates that leave the grants alone.
    """
    return pulumiverse_time.Sleep(
        name,
        create_duration=IAM_PROPAGATION,
        triggers={str(index): grant.id for index, grant in enumerate(grants)},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=grants),
    )
