"""Nightly invoice export: Cloud Scheduler starts a workflow that writes into a bucket."""

import base64
import json

import pipeline
import pulumi
import pulumi_gcp as gcp
import pulumiverse_time as time

config = pulumi.Config()
gcp_config = pulumi.Config("gcp")
project, region = gcp_config.require("project"), gcp_config.require("region")
labels = {"app": "nightly-export", "managed-by": "pulumi", "team": "billing"}

exports = gcp.storage.Bucket(
    "exports",
    name=f"{project}-invoice-exports",
    location="EU",
    uniform_bucket_level_access=True,
    public_access_prevention="enforced",
    retention_policy=gcp.storage.BucketRetentionPolicyArgs(retention_period=7 * 24 * 3600),
    labels=labels,
    opts=pulumi.ResourceOptions(protect=True),
)

workflow_account = gcp.serviceaccount.Account(
    "wf-nightly-export", account_id="wf-nightly-export", display_name="nightly export workflow"
)
scheduler_account = gcp.serviceaccount.Account(
    "nightly-export-scheduler", account_id="nightly-export-scheduler", display_name="starts the export"
)

grants = [
    gcp.projects.IAMMember(
        "wf-nightly-export-logs",
        project=project,
        role="roles/logging.logWriter",
        member=workflow_account.member,
    ),
    gcp.storage.BucketIAMMember(
        "wf-nightly-export-writes",
        bucket=exports.name,
        role="roles/storage.objectCreator",
        member=workflow_account.member,
    ),
    # The scheduler may act as the workflow's account (workflows.invoker comes from the folder policy).
    gcp.serviceaccount.IAMMember(
        "scheduler-acts-as-workflow",
        service_account_id=workflow_account.name,
        role="roles/iam.serviceAccountUser",
        member=scheduler_account.member,
    ),
]
# IAM is eventually consistent: give the grants a minute before the first run can fire.
settle = time.Sleep("iam-settle", create_duration="60s", opts=pulumi.ResourceOptions(depends_on=grants))

workflow = gcp.workflows.Workflow(
    "nightly-export",
    name="nightly-export",
    region=region,
    description="Exports yesterday's invoices",
    service_account=workflow_account.id,
    source_contents=exports.name.apply(pipeline.render),
    call_log_level="LOG_ERRORS_ONLY",
    deletion_protection=True,
    labels=labels,
)

gcp.cloudscheduler.Job(
    "nightly-export",
    name="nightly-export",
    region=region,
    schedule=config.require("schedule"),
    time_zone=config.require("timeZone"),
    attempt_deadline="320s",
    retry_config=gcp.cloudscheduler.JobRetryConfigArgs(retry_count=3),
    http_target=gcp.cloudscheduler.JobHttpTargetArgs(
        http_method="POST",
        uri=pulumi.Output.concat("https://workflowexecutions.googleapis.com/v1/", workflow.id, "/executions"),
        body=base64.b64encode(json.dumps({"argument": "{}"}).encode()).decode(),
        headers={"Content-Type": "application/json"},
        oauth_token=gcp.cloudscheduler.JobHttpTargetOauthTokenArgs(
            service_account_email=scheduler_account.email,
            scope="https://www.googleapis.com/auth/cloud-platform",
        ),
    ),
    opts=pulumi.ResourceOptions(depends_on=[settle]),
)

pulumi.export("workflow", workflow.id)
pulumi.export("bucket", exports.url)
