"""One workflow per pipeline, each with an account of its own."""

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp

TEMPLATE = """\
- fetch:
    call: http.get
    args:
      url: {endpoint}
      auth:
        type: OIDC
      timeout: 1800
    result: page
- store:
    call: googleapis.bigquery.v2.tabledata.insertAll
    args:
      projectId: ${{sys.get_env("GOOGLE_CLOUD_PROJECT_ID")}}
      datasetId: raw
      tableId: {table}
      body:
        rows: ${{page.body.rows}}
- finish:
    return: ${{len(page.body.rows)}}
"""


@dataclass(frozen=True)
class Pipeline:
    name: str
    endpoint: str
    call_log_level: str = "LOG_ERRORS_ONLY"
    deletion_protection: bool = True

    @classmethod
    def from_config(cls, entry: dict[str, Any]) -> "Pipeline":
        return cls(
            name=entry["name"],
            endpoint=entry["endpoint"],
            call_log_level=entry.get("callLogLevel", "LOG_ERRORS_ONLY"),
            deletion_protection=entry.get("deletionProtection", True),
        )


def deploy(pipeline: Pipeline, project: str, region: str, labels: dict[str, str]) -> gcp.workflows.Workflow:
    account = gcp.serviceaccount.Account(f"wf-{pipeline.name}", account_id=f"wf-{pipeline.name}")
    gcp.projects.IAMMember(
        f"wf-{pipeline.name}-logs", project=project, role="roles/logging.logWriter", member=account.member
    )
    gcp.bigquery.DatasetIamMember(
        f"wf-{pipeline.name}-raw-editor",
        dataset_id="raw",
        role="roles/bigquery.dataEditor",
        member=account.member,
    )
    return gcp.workflows.Workflow(
        pipeline.name,
        name=pipeline.name,
        region=region,
        service_account=account.id,
        call_log_level=pipeline.call_log_level,
        source_contents=TEMPLATE.format(endpoint=pipeline.endpoint, table=pipeline.name.replace("-", "_")),
        labels={**labels, "pipeline": pipeline.name},
        deletion_protection=pipeline.deletion_protection,
        opts=pulumi.ResourceOptions(depends_on=[account]),
    )
