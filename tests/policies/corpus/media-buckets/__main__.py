"""Twenty media buckets from one table; the archive ones live in the archive project, in the US."""

from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

config = pulumi.Config()
LABELS = {"app": "media", "managed-by": "pulumi"}


@dataclass(frozen=True)
class BucketSpec:
    name: str
    storage_class: str = "STANDARD"
    delete_after_days: int | None = None
    archive: bool = False
    versioned: bool = False
    # Escape hatch for buckets that predate the org policy.
    public_access_prevention: str = "enforced"
    extra_labels: dict[str, str] = field(default_factory=dict)


SPECS = [
    *(
        BucketSpec(f"renditions-{size}", delete_after_days=90)
        for size in ("240p", "480p", "720p", "1080p", "4k")
    ),
    *(BucketSpec(f"thumbnails-{kind}", delete_after_days=30) for kind in ("poster", "sprite", "preview")),
    BucketSpec("originals", versioned=True),
    BucketSpec("subtitles", versioned=True),
    BucketSpec("transcode-scratch", delete_after_days=1),
    BucketSpec("legacy-uploads", public_access_prevention="inherited", extra_labels={"legacy": "true"}),
    *(
        BucketSpec(f"archive-{year}", storage_class="ARCHIVE", archive=True, extra_labels={"year": str(year)})
        for year in range(2017, 2025)
    ),
]
assert len(SPECS) == 20

archive_provider = gcp.Provider("archive", project=config.require("archiveProject"), region="us-central1")


def lifecycle(spec: BucketSpec) -> list[gcp.storage.BucketLifecycleRuleArgs]:
    if spec.delete_after_days is None:
        return []
    return [
        gcp.storage.BucketLifecycleRuleArgs(
            action=gcp.storage.BucketLifecycleRuleActionArgs(type="Delete"),
            condition=gcp.storage.BucketLifecycleRuleConditionArgs(age=spec.delete_after_days),
        )
    ]


buckets: dict[str, gcp.storage.Bucket] = {}
for spec in SPECS:
    buckets[spec.name] = gcp.storage.Bucket(
        f"media-{spec.name}",
        location="US" if spec.archive else "EU",
        storage_class=spec.storage_class,
        uniform_bucket_level_access=True,
        public_access_prevention=spec.public_access_prevention,
        versioning=gcp.storage.BucketVersioningArgs(enabled=spec.versioned),
        lifecycle_rules=lifecycle(spec),
        labels={**LABELS, **spec.extra_labels},
        opts=pulumi.ResourceOptions(provider=archive_provider, protect=True) if spec.archive else None,
    )

pulumi.export("buckets", {name: bucket.url for name, bucket in buckets.items()})
