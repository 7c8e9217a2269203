"""Google APIs the stack needs, each enabled once per platform."""

import pulumi
import pulumi_gcp as gcp

from .naming import resource_id

IAM = "iam.googleapis.com"
"""Service accounts and custom roles; off on a new project."""
RESOURCE_MANAGER = "cloudresourcemanager.googleapis.com"
"""Project IAM policies, which every project-level grant reads and writes; off on a new project."""


class GoogleApis:
    """Enables Google APIs on demand and hands back what to depend on.

    Several workflows may need the same API (two translation workflows both need
    translate.googleapis.com); one `projects.Service` per API avoids two resources
    fighting over the same switch.
    """

    def __init__(self, project: pulumi.Input[str], parent: pulumi.Resource, enabled: bool) -> None:
        self._project = project
        self._parent = parent
        self.enabled = enabled
        """Whether this stack manages the APIs; False leaves them to whoever set up the project."""
        self._services: dict[str, gcp.projects.Service] = {}

    def require(self, *apis: str) -> list[pulumi.Resource]:
        """Enable `apis` (if this platform manages APIs) and return them as dependencies."""
        if not self.enabled:
            return []
        for api in apis:
            if api not in self._services:
                short_name = resource_id(api.split(".")[0], max_length=40)
                self._services[api] = gcp.projects.Service(
                    f"{self._parent.pulumi_resource_name}-api-{short_name}",
                    project=self._project,
                    service=api,
                    # Other stacks in the project may use the API too: never switch it off.
                    disable_on_destroy=False,
                    opts=pulumi.ResourceOptions(parent=self._parent),
                )
        return [self._services[api] for api in apis]
