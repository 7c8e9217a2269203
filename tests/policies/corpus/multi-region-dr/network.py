"""One VPC per site, with a subnetwork in the site's region."""

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp


@dataclass(frozen=True)
class Site:
    key: str
    project: str
    region: str
    cidr: str
    provider: gcp.Provider


def sites(settings: dict[str, dict[str, str]]) -> list[Site]:
    return [
        Site(
            key,
            entry["project"],
            entry["region"],
            entry["cidr"],
            gcp.Provider(f"{key}-provider", project=entry["project"], region=entry["region"]),
        )
        for key, entry in settings.items()
    ]


def site_network(site: Site) -> tuple[gcp.compute.Network, gcp.compute.Subnetwork]:
    opts = pulumi.ResourceOptions(provider=site.provider)
    vpc = gcp.compute.Network(f"{site.key}-vpc", auto_create_subnetworks=False, opts=opts)
    subnet = gcp.compute.Subnetwork(
        f"{site.key}-subnet",
        network=vpc.id,
        ip_cidr_range=site.cidr,
        region=site.region,
        private_ip_google_access=True,
        opts=opts,
    )
    return vpc, subnet
