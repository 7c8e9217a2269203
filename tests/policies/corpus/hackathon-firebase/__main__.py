# Hackathon app: Firestore behind the mobile client. Rules "for now".
import pulumi
import pulumi_gcp as gcp

PROJECT = "acme-hackathon-dev"

TEST_MODE_RULES = """
rules_version = '2';
service cloud.firestore {
  match /databases/{database}/documents {
    match /{document=**} {
      allow read, write: if request.time < timestamp.date(2025, 3, 1);
    }
  }
}
"""

db = gcp.firestore.Database(
    "default-db",
    project=PROJECT,
    name="(default)",
    location_id="nam5",
    type="FIRESTORE_NATIVE",
)
ruleset = gcp.firebaserules.Ruleset(
    "test-mode",
    project=PROJECT,
    source=gcp.firebaserules.RulesetSourceArgs(
        language="FIRESTORE_RULES",
        files=[gcp.firebaserules.RulesetSourceFileArgs(name="firestore.rules", content=TEST_MODE_RULES)],
    ),
    opts=pulumi.ResourceOptions(depends_on=[db]),
)
gcp.firebaserules.Release(
    "firestore",
    name="cloud.firestore",
    project=PROJECT,
    ruleset_name=ruleset.name,
    opts=pulumi.ResourceOptions(delete_before_replace=True),
)
media = gcp.storage.Bucket(
    "hackathon-media",
    project=PROJECT,
    location="US",
    uniform_bucket_level_access=True,
    public_access_prevention="enforced",
    labels={"app": "hackathon", "managed-by": "pulumi"},
)
pulumi.export("media", media.name)
