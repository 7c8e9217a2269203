"""The reporting Postgres: backups, point-in-time recovery, one database and one user per domain."""

import pulumi
import pulumi_gcp as gcp
import pulumi_random as random


def postgres_instance(name: str, region: str) -> gcp.sql.DatabaseInstance:
    return gcp.sql.DatabaseInstance(
        name,
        name=name,
        database_version="POSTGRES_16",
        region=region,
        deletion_protection=True,
        settings=gcp.sql.DatabaseInstanceSettingsArgs(
            tier="db-custom-2-7680",
            edition="ENTERPRISE",
            availability_type="REGIONAL",
            disk_autoresize=True,
            backup_configuration=gcp.sql.DatabaseInstanceSettingsBackupConfigurationArgs(
                enabled=True, point_in_time_recovery_enabled=True, transaction_log_retention_days=7
            ),
            database_flags=[
                gcp.sql.DatabaseInstanceSettingsDatabaseFlagArgs(
                    name="log_min_duration_statement", value="1000"
                ),
                gcp.sql.DatabaseInstanceSettingsDatabaseFlagArgs(
                    name="cloudsql.iam_authentication", value="on"
                ),
            ],
        ),
        opts=pulumi.ResourceOptions(protect=True),
    )


def domain_database(
    instance: gcp.sql.DatabaseInstance, domain: str
) -> tuple[gcp.sql.Database, gcp.sql.User, random.RandomPassword]:
    database = gcp.sql.Database(f"{domain}-db", instance=instance.name, name=domain)
    password = random.RandomPassword(f"{domain}-password", length=32, special=False)
    user = gcp.sql.User(
        f"{domain}-user", instance=instance.name, name=f"{domain}_reader", password=password.result
    )
    return database, user, password
