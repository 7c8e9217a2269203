import pulumi
import pulumi_gcp as gcp
import pulumi_random as random


class SharedPostgres(pulumi.ComponentResource):
    """One Postgres instance that several services each get a database and a user on."""

    def __init__(
        self, name: str, region: str, tier: str = "db-g1-small", opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("acme:kit:SharedPostgres", name, None, opts)
        self.instance = gcp.sql.DatabaseInstance(
            name,
            database_version="POSTGRES_15",
            region=region,
            deletion_protection=False,
            settings=gcp.sql.DatabaseInstanceSettingsArgs(
                tier=tier,
                insights_config=gcp.sql.DatabaseInstanceSettingsInsightsConfigArgs(
                    query_insights_enabled=True
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        self.register_outputs({"connection_name": self.instance.connection_name})

    def database_for(self, service: str) -> tuple[gcp.sql.Database, gcp.sql.User, random.RandomPassword]:
        opts = pulumi.ResourceOptions(parent=self)
        database = gcp.sql.Database(
            f"{service}-db", instance=self.instance.name, name=service.replace("-", "_"), opts=opts
        )
        password = random.RandomPassword(
            f"{service}-db-password", length=32, special=True, override_special="_-", opts=opts
        )
        user = gcp.sql.User(
            f"{service}-db-user",
            instance=self.instance.name,
            name=service.replace("-", "_"),
            password=password.result,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[database]),
        )
        return database, user, password
