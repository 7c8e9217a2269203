"""Loyalty programme data: Firestore, its rules and its indexes."""

from pathlib import Path

import pulumi
import pulumi_gcp as gcp

project = pulumi.Config("gcp").require("project")
RULES = Path(__file__).parent / "firestore.rules"

db = gcp.firestore.Database(
    "loyalty",
    project=project,
    name="loyalty",
    location_id="europe-west1",
    type="FIRESTORE_NATIVE",
    concurrency_mode="OPTIMISTIC",
    delete_protection_state="DELETE_PROTECTION_DISABLED",
)

rules = gcp.firebaserules.Ruleset(
    "loyalty-rules",
    project=project,
    source={"files": [{"name": "firestore.rules", "content": RULES.read_text()}]},
)
gcp.firebaserules.Release(
    "loyalty-rules-release",
    name=db.name.apply(lambda name: f"cloud.firestore/{name}"),
    project=project,
    ruleset_name=rules.name,
)

# Composite indexes, one at a time (Firestore rejects concurrent index builds).
INDEXES = [
    ("points", [("memberId", "ASCENDING"), ("earnedAt", "DESCENDING")]),
    ("points", [("memberId", "ASCENDING"), ("expiresAt", "ASCENDING")]),
    ("rewards", [("tier", "ASCENDING"), ("cost", "ASCENDING")]),
]
previous: list[pulumi.Resource] = []
for number, (collection, fields) in enumerate(INDEXES, start=1):
    index = gcp.firestore.Index(
        f"{collection}-index-{number}",
        project=project,
        database=db.name,
        collection=collection,
        fields=[gcp.firestore.IndexFieldArgs(field_path=path, order=order) for path, order in fields],
        opts=pulumi.ResourceOptions(depends_on=previous),
    )
    previous = [index]

pulumi.export("database", db.name)
