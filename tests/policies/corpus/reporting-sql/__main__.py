import pulumi
import pulumi_gcp as gcp
from database import domain_database, postgres_instance

config = pulumi.Config()
region = pulumi.Config("gcp").require("region")

instance = postgres_instance("reporting-pg", region)

# Looker connects as this account; BI analysts may impersonate it to debug queries.
looker = gcp.serviceaccount.Account("looker", account_id="looker-reporting", display_name="Looker")
gcp.serviceaccount.IAMMember(
    "analysts-impersonate-looker",
    service_account_id=looker.name,
    role="roles/iam.serviceAccountTokenCreator",
    member=config.require("readers"),
)

jdbc_urls = {}
for domain in config.require_object("databases"):
    database, user, password = domain_database(instance, domain)
    secret = gcp.secretmanager.Secret(
        f"{domain}-db-password",
        secret_id=f"reporting-{domain}-password",
        replication=gcp.secretmanager.SecretReplicationArgs(
            user_managed=gcp.secretmanager.SecretReplicationUserManagedArgs(
                replicas=[
                    gcp.secretmanager.SecretReplicationUserManagedReplicaArgs(location="europe-west1"),
                    gcp.secretmanager.SecretReplicationUserManagedReplicaArgs(location="europe-west4"),
                ]
            )
        ),
    )
    gcp.secretmanager.SecretVersion(f"{domain}-db-password", secret=secret.id, secret_data=password.result)
    gcp.secretmanager.SecretIamMember(
        f"{domain}-looker-reads",
        secret_id=secret.id,
        role="roles/secretmanager.secretAccessor",
        member=looker.member,
    )
    jdbc_urls[domain] = pulumi.Output.all(instance.connection_name, database.name, user.name).apply(
        lambda args: f"jdbc:postgresql:///{args[1]}?cloudSqlInstance={args[0]}&user={args[2]}"
    )

pulumi.export("jdbc_urls", jdbc_urls)
