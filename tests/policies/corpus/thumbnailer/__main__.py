"""Thumbnails for every uploaded photo: a 2nd gen function on the uploads bucket's finalize event."""

import pulumi
import pulumi_gcp as gcp

config = pulumi.Config()
gcp_config = pulumi.Config("gcp")
project, region = gcp_config.require("project"), gcp_config.require("region")
labels = {"app": "thumbnailer", "managed-by": "pulumi"}


def bucket(name: str, **extra) -> gcp.storage.Bucket:
    return gcp.storage.Bucket(
        name,
        name=f"{project}-{name}",
        location=region.upper(),
        uniform_bucket_level_access=True,
        public_access_prevention="enforced",
        labels=labels,
        **extra,
    )


uploads = bucket("uploads")
thumbnails = bucket(
    "thumbnails", cors=[gcp.storage.BucketCorArgs(origins=["https://photos.acme.example"], methods=["GET"])]
)
sources = bucket("function-sources")

runner = gcp.serviceaccount.Account("thumbnailer", account_id="thumbnailer-fn")
trigger = gcp.serviceaccount.Account("thumbnailer-trigger", account_id="thumbnailer-trigger")
for name, target in (("reads-uploads", uploads), ("writes-thumbnails", thumbnails)):
    gcp.storage.BucketIAMMember(
        f"thumbnailer-{name}",
        bucket=target.name,
        role="roles/storage.objectViewer" if name.startswith("reads") else "roles/storage.objectCreator",
        member=runner.member,
    )

function = gcp.cloudfunctionsv2.Function(
    "thumbnailer",
    name="thumbnailer",
    location=region,
    description="Renders 128, 512 and 1024 px thumbnails",
    labels=labels,
    build_config=gcp.cloudfunctionsv2.FunctionBuildConfigArgs(
        runtime="python312",
        entry_point="on_upload",
        source=gcp.cloudfunctionsv2.FunctionBuildConfigSourceArgs(
            storage_source=gcp.cloudfunctionsv2.FunctionBuildConfigSourceStorageSourceArgs(
                bucket=sources.name, object=config.require("sourceObject")
            )
        ),
    ),
    service_config=gcp.cloudfunctionsv2.FunctionServiceConfigArgs(
        available_memory="1Gi",
        timeout_seconds=120,
        ingress_settings="ALLOW_INTERNAL_ONLY",
        # Bursty uploads after events: let it scale.
        max_instance_count=config.require_int("maxInstances"),
        min_instance_count=0,
        service_account_email=runner.email,
        environment_variables={"THUMBNAIL_BUCKET": thumbnails.name, "SIZES": "128,512,1024"},
    ),
    event_trigger=gcp.cloudfunctionsv2.FunctionEventTriggerArgs(
        event_type="google.cloud.storage.object.v1.finalized",
        trigger_region=region,
        retry_policy="RETRY_POLICY_RETRY",
        service_account_email=trigger.email,
        event_filters=[
            gcp.cloudfunctionsv2.FunctionEventTriggerEventFilterArgs(attribute="bucket", value=uploads.name)
        ],
    ),
)
gcp.cloudfunctionsv2.FunctionIamMember(
    "thumbnailer-trigger-invokes",
    project=project,
    location=region,
    cloud_function=function.name,
    role="roles/cloudfunctions.invoker",
    member=trigger.member,
)

pulumi.export("uploads_bucket", uploads.url)
pulumi.export("function", function.id)
