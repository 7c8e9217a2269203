import pulumi
import pulumi_gcp as gcp
from gate import deploy_gate

config = pulumi.Config()
region = pulumi.Config("gcp").require("region")
labels = {"app": "checkout", "managed-by": "pulumi"}

runtime = gcp.serviceaccount.Account("checkout-api", account_id="checkout-api")
api = gcp.cloudrunv2.Service(
    "checkout-api",
    name="checkout-api",
    location=region,
    ingress="INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
    deletion_protection=True,
    template=gcp.cloudrunv2.ServiceTemplateArgs(
        service_account=runtime.email,
        containers=[gcp.cloudrunv2.ServiceTemplateContainerArgs(image=config.require("image"))],
    ),
    labels=labels,
    opts=pulumi.ResourceOptions(ignore_changes=["template.containers[0].image"]),
)
gate = deploy_gate(
    "checkout-deploy-gate",
    api,
    runtime,
    config.require_object("approvers"),
    config.get("mode") or "single",
    region,
    labels,
)
pulumi.export("gate", gate.name)
