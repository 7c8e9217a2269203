"""The reference stack: one platform, the seed's translation validation, and the
workflows the stack config lists under `approvals:workflows`."""

from collections.abc import Mapping
from typing import Any

import pulumi

from approvals import (
    PLATFORM_OUTPUT,
    ApprovalPlatform,
    ApprovalPlatformArgs,
    ApprovalWorkflow,
    ApprovalWorkflowArgs,
    Collections,
    Escalation,
)

config = pulumi.Config("approvals")
gcp_config = pulumi.Config("gcp")
# How every workflow of the stack decides: auto (development only), single or quorum.
MODE = config.get("mode") or "single"
ESCALATION_KEYS = {"approvers", "timeoutSeconds", "quorum"}


def approval_policy(settings: Mapping[str, Any], where: str) -> dict[str, Any]:
    """ApprovalWorkflowArgs' policy arguments (who decides, and who may ask) from a workflow's
    settings (config keys, camelCase); `where` names the config entry in errors."""
    policy: dict[str, Any] = {"mode": MODE}
    for key, argument in (
        ("quorum", "quorum"),
        ("reminderEverySeconds", "reminder_every_seconds"),
        ("preventSelfApproval", "prevent_self_approval"),
        ("votesVisible", "votes_visible"),
        ("requesters", "requesters"),
        ("maxPendingPerRequester", "max_pending_per_requester"),
    ):
        if settings.get(key) is not None:
            policy[argument] = settings[key]
    escalation = settings.get("escalateTo")
    if escalation is not None:
        keys = set(escalation) if isinstance(escalation, dict) else set()
        if not {"approvers", "timeoutSeconds"} <= keys <= ESCALATION_KEYS:
            raise ValueError(
                f"{where}escalateTo: must be a map of approvers, timeoutSeconds and optionally quorum"
            )
        policy["escalate_to"] = Escalation(
            approvers=escalation["approvers"],
            timeout_seconds=escalation["timeoutSeconds"],
            quorum=escalation.get("quorum", 1),
        )
    return policy


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
        mail_webhook_url=config.get("mailWebhookUrl"),
        enable_apis=config.get_bool("enableApis") is not False,
        manage_sign_in_domains=config.get_bool("manageSignInDomains"),
        authorized_domains=config.get_object("authorizedDomains") or [],
        groups=config.get_object("groups") or {},
        # To share a database: {requests: team_requests, ...}; the others keep their names.
        collections=Collections.renamed(config.get_object("collections") or {}, "approvals:collections"),
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
        **approval_policy(
            {
                "quorum": config.get_int("quorum"),
                "reminderEverySeconds": config.get_int("reminderEverySeconds"),
                "preventSelfApproval": config.get_bool("preventSelfApproval"),
                "votesVisible": config.get("votesVisible"),
                "requesters": config.get_object("requesters"),
                "maxPendingPerRequester": config.get_int("maxPendingPerRequester"),
                "escalateTo": config.get_object("escalateTo"),
            },
            "approvals:",
        ),
    ),
)

WORKFLOW_KEYS = {
    "name",
    "template",
    "approvers",
    "timeoutSeconds",
    "params",
    "quorum",
    "reminderEverySeconds",
    "escalateTo",
    "preventSelfApproval",
    "votesVisible",
    "requesters",
    "maxPendingPerRequester",
}


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
for index, entry in enumerate(listed_workflows()):
    workflows[entry["name"]] = ApprovalWorkflow(
        entry["name"],
        ApprovalWorkflowArgs(
            platform=platform,
            template=entry["template"],
            approvers=entry["approvers"],
            timeout_seconds=entry.get("timeoutSeconds", 24 * 3600),
            params=entry.get("params", {}),
            **approval_policy(entry, f"approvals:workflows[{index}]."),
        ),
    )

pulumi.export("site_url", platform.site_url)
pulumi.export("start_url", platform.start_url)
pulumi.export("decide_url", platform.decide_url)
pulumi.export("cancel_url", platform.cancel_url)
pulumi.export("delegate_url", platform.delegate_url)
pulumi.export("link_url", platform.link_url)
pulumi.export("notify_url", platform.notify_url)
pulumi.export("database_name", platform.database_name)
pulumi.export("events_topic", platform.events_topic_name)
# What a workflow in another stack joins this platform by (ApprovalPlatform.from_stack_reference).
pulumi.export(PLATFORM_OUTPUT, platform.reference().outputs())
pulumi.export(
    "workflows",
    {
        name: {"workflow_name": wf.workflow_name, "service_account_email": wf.service_account_email}
        for name, wf in workflows.items()
    },
)
