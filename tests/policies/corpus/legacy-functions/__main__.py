import pulumi
import pulumi_gcp as gcp
from settings import REGION, RUNTIME, WEBHOOKS

labels = {"app": "partner-webhooks", "managed-by": "pulumi"}

code = gcp.storage.Bucket(
    "webhook-code",
    location=REGION.upper(),
    uniform_bucket_level_access=True,
    public_access_prevention="enforced",
    labels=labels,
)
archive = gcp.storage.BucketObject(
    "webhooks-archive", bucket=code.name, source=pulumi.FileArchive("functions")
)
runtime_account = gcp.serviceaccount.Account("webhooks", account_id="partner-webhooks")

urls = {}
for name, spec in WEBHOOKS.items():
    fn = gcp.cloudfunctions.Function(
        name,
        region=REGION,
        runtime=RUNTIME,
        entry_point=name,
        source_archive_bucket=code.name,
        source_archive_object=archive.output_name,
        trigger_http=True,
        https_trigger_security_level="SECURE_ALWAYS",
        ingress_settings="ALLOW_INTERNAL_AND_GCLB",
        available_memory_mb=spec["memory"],
        max_instances=20,
        service_account_email=runtime_account.email,
        environment_variables={"PARTNER": name},
        labels=labels,
    )
    for index, caller in enumerate(spec["callers"]):
        gcp.cloudfunctions.FunctionIamMember(
            f"{name}-invoker-{index}",
            project=fn.project,
            region=fn.region,
            cloud_function=fn.name,
            role="roles/cloudfunctions.invoker",
            member=caller,
        )
    urls[name] = fn.https_trigger_url

pulumi.export("urls", urls)
