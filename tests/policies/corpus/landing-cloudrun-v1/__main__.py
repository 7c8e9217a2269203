import pulumi
import pulumi_gcp as gcp

cfg = pulumi.Config()
region = "us-east1"

runner = gcp.serviceaccount.Account("landing-web", account_id="landing-web", display_name="landing page")

svc = gcp.cloudrun.Service(
    "landing",
    name="landing",
    location=region,
    autogenerate_revision_name=False,
    metadata=gcp.cloudrun.ServiceMetadataArgs(
        annotations={"run.googleapis.com/ingress": "all"},
        labels={"app": "landing", "managed-by": "pulumi"},
    ),
    template=gcp.cloudrun.ServiceTemplateArgs(
        metadata=gcp.cloudrun.ServiceTemplateMetadataArgs(
            name=cfg.require("revision"),
            annotations={"autoscaling.knative.dev/maxScale": "30", "autoscaling.knative.dev/minScale": "1"},
        ),
        spec=gcp.cloudrun.ServiceTemplateSpecArgs(
            service_account_name=runner.email,
            container_concurrency=80,
            timeout_seconds=30,
            containers=[
                gcp.cloudrun.ServiceTemplateSpecContainerArgs(
                    image=cfg.require("image"),
                    envs=[gcp.cloudrun.ServiceTemplateSpecContainerEnvArgs(name="ENVIRONMENT", value="prod")],
                )
            ],
        ),
    ),
    traffics=[gcp.cloudrun.ServiceTrafficArgs(percent=100, latest_revision=True)],
    opts=pulumi.ResourceOptions(protect=True),
)

# The landing page is for everyone on the internet.
gcp.cloudrun.IamMember(
    "landing-public",
    service=svc.name,
    location=region,
    role="roles/run.invoker",
    member="allUsers",
)
gcp.cloudrun.IamMember(
    "landing-synthetics",
    service=svc.name,
    location=region,
    role="roles/run.invoker",
    member="serviceAccount:synthetics@acme-monitoring.iam.gserviceaccount.com",
)

pulumi.export("url", svc.statuses.apply(lambda statuses: statuses[0].url if statuses else None))
