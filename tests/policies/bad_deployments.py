"""Programs in Pulumi's own style (raw pulumi_gcp) that would fail to deploy, one rule each.

Each is otherwise clean, so only the deployability rule under test fires, in the pack
and in the fresh-project rehearsal alike.
"""

from pathlib import Path

import pulumi
import pulumi_gcp as gcp

from tests.policies.bad_programs import PROJECT, BadProgram, function, service_account


def api(service: str) -> gcp.projects.Service:
    return gcp.projects.Service(service.split(".")[0], project=PROJECT, service=service)


def account_before_iam_api(_: Path) -> None:
    api("iam.googleapis.com")
    service_account("reports-runner")  # created at once, beside the Service that enables IAM


def account_id_too_long(_: Path) -> None:
    service_account("reports-runner-for-the-finance-team")


def release_replaced_create_first(_: Path) -> None:
    gcp.firebaserules.Release(
        "firestore-rules",
        name="cloud.firestore",
        project=PROJECT,
        ruleset_name=f"projects/{PROJECT}/rulesets/reports-v2",
    )


def secret_read_before_access(_: Path) -> None:
    secret = reports_key()
    account = service_account("reports-fn")
    grant_access(secret, account)
    reads_secret(account, secret)


def reports_key(opts: pulumi.ResourceOptions | None = None) -> gcp.secretmanager.Secret:
    return gcp.secretmanager.Secret(
        "reports-key",
        secret_id="reports-key",
        project=PROJECT,
        replication=gcp.secretmanager.SecretReplicationArgs(
            auto=gcp.secretmanager.SecretReplicationAutoArgs()
        ),
        opts=opts,
    )


def grant_access(
    secret: gcp.secretmanager.Secret, account: gcp.serviceaccount.Account
) -> gcp.secretmanager.SecretIamMember:
    return gcp.secretmanager.SecretIamMember(
        "reports-key-access",
        project=PROJECT,
        secret_id=secret.secret_id,
        role="roles/secretmanager.secretAccessor",
        member=account.email.apply(lambda email: f"serviceAccount:{email}"),
    )


def reads_secret(
    account: gcp.serviceaccount.Account,
    secret: gcp.secretmanager.Secret,
    opts: pulumi.ResourceOptions | None = None,
) -> gcp.cloudfunctionsv2.Function:
    """A function running as `account` with `secret` in its environment."""
    return function(
        service_account_email=account.email,
        secret_environment_variables=[
            gcp.cloudfunctionsv2.FunctionServiceConfigSecretEnvironmentVariableArgs(
                key="REPORTS_KEY", project_id=PROJECT, secret=secret.secret_id, version="latest"
            )
        ],
        opts=opts,
    )


def index_on(field: str, opts: pulumi.ResourceOptions | None = None) -> gcp.firestore.Index:
    """Reports by `field`, newest first."""
    return gcp.firestore.Index(
        f"reports-by-{field}",
        project=PROJECT,
        collection="reports",
        fields=[
            gcp.firestore.IndexFieldArgs(field_path=field, order="ASCENDING"),
            gcp.firestore.IndexFieldArgs(field_path="created", order="DESCENDING"),
        ],
        opts=opts,
    )


def indexes_at_once(_: Path) -> None:
    index_on("owner")
    index_on("team")


def deploys_on_a_fresh_project(_: Path) -> None:
    """The pieces above, done right: each waits for its APIs, access and predecessor."""
    apis = [
        api(service)
        for service in (
            "iam.googleapis.com",
            "secretmanager.googleapis.com",
            "firebaserules.googleapis.com",
            "firestore.googleapis.com",
            "cloudfunctions.googleapis.com",
            "cloudbuild.googleapis.com",
            "artifactregistry.googleapis.com",
            "run.googleapis.com",
        )
    ]
    after_apis = pulumi.ResourceOptions(depends_on=apis)
    account = gcp.serviceaccount.Account(
        "reports-fn", project=PROJECT, account_id="reports-fn", opts=after_apis
    )
    secret = reports_key(after_apis)
    access = grant_access(secret, account)
    reads_secret(account, secret, pulumi.ResourceOptions(depends_on=[*apis, access]))
    gcp.firebaserules.Release(
        "firestore-rules",
        name="cloud.firestore",
        project=PROJECT,
        ruleset_name=f"projects/{PROJECT}/rulesets/reports-v2",
        opts=pulumi.ResourceOptions(depends_on=apis, delete_before_replace=True),
    )
    previous: list[pulumi.Resource] = []
    for field in ("owner", "team"):
        previous = [index_on(field, pulumi.ResourceOptions(depends_on=[*apis, *previous]))]


DEPLOYABILITY_PROGRAMS: tuple[BadProgram, ...] = (
    BadProgram(
        "service-account-beside-the-iam-api",
        "apis-enabled-before-use",
        account_before_iam_api,
        ("reports-runner", "iam.googleapis.com"),
    ),
    BadProgram(
        "service-account-id-of-35-characters",
        "names-within-google-limits",
        account_id_too_long,
        ("accountId", "reports-runner-for-the-finance-team", "35 characters", "6-30"),
    ),
    BadProgram(
        "rules-release-replaced-create-first",
        "replaced-delete-first",
        release_replaced_create_first,
        ("firestore-rules", "delete_before_replace=True"),
    ),
    BadProgram(
        "function-reading-a-secret-before-its-access",
        "secret-access-before-function",
        secret_read_before_access,
        ("reports", "reports-key", "reports-fn@"),
    ),
    BadProgram(
        "two-indexes-at-once",
        "indexes-one-at-a-time",
        indexes_at_once,
        ("reports-by-team", "reports-by-owner"),
    ),
)
