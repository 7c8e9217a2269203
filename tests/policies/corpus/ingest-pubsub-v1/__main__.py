# Ingest: Pub/Sub -> 1st gen Cloud Function. Everything is auto-named by Pulumi.
import pulumi
import pulumi_gcp as gcp

labels = {"app": "ingest", "managed-by": "pulumi"}

topic = gcp.pubsub.Topic("raw-events", labels=labels, message_retention_duration="86400s")
dead_letters = gcp.pubsub.Topic("raw-events-dead", labels=labels)

source_bucket = gcp.storage.Bucket(
    "function-sources",
    location="US",
    uniform_bucket_level_access=True,
    public_access_prevention="enforced",
    force_destroy=True,
    labels=labels,
)
archive = gcp.storage.BucketObject(
    "handler-zip",
    bucket=source_bucket.name,
    source=pulumi.FileArchive("./handler"),
)

runner = gcp.serviceaccount.Account("ingest-runner", account_id="ingest-runner", display_name="ingest")

ingest = gcp.cloudfunctions.Function(
    "ingest",
    runtime="python311",
    entry_point="ingest",
    region="us-central1",
    source_archive_bucket=source_bucket.name,
    source_archive_object=archive.name,
    service_account_email=runner.email,
    event_trigger=gcp.cloudfunctions.FunctionEventTriggerArgs(
        event_type="google.pubsub.topic.publish",
        resource=topic.id,
        failure_policy=gcp.cloudfunctions.FunctionEventTriggerFailurePolicyArgs(retry=True),
    ),
    max_instances=5,
    available_memory_mb=256,
    labels=labels,
)

status = gcp.cloudfunctions.Function(
    "status",
    runtime="python311",
    entry_point="status",
    region="us-central1",
    source_archive_bucket=source_bucket.name,
    source_archive_object=archive.name,
    service_account_email=runner.email,
    trigger_http=True,
    https_trigger_security_level="SECURE_ALWAYS",
    ingress_settings="ALLOW_INTERNAL_ONLY",
    max_instances=1,
    labels=labels,
)
gcp.cloudfunctions.FunctionIamMember(
    "status-uptime-check",
    cloud_function=status.name,
    region="us-central1",
    role="roles/cloudfunctions.invoker",
    member="serviceAccount:uptime-checker@acme-monitoring.iam.gserviceaccount.com",
)

# Replays land here after five failed deliveries.
replay = gcp.pubsub.Subscription(
    "raw-events-replay",
    topic=topic.id,
    ack_deadline_seconds=60,
    dead_letter_policy=gcp.pubsub.SubscriptionDeadLetterPolicyArgs(
        dead_letter_topic=dead_letters.id, max_delivery_attempts=5
    ),
    labels=labels,
)

pulumi.export("topic", topic.name)
pulumi.export(
    "replay_subscription", pulumi.Output.concat("projects/acme-ingest-dev/subscriptions/", replay.name)
)
pulumi.export("status_url", status.https_trigger_url)
