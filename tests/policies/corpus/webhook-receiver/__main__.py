"""GitHub webhooks land on a 2nd gen function; the signature check is in the code."""

import pulumi
import pulumi_gcp as gcp

cfg = pulumi.Config()
project = pulumi.Config("gcp").require("project")
location = pulumi.Config("gcp").require("region")
labels = {"app": "webhook-receiver", "managed-by": "pulumi"}

signing = gcp.secretmanager.Secret(
    "github-signing-secret",
    secret_id="github-signing-secret",
    replication=gcp.secretmanager.SecretReplicationArgs(auto=gcp.secretmanager.SecretReplicationAutoArgs()),
)
gcp.secretmanager.SecretVersion(
    "github-signing-secret", secret=signing.id, secret_data=cfg.require_secret("signingSecret")
)
account = gcp.serviceaccount.Account("github-webhooks", account_id="github-webhooks")
can_read = gcp.secretmanager.SecretIamMember(
    "github-webhooks-reads-secret",
    secret_id=signing.id,
    role="roles/secretmanager.secretAccessor",
    member=account.member,
)
queue = gcp.pubsub.Topic("github-events", labels=labels)
gcp.pubsub.TopicIAMMember(
    "github-webhooks-publish", topic=queue.name, role="roles/pubsub.publisher", member=account.member
)

receiver = gcp.cloudfunctionsv2.Function(
    "github-webhooks",
    location=location,
    labels=labels,
    build_config=gcp.cloudfunctionsv2.FunctionBuildConfigArgs(
        runtime="nodejs20",
        entry_point="receive",
        source=gcp.cloudfunctionsv2.FunctionBuildConfigSourceArgs(
            storage_source=gcp.cloudfunctionsv2.FunctionBuildConfigSourceStorageSourceArgs(
                bucket=f"{project}-sources", object="github-webhooks.zip"
            )
        ),
    ),
    service_config=gcp.cloudfunctionsv2.FunctionServiceConfigArgs(
        ingress_settings="ALLOW_ALL",
        max_instance_count=10,
        service_account_email=account.email,
        environment_variables={"TOPIC": queue.id},
        secret_environment_variables=[
            gcp.cloudfunctionsv2.FunctionServiceConfigSecretEnvironmentVariableArgs(
                key="GITHUB_SECRET", project_id=project, secret=signing.secret_id, version="latest"
            )
        ],
    ),
    opts=pulumi.ResourceOptions(depends_on=[can_read]),
)
# GitHub cannot authenticate to Google: the function has to be public.
gcp.cloudfunctionsv2.FunctionIamMember(
    "github-webhooks-public",
    project=project,
    location=location,
    cloud_function=receiver.name,
    role="roles/cloudfunctions.invoker",
    member="allUsers",
)

pulumi.export("url", receiver.url)
