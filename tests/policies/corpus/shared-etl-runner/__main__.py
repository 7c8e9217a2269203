"""One runner account for the ETL: the legacy loader function and the orchestrating workflow."""

import pulumi
import pulumi_gcp as gcp

config = pulumi.Config()
region = "us-central1"
labels = {"app": "etl", "managed-by": "pulumi"}

runner = gcp.serviceaccount.Account("etl-runner", account_id="etl-runner", display_name="ETL runner")

loader = gcp.cloudfunctions.Function(
    "loader",
    name="etl-loader",
    runtime="python310",
    entry_point="load",
    region=region,
    source_archive_bucket=config.require("sourceBucket"),
    source_archive_object="loader-v14.zip",
    trigger_http=True,
    ingress_settings="ALLOW_INTERNAL_ONLY",
    max_instances=10,
    timeout=540,
    service_account_email=runner.email,
    labels=labels,
)
gcp.cloudfunctions.FunctionIamMember(
    "loader-invoker",
    region=region,
    cloud_function=loader.name,
    role="roles/cloudfunctions.invoker",
    member=runner.member,
)

orchestrator = gcp.workflows.Workflow(
    "etl-orchestrator",
    name="etl-orchestrator",
    region=region,
    service_account=runner.id,
    source_contents=loader.https_trigger_url.apply(
        lambda url: (
            f"""
main:
  steps:
    - load:
        call: http.post
        args:
          url: {url}
          auth:
            type: OIDC
        result: loaded
    - done:
        return: ${{loaded.body}}
"""
        )
    ),
    deletion_protection=False,
    labels=labels,
)

pulumi.export("orchestrator", orchestrator.id)
