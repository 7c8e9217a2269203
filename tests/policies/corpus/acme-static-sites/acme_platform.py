"""The platform team's component library (vendored): a hardened static site bucket.

Copied into every web project; the platform team reviews changes to it.
"""

import pulumi
import pulumi_gcp as gcp

CDN_FILL_MEMBER = "serviceAccount:service-123456789012@cloud-cdn-fill.iam.gserviceaccount.com"


class StaticSite(pulumi.ComponentResource):
    """A bucket that serves a site through the load balancer's CDN, never directly."""

    bucket: gcp.storage.Bucket
    url: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        domain: str,
        publishers: str,
        labels: dict[str, str],
        not_found_page: str = "index.html",
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("acme:platform:StaticSite", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        project = gcp.config.project or "unknown-project"
        self.bucket = gcp.storage.Bucket(
            f"{name}-content",
            name=f"{project}-{name}-site",
            location="EU",
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            website=gcp.storage.BucketWebsiteArgs(
                main_page_suffix="index.html", not_found_page=not_found_page
            ),
            versioning=gcp.storage.BucketVersioningArgs(enabled=True),
            labels={**labels, "site": name},
            opts=child,
        )
        gcp.storage.BucketIAMMember(
            f"{name}-cdn-read",
            bucket=self.bucket.name,
            role="roles/storage.objectViewer",
            member=CDN_FILL_MEMBER,
            opts=child,
        )
        gcp.storage.BucketIAMMember(
            f"{name}-publish",
            bucket=self.bucket.name,
            role="roles/storage.objectAdmin",
            member=publishers,
            opts=child,
        )
        self.url = pulumi.Output.concat("https://", domain, "/")
        self.register_outputs({"bucket": self.bucket.name, "url": self.url})
