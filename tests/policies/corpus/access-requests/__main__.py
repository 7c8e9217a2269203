import json
from pathlib import Path

import pulumi
import pulumi_gcp as gcp

HERE = Path(__file__).parent
config = pulumi.Config()
gcp_config = pulumi.Config("gcp")
project, region = gcp_config.require("project"), gcp_config.require("region")
labels = {"app": "access-requests", "managed-by": "pulumi", "data": "restricted"}

database = gcp.firestore.Database(
    "access-db",
    name="(default)",
    location_id="eur3",
    type="FIRESTORE_NATIVE",
    delete_protection_state="DELETE_PROTECTION_ENABLED",
    point_in_time_recovery_enablement="POINT_IN_TIME_RECOVERY_ENABLED",
    opts=pulumi.ResourceOptions(protect=True),
)
ruleset = gcp.firebaserules.Ruleset(
    "access-rules",
    project=project,
    source=gcp.firebaserules.RulesetSourceArgs(
        files=[
            gcp.firebaserules.RulesetSourceFileArgs(
                name="firestore.rules", content=(HERE / "firestore.rules").read_text()
            )
        ]
    ),
    opts=pulumi.ResourceOptions(depends_on=[database]),
)
gcp.firebaserules.Release(
    "access-rules",
    name="cloud.firestore",
    project=project,
    ruleset_name=ruleset.name,
    opts=pulumi.ResourceOptions(delete_before_replace=True),
)
by_status = gcp.firestore.Index(
    "requests-by-status",
    database=database.name,
    collection="access_requests",
    fields=[
        gcp.firestore.IndexFieldArgs(field_path="status", order="ASCENDING"),
        gcp.firestore.IndexFieldArgs(field_path="createdAt", order="DESCENDING"),
    ],
)
gcp.firestore.Index(
    "requests-by-requester",
    database=database.name,
    collection="access_requests",
    fields=[
        gcp.firestore.IndexFieldArgs(field_path="requester", order="ASCENDING"),
        gcp.firestore.IndexFieldArgs(field_path="createdAt", order="DESCENDING"),
    ],
    opts=pulumi.ResourceOptions(depends_on=[by_status]),
)

events = gcp.pubsub.Topic("access-events", name="access-events", labels=labels)
account = gcp.serviceaccount.Account("wf-access-requests", account_id="wf-access-requests")
for role in ("roles/datastore.user", "roles/logging.logWriter"):
    gcp.projects.IAMMember(
        f"wf-access-requests-{role.rsplit('.', 1)[-1].lower()}",
        project=project,
        role=role,
        member=account.member,
    )
gcp.pubsub.TopicIAMMember(
    "wf-access-requests-publishes", topic=events.name, role="roles/pubsub.publisher", member=account.member
)

approvers = config.require_object("approvers")
workflow = gcp.workflows.Workflow(
    "access-request",
    name="access-request",
    region=region,
    service_account=account.email,
    source_contents=(HERE / "workflow.yaml").read_text(),
    user_env_vars={
        "APPROVERS": json.dumps(approvers),
        "APPROVAL_POLICY": json.dumps({"mode": "quorum", "quorum": 2}),
        "WAIT_SECONDS": str(config.require_int("waitSeconds")),
        "EVENTS_TOPIC": events.id,
    },
    call_log_level="LOG_ALL_CALLS",
    deletion_protection=True,
    labels=labels,
    opts=pulumi.ResourceOptions(protect=True),
)

pulumi.export("workflow", workflow.id)
