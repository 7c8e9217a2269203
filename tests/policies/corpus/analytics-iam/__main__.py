import pulumi
import pulumi_gcp as gcp
import roles

config = pulumi.Config()
warehouse_project = pulumi.Config("gcp").require("project")
sandbox_project = config.require("sandboxProject")
sandbox = gcp.Provider("sandbox", project=sandbox_project)


def slug(role: str) -> str:
    return role.removeprefix("roles/").replace(".", "-").lower()


def bind_all(prefix: str, project: str, bindings: dict[str, list[str]], provider: gcp.Provider | None = None):
    return [
        gcp.projects.IAMBinding(
            f"{prefix}-{slug(role)}",
            project=project,
            role=role,
            members=sorted(members),
            opts=pulumi.ResourceOptions(provider=provider),
        )
        for role, members in bindings.items()
    ]


bind_all("warehouse", warehouse_project, roles.WAREHOUSE)
bind_all("sandbox", sandbox_project, roles.SANDBOX, sandbox)

# Scheduled queries run as this account; engineers may act as it.
scheduler = gcp.serviceaccount.Account(
    "scheduled-queries", account_id="scheduled-queries", display_name="BigQuery scheduled queries"
)
for member in roles.IMPERSONATORS:
    gcp.serviceaccount.IAMMember(
        f"impersonate-{member.split(':', 1)[1].split('@')[0]}",
        service_account_id=scheduler.name,
        role="roles/iam.serviceAccountTokenCreator",
        member=member,
    )

pulumi.export("scheduled_queries_account", scheduler.email)
