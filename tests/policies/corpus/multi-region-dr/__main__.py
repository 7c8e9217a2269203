import pulumi
import pulumi_gcp as gcp
from network import site_network, sites

config = pulumi.Config()
labels = {"app": "payments", "managed-by": "pulumi", "tier": "critical"}

primary, secondary = sites(config.require_object("regions"))
networks = {site.key: site_network(site) for site in (primary, secondary)}


def postgres_settings(tier: str) -> gcp.sql.DatabaseInstanceSettingsArgs:
    return gcp.sql.DatabaseInstanceSettingsArgs(
        tier=tier,
        availability_type="REGIONAL",
        deletion_protection_enabled=True,
        backup_configuration=gcp.sql.DatabaseInstanceSettingsBackupConfigurationArgs(
            enabled=True,
            point_in_time_recovery_enabled=True,
            start_time="02:00",
            backup_retention_settings=gcp.sql.DatabaseInstanceSettingsBackupConfigurationBackupRetentionSettingsArgs(
                retained_backups=30
            ),
        ),
        ip_configuration=gcp.sql.DatabaseInstanceSettingsIpConfigurationArgs(
            ipv4_enabled=False,
            private_network=networks["primary"][0].id,
            ssl_mode="TRUSTED_CLIENT_CERTIFICATE_REQUIRED",
        ),
        maintenance_window=gcp.sql.DatabaseInstanceSettingsMaintenanceWindowArgs(day=7, hour=3),
        user_labels=labels,
    )


ledger = gcp.sql.DatabaseInstance(
    "ledger",
    name="payments-ledger",
    database_version="POSTGRES_16",
    region=primary.region,
    deletion_protection=True,
    settings=postgres_settings(config.require("dbTier")),
    opts=pulumi.ResourceOptions(provider=primary.provider, protect=True),
)
# Cross-region replicas stay in the primary's project.
replica = gcp.sql.DatabaseInstance(
    "ledger-dr-replica",
    name="payments-ledger-dr",
    database_version="POSTGRES_16",
    region=secondary.region,
    master_instance_name=ledger.name,
    deletion_protection=True,
    settings=gcp.sql.DatabaseInstanceSettingsArgs(tier=config.require("dbTier"), availability_type="ZONAL"),
    opts=pulumi.ResourceOptions(provider=primary.provider, protect=True),
)

for site in (primary, secondary):
    opts = pulumi.ResourceOptions(provider=site.provider)
    for purpose in ("statements", "settlement-files", "audit-exports"):
        gcp.storage.Bucket(
            f"{site.key}-{purpose}",
            name=f"{site.project}-{purpose}",
            location=site.region.upper(),
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning=gcp.storage.BucketVersioningArgs(enabled=True),
            labels={**labels, "site": site.key},
            opts=pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(protect=purpose == "audit-exports")
            ),
        )
    gcp.pubsub.Topic(
        f"{site.key}-settlements",
        name="settlements",
        message_storage_policy=gcp.pubsub.TopicMessageStoragePolicyArgs(
            allowed_persistence_regions=[site.region]
        ),
        labels=labels,
        opts=opts,
    )

gcp.projects.IAMBinding(
    "dr-operators",
    project=secondary.project,
    role="roles/cloudsql.admin",
    members=["group:payments-sre@acme.example"],
    opts=pulumi.ResourceOptions(provider=secondary.provider),
)

pulumi.export("ledger", ledger.connection_name)
pulumi.export("replica", replica.connection_name)
