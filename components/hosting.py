"""Firebase Hosting: one origin for the page and the API functions."""

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from .outputs import register_declared


@dataclass(frozen=True)
class Rewrite:
    """Send requests matching `glob` to the Cloud Run service behind a function."""

    glob: str
    service_name: pulumi.Input[str]


class HostingOutputs:
    """What an ApprovalHosting hands out, declared once: its typed attributes and registered outputs."""

    site_url: pulumi.Output[str]


class ApprovalHosting(pulumi.ComponentResource, HostingOutputs):
    """Site, version (rewrites only: hosting cannot upload files from here), release.

    Every path is rewritten to a function, so the browser talks to one origin and
    needs no CORS; the page itself is served by the web function.
    """

    site: gcp.firebase.HostingSite
    version: gcp.firebase.HostingVersion
    release: gcp.firebase.HostingRelease

    def __init__(
        self,
        name: str,
        *,
        project: str,
        region: str,
        site_id: str,
        rewrites: Sequence[Rewrite],
        depends_on: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("approvals:index:ApprovalHosting", name, None, opts)
        self.site = gcp.firebase.HostingSite(
            f"{name}-site",
            project=project,
            site_id=site_id,
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
        )
        self.version = gcp.firebase.HostingVersion(
            f"{name}-version",
            site_id=self.site.site_id,
            config=gcp.firebase.HostingVersionConfigArgs(
                rewrites=[
                    gcp.firebase.HostingVersionConfigRewriteArgs(
                        glob=rewrite.glob,
                        run=gcp.firebase.HostingVersionConfigRewriteRunArgs(
                            service_id=rewrite.service_name, region=region
                        ),
                    )
                    for rewrite in rewrites
                ],
                headers=[
                    gcp.firebase.HostingVersionConfigHeaderArgs(
                        glob="**",
                        headers={
                            "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
                            "X-Content-Type-Options": "nosniff",
                            "Referrer-Policy": "no-referrer",
                        },
                    )
                ],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.release = gcp.firebase.HostingRelease(
            f"{name}-release",
            site_id=self.site.site_id,
            version_name=self.version.name,
            message="Deployed by the approvals platform",
            opts=pulumi.ResourceOptions(parent=self),
        )
        register_declared(self, HostingOutputs, site_url=self.site.default_url)
