"""The orders database: one Postgres instance, one database, one application user."""

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp


@dataclass
class Database:
    instance: gcp.sql.DatabaseInstance
    database: gcp.sql.Database
    user: gcp.sql.User
    dsn_secret: gcp.secretmanager.Secret


def create_database(region: str, password: pulumi.Output[str]) -> Database:
    instance = gcp.sql.DatabaseInstance(
        "orders",
        database_version="POSTGRES_15",
        region=region,
        deletion_protection=False,
        settings=gcp.sql.DatabaseInstanceSettingsArgs(
            tier="db-custom-1-3840",
            availability_type="ZONAL",
            backup_configuration=gcp.sql.DatabaseInstanceSettingsBackupConfigurationArgs(
                enabled=True, point_in_time_recovery_enabled=True
            ),
            ip_configuration=gcp.sql.DatabaseInstanceSettingsIpConfigurationArgs(
                ipv4_enabled=True, ssl_mode="ENCRYPTED_ONLY"
            ),
            user_labels={"app": "orders-api"},
        ),
    )
    database = gcp.sql.Database("orders", instance=instance.name, name="orders")
    user = gcp.sql.User("orders-app", instance=instance.name, name="orders_app", password=password)
    dsn = pulumi.Output.all(instance.connection_name, user.name, password, database.name).apply(
        lambda parts: f"postgresql://{parts[1]}:{parts[2]}@/{parts[3]}?host=/cloudsql/{parts[0]}"
    )
    secret = gcp.secretmanager.Secret(
        "orders-dsn",
        secret_id="orders-dsn",
        replication=gcp.secretmanager.SecretReplicationArgs(
            user_managed=gcp.secretmanager.SecretReplicationUserManagedArgs(
                replicas=[gcp.secretmanager.SecretReplicationUserManagedReplicaArgs(location=region)]
            )
        ),
        labels={"app": "orders-api"},
    )
    gcp.secretmanager.SecretVersion("orders-dsn-v1", secret=secret.id, secret_data=dsn)
    return Database(instance, database, user, secret)
