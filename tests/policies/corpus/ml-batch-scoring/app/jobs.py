"""The scoring function and the schedule that calls it."""

import pulumi
import pulumi_gcp as gcp


def scoring_function(
    name: str,
    *,
    region: str,
    account: gcp.serviceaccount.Account,
    secret: gcp.secretmanager.Secret,
    waits_for: list[pulumi.Resource],
    model_uri: str,
    labels: dict[str, str],
) -> gcp.cloudfunctionsv2.Function:
    return gcp.cloudfunctionsv2.Function(
        name,
        location=region,
        labels=labels,
        build_config={
            "runtime": "python312",
            "entry_point": "score_batch",
            "source": {"storage_source": {"bucket": "acme-ml-staging-sources", "object": f"{name}.zip"}},
        },
        service_config={
            "ingress_settings": "ALLOW_INTERNAL_ONLY",
            "max_instance_count": 10,
            "min_instance_count": 0,
            "available_memory": "4Gi",
            "available_cpu": "2",
            "timeout_seconds": 1800,
            "service_account_email": account.email,
            "environment_variables": {"MODEL_URI": model_uri},
            "secret_environment_variables": [
                {
                    "key": "FEATURE_STORE_TOKEN",
                    "project_id": "acme-ml-staging",
                    "secret": secret.secret_id,
                    "version": "latest",
                }
            ],
        },
        opts=pulumi.ResourceOptions(depends_on=waits_for),
    )


def every(
    name: str,
    schedule: str,
    function: gcp.cloudfunctionsv2.Function,
    caller: gcp.serviceaccount.Account,
    region: str,
) -> gcp.cloudscheduler.Job:
    gcp.cloudfunctionsv2.FunctionIamMember(
        f"{name}-invoker",
        location=region,
        cloud_function=function.name,
        role="roles/cloudfunctions.invoker",
        member=caller.member,
    )
    return gcp.cloudscheduler.Job(
        name,
        region=region,
        schedule=schedule,
        time_zone="Etc/UTC",
        http_target={
            "http_method": "POST",
            "uri": function.url,
            "oidc_token": {"service_account_email": caller.email, "audience": function.url},
        },
    )
