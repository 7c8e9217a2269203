"""The API service and who may call it."""

import pulumi
import pulumi_gcp as gcp
from database import Database


def create_service(
    region: str, image: str, db: Database, frontend: str
) -> tuple[gcp.cloudrunv2.Service, gcp.serviceaccount.Account]:
    account = gcp.serviceaccount.Account(
        "orders-api", account_id="orders-api", display_name="Orders API (Cloud Run)"
    )
    gcp.secretmanager.SecretIamMember(
        "orders-api-reads-dsn",
        secret_id=db.dsn_secret.id,
        role="roles/secretmanager.secretAccessor",
        member=account.member,
    )
    # Cloud SQL connections need cloudsql.client; granted on the project.
    gcp.projects.IAMMember(
        "orders-api-sql-client",
        project=gcp.config.project,
        role="roles/cloudsql.client",
        member=account.member,
    )
    service = gcp.cloudrunv2.Service(
        "orders-api",
        name="orders-api",
        location=region,
        ingress="INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
        deletion_protection=False,
        template=gcp.cloudrunv2.ServiceTemplateArgs(
            service_account=account.email,
            scaling=gcp.cloudrunv2.ServiceTemplateScalingArgs(min_instance_count=0, max_instance_count=20),
            volumes=[
                gcp.cloudrunv2.ServiceTemplateVolumeArgs(
                    name="cloudsql",
                    cloud_sql_instance=gcp.cloudrunv2.ServiceTemplateVolumeCloudSqlInstanceArgs(
                        instances=[db.instance.connection_name]
                    ),
                )
            ],
            containers=[
                gcp.cloudrunv2.ServiceTemplateContainerArgs(
                    image=image,
                    ports=gcp.cloudrunv2.ServiceTemplateContainerPortsArgs(container_port=8080),
                    envs=[
                        gcp.cloudrunv2.ServiceTemplateContainerEnvArgs(
                            name="DATABASE_URL",
                            value_source=gcp.cloudrunv2.ServiceTemplateContainerEnvValueSourceArgs(
                                secret_key_ref=gcp.cloudrunv2.ServiceTemplateContainerEnvValueSourceSecretKeyRefArgs(
                                    secret=db.dsn_secret.secret_id, version="latest"
                                )
                            ),
                        )
                    ],
                    volume_mounts=[
                        gcp.cloudrunv2.ServiceTemplateContainerVolumeMountArgs(
                            name="cloudsql", mount_path="/cloudsql"
                        )
                    ],
                )
            ],
        ),
        labels={"app": "orders-api", "managed-by": "pulumi"},
        opts=pulumi.ResourceOptions(depends_on=[db.user]),
    )
    gcp.cloudrunv2.ServiceIamMember(
        "orders-api-frontend",
        name=service.name,
        location=region,
        role="roles/run.invoker",
        member=frontend,
    )
    return service, account
