"""Monthly newsletter: issues in a bucket, a workflow that announces each one on a topic."""

import pulumi
import pulumi_gcp as gcp
import render

region = pulumi.Config("gcp").require("region")
labels = {"app": "newsletter", "managed-by": "pulumi"}

issues = gcp.storage.Bucket(
    "newsletter-issues",
    location="EU",
    uniform_bucket_level_access=True,
    public_access_prevention="enforced",
    labels=labels,
)
announcements = gcp.pubsub.Topic("newsletter-announcements", labels=labels)
account = gcp.serviceaccount.Account("wf-newsletter", account_id="wf-newsletter")
gcp.storage.BucketIAMMember(
    "wf-newsletter-reads-issues", bucket=issues.name, role="roles/storage.objectViewer", member=account.member
)
gcp.pubsub.TopicIAMMember(
    "wf-newsletter-announces",
    topic=announcements.name,
    role="roles/pubsub.publisher",
    member=account.member,
)

workflow = gcp.workflows.Workflow(
    "newsletter",
    region=region,
    service_account=account.email,
    source_contents=pulumi.Output.all(issues.name, announcements.id).apply(render.workflow_source),
    deletion_protection=False,
    labels=labels,
)

pulumi.export("workflow", workflow.name)
