"""Product search indexer: catalogue changes on Pub/Sub -> a 2nd gen function -> the search index."""

import pulumi
import pulumi_gcp as gcp
from apis import Apis

project = pulumi.Config("gcp").require("project")
region = pulumi.Config("gcp").require("region")
labels = {"app": "search-indexer", "managed-by": "pulumi"}

apis = Apis(project)

changes = gcp.pubsub.Topic(
    "catalog-changes", project=project, labels=labels, opts=apis.after("pubsub.googleapis.com")
)
sources = gcp.storage.Bucket(
    "indexer-sources",
    project=project,
    location="EU",
    uniform_bucket_level_access=True,
    public_access_prevention="enforced",
    labels=labels,
    opts=apis.after("storage.googleapis.com"),
)
indexer_sa = gcp.serviceaccount.Account(
    "search-indexer", project=project, account_id="search-indexer", opts=apis.after("iam.googleapis.com")
)
trigger_sa = gcp.serviceaccount.Account(
    "search-indexer-trigger",
    project=project,
    account_id="search-indexer-trigger",
    opts=apis.after("iam.googleapis.com"),
)

indexer = gcp.cloudfunctionsv2.Function(
    "search-indexer",
    project=project,
    location=region,
    labels=labels,
    build_config=gcp.cloudfunctionsv2.FunctionBuildConfigArgs(
        runtime="go122",
        entry_point="IndexChange",
        source=gcp.cloudfunctionsv2.FunctionBuildConfigSourceArgs(
            storage_source=gcp.cloudfunctionsv2.FunctionBuildConfigSourceStorageSourceArgs(
                bucket=sources.name, object="indexer.zip"
            )
        ),
    ),
    service_config=gcp.cloudfunctionsv2.FunctionServiceConfigArgs(
        ingress_settings="ALLOW_INTERNAL_ONLY",
        max_instance_count=20,
        max_instance_request_concurrency=8,
        available_cpu="1",
        available_memory="512Mi",
        service_account_email=indexer_sa.email,
    ),
    event_trigger=gcp.cloudfunctionsv2.FunctionEventTriggerArgs(
        trigger_region=region,
        event_type="google.cloud.pubsub.topic.v1.messagePublished",
        pubsub_topic=changes.id,
        service_account_email=trigger_sa.email,
        retry_policy="RETRY_POLICY_RETRY",
    ),
    opts=apis.after(
        "cloudfunctions.googleapis.com",
        "cloudbuild.googleapis.com",
        "artifactregistry.googleapis.com",
        "run.googleapis.com",
        "eventarc.googleapis.com",
    ),
)
# Pub/Sub's service agent mints the trigger account's tokens for push deliveries.
project_number = gcp.organizations.get_project(project_id=project).number
gcp.serviceaccount.IAMMember(
    "pubsub-agent-mints-trigger-tokens",
    service_account_id=trigger_sa.name,
    role="roles/iam.serviceAccountTokenCreator",
    member=f"serviceAccount:service-{project_number}@gcp-sa-pubsub.iam.gserviceaccount.com",
)
gcp.cloudfunctionsv2.FunctionIamMember(
    "trigger-invokes-indexer",
    project=project,
    location=region,
    cloud_function=indexer.name,
    role="roles/cloudfunctions.invoker",
    member=trigger_sa.member,
)

pulumi.export("topic", changes.id)
pulumi.export("indexer", indexer.name)
