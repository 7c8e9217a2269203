"""status.acme.example: Firebase Hosting in front of a Cloud Run service that renders the page.

Hosting has to reach the service without credentials, so the service is public; it only
serves GET and reads nothing private.
"""

import pulumi
import pulumi_gcp as gcp

config = pulumi.Config()
project = pulumi.Config("gcp").require("project")
REGION = "us-central1"
SERVICE = "status-renderer"

renderer_sa = gcp.serviceaccount.Account(SERVICE, account_id=SERVICE)
renderer = gcp.cloudrunv2.Service(
    SERVICE,
    name=SERVICE,
    location=REGION,
    ingress="INGRESS_TRAFFIC_ALL",
    deletion_protection=True,
    scaling=gcp.cloudrunv2.ServiceScalingArgs(min_instance_count=1),
    template=gcp.cloudrunv2.ServiceTemplateArgs(
        service_account=renderer_sa.email,
        max_instance_request_concurrency=200,
        containers=[
            gcp.cloudrunv2.ServiceTemplateContainerArgs(
                image="us-docker.pkg.dev/acme-artifacts/status/renderer:1.9.2"
            )
        ],
    ),
    labels={"app": "status-page", "managed-by": "pulumi"},
    opts=pulumi.ResourceOptions(protect=True),
)
public = gcp.cloudrunv2.ServiceIamMember(
    "status-renderer-public",
    name=renderer.name,
    location=REGION,
    role="roles/run.invoker",
    member="allUsers",
)

site = gcp.firebase.HostingSite("status", project=project, site_id=config.require("siteId"))
version = gcp.firebase.HostingVersion(
    "status",
    site_id=site.site_id,
    config=gcp.firebase.HostingVersionConfigArgs(
        rewrites=[
            gcp.firebase.HostingVersionConfigRewriteArgs(
                glob="**",
                run=gcp.firebase.HostingVersionConfigRewriteRunArgs(service_id=SERVICE, region=REGION),
            )
        ]
    ),
    opts=pulumi.ResourceOptions(depends_on=[public]),
)
gcp.firebase.HostingRelease(
    "status", site_id=site.site_id, version_name=version.name, message=f"status page {pulumi.get_stack()}"
)

pulumi.export("url", site.default_url)
