"""The procurement team's own settings and extras beside the approvals platform."""

import pulumi
import pulumi_gcp as gcp

TEAM_LABELS = {"team": "procurement", "cost-center": "cc-4410"}
FINANCE = ["finance-controller@acme.example", "cfo-office@acme.example"]


def quotes_bucket(project: str, after: pulumi.Resource) -> gcp.storage.Bucket:
    """Supplier quotes attached to purchase orders; `after` enables the Storage API."""
    return gcp.storage.Bucket(
        "supplier-quotes",
        name=f"{project}-supplier-quotes",
        location="EU",
        uniform_bucket_level_access=True,
        public_access_prevention="enforced",
        soft_delete_policy=gcp.storage.BucketSoftDeletePolicyArgs(retention_duration_seconds=30 * 24 * 3600),
        labels={**TEAM_LABELS, "app": "procurement", "managed-by": "pulumi"},
        opts=pulumi.ResourceOptions(depends_on=[after]),
    )
