import pulumi
import pulumi_gcp as gcp
import pulumiverse_time as time

config = pulumi.Config()
project = pulumi.Config("gcp").require("project")
labels = {"app": "sandbox", "managed-by": "pulumi", "owner": "jdoe"}

APIS = {
    "storage": "storage.googleapis.com",
    "pubsub": "pubsub.googleapis.com",
    "secretmanager": "secretmanager.googleapis.com",
    "iam": "iam.googleapis.com",
}
apis = {
    key: gcp.projects.Service(f"api-{key}", project=project, service=api, disable_on_destroy=False)
    for key, api in APIS.items()
}
# Newly enabled APIs take a moment to propagate.
propagated = time.Sleep(
    "apis-propagated", create_duration="30s", opts=pulumi.ResourceOptions(depends_on=list(apis.values()))
)
after_apis = pulumi.ResourceOptions(depends_on=[propagated])

scratch = gcp.storage.Bucket(
    "scratch",
    project=project,
    location="EU",
    uniform_bucket_level_access=True,
    public_access_prevention="enforced",
    force_destroy=True,
    lifecycle_rules=[
        gcp.storage.BucketLifecycleRuleArgs(
            action=gcp.storage.BucketLifecycleRuleActionArgs(type="Delete"),
            condition=gcp.storage.BucketLifecycleRuleConditionArgs(age=14),
        )
    ],
    labels=labels,
    opts=after_apis,
)
token = gcp.secretmanager.Secret(
    "webhook-token",
    project=project,
    secret_id="webhook-token",
    replication=gcp.secretmanager.SecretReplicationArgs(auto=gcp.secretmanager.SecretReplicationAutoArgs()),
    opts=after_apis,
)
gcp.secretmanager.SecretVersion(
    "webhook-token", secret=token.id, secret_data=config.require_secret("webhookToken")
)
runner = gcp.serviceaccount.Account(
    "sandbox-runner", project=project, account_id="sandbox-runner", opts=after_apis
)
events = gcp.pubsub.Topic("events", project=project, labels=labels)
gcp.pubsub.TopicIAMMember(
    "runner-publishes",
    project=project,
    topic=events.name,
    role="roles/pubsub.publisher",
    member=runner.member,
)
gcp.projects.IAMMember(
    "developer-access", project=project, role="roles/run.developer", member=config.require("developer")
)

pulumi.export("bucket", scratch.url)
pulumi.export("topic", events.id)
