"""The reference stack: one platform, the seed's translation validation, and the
workflows the stack config lists under `approvals:workflows`."""

import pulumi

from components import ApprovalPlatform, ApprovalPlatformArgs, ApprovalWorkflow, ApprovalWorkflowArgs

config = pulumi.Config("approvals")
gcp_config = pulumi.Config("gcp")

platform = ApprovalPlatform(
    "approvals",
    ApprovalPlatformArgs(
        project=gcp_config.get("project"),
        region=config.get("region") or gcp_config.get("region") or "europe-west1",
        database_id=config.get("databaseId") or "(default)",
        deletion_protection=config.get_bool("deletionProtection") or False,
        point_in_time_recovery=config.get_bool("pointInTimeRecovery") or False,
        min_instances=config.get_int("minInstances") or 0,
        max_instances=config.get_int("maxInstances") or 10,
        hosting_site_id=config.get("hostingSiteId"),
        labels=config.get_object("labels") or {},
    ),
)

translation = ApprovalWorkflow(
    "translation-validation",
    ApprovalWorkflowArgs(
        platform=platform,
        template="translation_validation",
        approvers=config.require_object("approvers"),
        timeout_seconds=config.get_int("timeoutSeconds") or 3600,
        params={
            "SOURCE_LANGUAGE": config.get("sourceLanguage") or "en",
            "TARGET_LANGUAGE": config.get("targetLanguage") or "fr",
        },
    ),
)

WORKFLOW_KEYS = {"name", "template", "approvers", "timeoutSeconds", "params"}


def listed_workflows() -> list[dict]:
    """`approvals:workflows` entries, each checked so a typo names its key."""
    entries = config.get_object("workflows") or []
    if not isinstance(entries, list):
        raise ValueError("approvals:workflows: must be a list of {name, template, approvers, ...}")
    for index, entry in enumerate(entries):
        where = f"approvals:workflows[{index}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: must be a map with keys {sorted(WORKFLOW_KEYS)}")
        missing = sorted({"name", "template", "approvers"} - set(entry))
        unknown = sorted(set(entry) - WORKFLOW_KEYS)
        if missing or unknown:
            raise ValueError(
                f"{where}: missing {missing}, unknown {unknown} (allowed keys: {sorted(WORKFLOW_KEYS)})"
            )
    return entries


workflows = {"translation-validation": translation}
for entry in listed_workflows():
    workflows[entry["name"]] = ApprovalWorkflow(
        entry["name"],
        ApprovalWorkflowArgs(
            platform=platform,
            template=entry["template"],
            approvers=entry["approvers"],
            timeout_seconds=entry.get("timeoutSeconds", 24 * 3600),
            params=entry.get("params", {}),
        ),
    )

pulumi.export("site_url", platform.site_url)
pulumi.export("start_url", platform.start_url)
pulumi.export("decide_url", platform.decide_url)
pulumi.export("database_name", platform.database_name)
pulumi.export("events_topic", platform.events_topic_name)
pulumi.export(
    "workflows",
    {
        name: {"workflow_name": wf.workflow_name, "service_account_email": wf.service_account_email}
        for name, wf in workflows.items()
    },
)
