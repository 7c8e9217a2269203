# support-tools, written in 2021 before the labelling convention. Works; nobody has touched it since.
import pulumi
import pulumi_gcp as gcp

REGION = "us-east4"

attachments = gcp.storage.Bucket(
    "ticket-attachments",
    location="US",
    uniform_bucket_level_access=True,
    public_access_prevention="enforced",
)

bot = gcp.serviceaccount.Account("triage-bot", account_id="triage-bot")
triage = gcp.cloudfunctionsv2.Function(
    "triage",
    location=REGION,
    build_config=gcp.cloudfunctionsv2.FunctionBuildConfigArgs(
        runtime="python311",
        entry_point="triage",
        source=gcp.cloudfunctionsv2.FunctionBuildConfigSourceArgs(
            storage_source=gcp.cloudfunctionsv2.FunctionBuildConfigSourceStorageSourceArgs(
                bucket="acme-support-dev-sources", object="triage.zip"
            )
        ),
    ),
    service_config=gcp.cloudfunctionsv2.FunctionServiceConfigArgs(
        ingress_settings="ALLOW_INTERNAL_ONLY", max_instance_count=2, service_account_email=bot.email
    ),
)

wf_sa = gcp.serviceaccount.Account("wf-escalation", account_id="wf-escalation")
gcp.workflows.Workflow(
    "escalation",
    region=REGION,
    service_account=wf_sa.id,
    deletion_protection=False,
    source_contents="""
- page:
    call: http.post
    args:
      url: https://events.pagerduty.com/v2/enqueue
      body:
        event_action: trigger
- done:
    return: paged
""",
)

# Ticket search indexes, declared side by side.
for name, fields in {
    "tickets-by-status": [("status", "ASCENDING"), ("updatedAt", "DESCENDING")],
    "tickets-by-customer": [("customerId", "ASCENDING"), ("updatedAt", "DESCENDING")],
}.items():
    gcp.firestore.Index(
        name,
        collection="tickets",
        fields=[gcp.firestore.IndexFieldArgs(field_path=path, order=order) for path, order in fields],
    )

pulumi.export("attachments", attachments.name)
pulumi.export("triage", triage.url)
