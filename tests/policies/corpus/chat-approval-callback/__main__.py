from pathlib import Path

import pulumi
import pulumi_gcp as gcp

config = pulumi.Config()
labels = {"app": "chat-approval", "managed-by": "pulumi"}

account = gcp.serviceaccount.Account("wf-failover-approval", account_id="wf-failover-approval")
gcp.projects.IAMMember(
    "wf-failover-approval-logs",
    project=pulumi.Config("gcp").require("project"),
    role="roles/logging.logWriter",
    member=account.member,
)

workflow = gcp.workflows.Workflow(
    "failover-approval",
    region="europe-west1",
    description="Failover behind a chat approval",
    service_account=account.email,
    source_contents=(Path(__file__).parent / "approval.yaml").read_text(),
    user_env_vars={"CHAT_WEBHOOK": config.require("chatWebhook")},
    deletion_protection=False,
    labels=labels,
)

pulumi.export("workflow_name", workflow.name)
