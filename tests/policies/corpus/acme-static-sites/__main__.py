"""Marketing sites: one StaticSite per entry of web-sites:sites."""

import pulumi
from acme_platform import StaticSite

config = pulumi.Config()
labels = {"app": "web-sites", "managed-by": "pulumi", "cost-center": "marketing"}

sites = {}
for entry in config.require_object("sites"):
    sites[entry["name"]] = StaticSite(
        entry["name"],
        domain=entry["domain"],
        publishers=config.require("publishers"),
        labels=labels,
        not_found_page=entry.get("notFoundPage", "index.html"),
    )

pulumi.export("buckets", {name: site.bucket.name for name, site in sites.items()})
pulumi.export("urls", {name: site.url for name, site in sites.items()})
