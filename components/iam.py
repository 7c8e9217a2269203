"""Service accounts and the role grants between them."""

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp


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
) -> gcp.serviceaccount.Account:
    """A dedicated service account, so each piece holds only its own roles."""
    return gcp.serviceaccount.Account(
        name,
        account_id=account_id,
        display_name=display_name,
        description=description,
        project=project,
        opts=pulumi.ResourceOptions(parent=parent),
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
    depends_on: list[pulumi.Resource] | None = None,
) -> list[gcp.projects.IAMMember]:
    """One non-authoritative IAMMember per grant: never clobbers bindings made elsewhere."""
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
                opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on or []),
            )
        )
    return members
