"""The APIs this stack switches on, and a helper to make resources wait for them."""

import pulumi
import pulumi_gcp as gcp

NEEDED = [
    "pubsub.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudbuild.googleapis.com",
    "artifactregistry.googleapis.com",
    "run.googleapis.com",
    "eventarc.googleapis.com",
    "storage.googleapis.com",
    "iam.googleapis.com",
]


class Apis:
    def __init__(self, project: str) -> None:
        self.services = {
            api: gcp.projects.Service(
                api.split(".")[0],
                project=project,
                service=api,
                disable_on_destroy=False,
                disable_dependent_services=False,
            )
            for api in NEEDED
        }

    def after(self, *apis: str, **options) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(depends_on=[self.services[api] for api in apis], **options)
