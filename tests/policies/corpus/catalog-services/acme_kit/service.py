from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from .database import SharedPostgres


@dataclass
class WebServiceArgs:
    image: str
    region: str
    invokers: list[str] = field(default_factory=list)
    database: SharedPostgres | None = None
    max_instances: int = 5
    labels: dict[str, str] = field(default_factory=dict)


class WebService(pulumi.ComponentResource):
    """A Cloud Run service with its own account, its own database password secret, and named invokers."""

    url: pulumi.Output[str]

    def __init__(self, name: str, args: WebServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("acme:kit:WebService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = {"managed-by": "pulumi", "acme-kit": "v5", **args.labels}
        self.account = gcp.serviceaccount.Account(name, account_id=f"{name}-run"[:30], opts=child)
        envs: list[gcp.cloudrunv2.ServiceTemplateContainerEnvArgs] = []
        volumes: list[gcp.cloudrunv2.ServiceTemplateVolumeArgs] = []
        waits: list[pulumi.Resource] = []
        if args.database is not None:
            _, user, password = args.database.database_for(name)
            secret = gcp.secretmanager.Secret(
                f"{name}-db-password",
                secret_id=f"{name}-db-password",
                replication=gcp.secretmanager.SecretReplicationArgs(
                    auto=gcp.secretmanager.SecretReplicationAutoArgs()
                ),
                opts=child,
            )
            gcp.secretmanager.SecretVersion(
                f"{name}-db-password", secret=secret.id, secret_data=password.result, opts=child
            )
            waits.append(
                gcp.secretmanager.SecretIamMember(
                    f"{name}-reads-db-password",
                    secret_id=secret.id,
                    role="roles/secretmanager.secretAccessor",
                    member=self.account.member,
                    opts=child,
                )
            )
            envs += [
                gcp.cloudrunv2.ServiceTemplateContainerEnvArgs(name="DB_USER", value=user.name),
                gcp.cloudrunv2.ServiceTemplateContainerEnvArgs(
                    name="DB_PASSWORD",
                    value_source=gcp.cloudrunv2.ServiceTemplateContainerEnvValueSourceArgs(
                        secret_key_ref=gcp.cloudrunv2.ServiceTemplateContainerEnvValueSourceSecretKeyRefArgs(
                            secret=secret.secret_id, version="latest"
                        )
                    ),
                ),
            ]
            volumes.append(
                gcp.cloudrunv2.ServiceTemplateVolumeArgs(
                    name="cloudsql",
                    cloud_sql_instance=gcp.cloudrunv2.ServiceTemplateVolumeCloudSqlInstanceArgs(
                        instances=[args.database.instance.connection_name]
                    ),
                )
            )
        self.service = gcp.cloudrunv2.Service(
            name,
            location=args.region,
            ingress="INGRESS_TRAFFIC_INTERNAL_ONLY",
            deletion_protection=False,
            labels=labels,
            template=gcp.cloudrunv2.ServiceTemplateArgs(
                service_account=self.account.email,
                scaling=gcp.cloudrunv2.ServiceTemplateScalingArgs(max_instance_count=args.max_instances),
                volumes=volumes,
                containers=[gcp.cloudrunv2.ServiceTemplateContainerArgs(image=args.image, envs=envs)],
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=waits),
        )
        for invoker in args.invokers:
            gcp.cloudrunv2.ServiceIamMember(
                f"{name}-invoker-{invoker.split(':', 1)[1].split('@')[0]}",
                name=self.service.name,
                location=args.region,
                role="roles/run.invoker",
                member=invoker,
                opts=child,
            )
        self.url = self.service.uri
        self.register_outputs({"url": self.url, "account": self.account.email})
