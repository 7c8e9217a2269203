"""Storefront web: its network and the shared CDN bucket come from other teams' stacks."""

import pulumi
import pulumi_gcp as gcp
from network import SharedNetwork

config = pulumi.Config()
stack = pulumi.get_stack()
region = pulumi.Config("gcp").require("region")
labels = {"app": "storefront", "managed-by": "pulumi"}

network = SharedNetwork(config.require("org"), stack)
platform = pulumi.StackReference(f"{config.require('org')}/platform/{stack}")
assets_bucket = platform.get_output("assetsBucket")

api_key = gcp.secretmanager.Secret(
    "payments-api-key",
    secret_id="payments-api-key",
    replication=gcp.secretmanager.SecretReplicationArgs(auto=gcp.secretmanager.SecretReplicationAutoArgs()),
)
gcp.secretmanager.SecretVersion(
    "payments-api-key", secret=api_key.id, secret_data=config.require_secret("paymentsApiKey")
)

runner = gcp.serviceaccount.Account("storefront-web", account_id="storefront-web")
reads_key = gcp.secretmanager.SecretIamMember(
    "storefront-reads-payments-key",
    secret_id=api_key.id,
    role="roles/secretmanager.secretAccessor",
    member=runner.member,
)
gcp.storage.BucketIAMMember(
    "storefront-reads-assets",
    bucket=assets_bucket.apply(lambda name: name or "acme-platform-staging-assets"),
    role="roles/storage.objectViewer",
    member=runner.member,
)

web = gcp.cloudrunv2.Service(
    "storefront-web",
    location=region,
    ingress="INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
    deletion_protection=False,
    labels=labels,
    template=gcp.cloudrunv2.ServiceTemplateArgs(
        service_account=runner.email,
        vpc_access=gcp.cloudrunv2.ServiceTemplateVpcAccessArgs(
            connector=network.connector, egress=network.egress
        ),
        containers=[
            gcp.cloudrunv2.ServiceTemplateContainerArgs(
                image=config.require("image"),
                envs=[
                    gcp.cloudrunv2.ServiceTemplateContainerEnvArgs(
                        name="ASSETS_BASE_URL",
                        value=pulumi.Output.concat("https://storage.googleapis.com/", assets_bucket),
                    ),
                    gcp.cloudrunv2.ServiceTemplateContainerEnvArgs(
                        name="PAYMENTS_API_KEY",
                        value_source=gcp.cloudrunv2.ServiceTemplateContainerEnvValueSourceArgs(
                            secret_key_ref=gcp.cloudrunv2.ServiceTemplateContainerEnvValueSourceSecretKeyRefArgs(
                                secret=api_key.secret_id, version="latest"
                            )
                        ),
                    ),
                ],
            )
        ],
    ),
    opts=pulumi.ResourceOptions(depends_on=[reads_key]),
)
gcp.cloudrunv2.ServiceIamMember(
    "lb-invokes-storefront",
    name=web.name,
    location=region,
    role="roles/run.invoker",
    member=pulumi.Output.format("serviceAccount:{}", platform.require_output("edgeServiceAccount")),
)

pulumi.export("service", web.name)
pulumi.export("summary", pulumi.Output.all(web.name, network.connector).apply(lambda v: f"{v[0]} via {v[1]}"))
