"""Small Pulumi programs that each break exactly one policy of the pack.

Each program is otherwise clean: labelled, hardened and scoped like the
reference stack, so that only the policy under test can fire. Every program
takes a scratch folder, where the ones that need a team's own workflow
template write it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_gcp as gcp

from approvals import ApprovalPlatform, ApprovalPlatformArgs, ApprovalWorkflow, ApprovalWorkflowArgs
from approvals.policies.check import Violation, check_graph
from approvals.testing import capture

PROJECT = "approvals-test"
CONFIG = {"gcp:project": PROJECT}
REGION = "europe-west1"
LABELS = {"app": "reports", "managed-by": "pulumi"}

POLICY_NAMES = frozenset(
    {
        "workflow-dedicated-service-account",
        "no-primitive-roles",
        "no-public-invokers",
        "project-roles-allow-list",
        "callback-await-bounded-and-handled",
        "callback-url-not-client-readable",
        "prod-data-protection",
        "firestore-rules-not-open",
        "bucket-access-hardened",
        "function-ingress-and-scaling",
        "required-labels",
        "prod-approver-count",
        "approval-mode-not-auto-in-prod",
        "apis-enabled-before-use",
        "names-within-google-limits",
        "replaced-delete-first",
        "secret-access-before-function",
        "indexes-one-at-a-time",
    }
)

# What the pack only warns about: the rest fails a check.
ADVISORY = frozenset({"required-labels", "indexes-one-at-a-time"})

Program = Callable[[Path], None]


@dataclass(frozen=True)
class BadProgram:
    """A program that violates `policy`, with a message naming every one of `names`."""

    id: str
    policy: str
    program: Program
    names: tuple[str, ...]
    stack: str = "dev"


def check(
    program: Program,
    folder: Path,
    *,
    stack: str = "dev",
    policy_config: Mapping[str, Any] | None = None,
) -> list[Violation]:
    """Capture `program` offline and apply the whole pack to its graph."""
    graph = capture(functools.partial(program, folder), stack=stack, config=CONFIG)
    return check_graph(graph, policy_config)


# --- Building blocks that pass every policy ------------------------------------------------


def platform(*, protected: bool = False) -> ApprovalPlatform:
    """The platform as a stack would declare it; `protected` is what prod needs."""
    return ApprovalPlatform(
        "approvals",
        ApprovalPlatformArgs(
            project=PROJECT, deletion_protection=protected, point_in_time_recovery=protected
        ),
    )


def approval_workflow(
    name: str,
    on: ApprovalPlatform,
    *,
    template: str | Path = "translation_validation",
    approvers: tuple[str, ...] = ("alice@example.com", "bob@example.com"),
    **extra: Any,
) -> ApprovalWorkflow:
    return ApprovalWorkflow(
        name, ApprovalWorkflowArgs(platform=on, template=template, approvers=list(approvers), **extra)
    )


def bucket(
    labels: Mapping[str, str] = LABELS, *, uniform: bool = True, prevention: str = "enforced"
) -> gcp.storage.Bucket:
    return gcp.storage.Bucket(
        "reports",
        name=f"{PROJECT}-reports",
        project=PROJECT,
        location="EU",
        uniform_bucket_level_access=uniform,
        public_access_prevention=prevention,
        labels=dict(labels),
    )


def function(
    *,
    ingress_settings: str | None = "ALLOW_INTERNAL_ONLY",
    max_instances: int | None = 5,
    opts: pulumi.ResourceOptions | None = None,
    **service: Any,
) -> gcp.cloudfunctionsv2.Function:
    """A function; `service` adds to its service config (its account, secrets, ...)."""
    return gcp.cloudfunctionsv2.Function(
        "reports",
        name="reports",
        project=PROJECT,
        location=REGION,
        labels=LABELS,
        build_config=gcp.cloudfunctionsv2.FunctionBuildConfigArgs(
            runtime="python311",
            entry_point="main",
            source=gcp.cloudfunctionsv2.FunctionBuildConfigSourceArgs(
                storage_source=gcp.cloudfunctionsv2.FunctionBuildConfigSourceStorageSourceArgs(
                    bucket=f"{PROJECT}-sources", object="reports.zip"
                )
            ),
        ),
        service_config=gcp.cloudfunctionsv2.FunctionServiceConfigArgs(
            ingress_settings=ingress_settings, max_instance_count=max_instances, **service
        ),
        opts=opts,
    )


def public_invoker(service: str) -> gcp.cloudrunv2.ServiceIamMember:
    return gcp.cloudrunv2.ServiceIamMember(
        f"{service}-public",
        project=PROJECT,
        location=REGION,
        name=service,
        role="roles/run.invoker",
        member="allUsers",
    )


def hosting(*services: str) -> gcp.firebase.HostingVersion:
    """A Firebase Hosting version whose rewrites send traffic to `services`."""
    site = gcp.firebase.HostingSite("site", project=PROJECT, site_id=f"{PROJECT}-site")
    return gcp.firebase.HostingVersion(
        "site-version",
        site_id=site.site_id,
        config=gcp.firebase.HostingVersionConfigArgs(
            rewrites=[
                gcp.firebase.HostingVersionConfigRewriteArgs(
                    glob=f"/{service}/**",
                    run=gcp.firebase.HostingVersionConfigRewriteRunArgs(service_id=service, region=REGION),
                )
                for service in services
            ]
        ),
    )


def service_account(account_id: str, *, after: Sequence[pulumi.Resource] = ()) -> gcp.serviceaccount.Account:
    return gcp.serviceaccount.Account(
        account_id,
        project=PROJECT,
        account_id=account_id,
        opts=pulumi.ResourceOptions(depends_on=list(after)),
    )


def project_role(key: str, account: gcp.serviceaccount.Account, role: str) -> gcp.projects.IAMMember:
    return gcp.projects.IAMMember(
        key,
        project=PROJECT,
        role=role,
        member=account.email.apply(lambda email: f"serviceAccount:{email}"),
    )


def rules(match_block: str) -> gcp.firebaserules.Ruleset:
    """A Firestore ruleset made of one collection's match block."""
    source = (
        "rules_version = '2';\n"
        "service cloud.firestore {\n"
        "  match /databases/{database}/documents {\n"
        f"{match_block}"
        "  }\n"
        "}\n"
    )
    return gcp.firebaserules.Ruleset(
        "rules",
        project=PROJECT,
        source=gcp.firebaserules.RulesetSourceArgs(
            files=[gcp.firebaserules.RulesetSourceFileArgs(name="firestore.rules", content=source)]
        ),
    )


# --- A team's own workflow template around one callback -----------------------------------

CALLBACK_TEMPLATE = """\
main:
  params: [input]
  steps:
    - create_callback:
        call: events.create_callback_endpoint
        args:
          http_callback_method: "POST"
        result: callback
{publish}{await_step}    - done:
        return: ${{callback_request.http_request.body}}
"""

HANDLED_AWAIT = """\
    - wait_for_callback:
        try:
          call: events.await_callback
          args:
            callback: ${{callback}}{timeout}
          result: callback_request
        except:
          as: e
          steps:
            - give_up_on_timeout:
                switch:
                  - condition: ${{"TimeoutError" in e.tags}}
                    steps:
                      - report_timeout:
                          return: null
            - propagate_error:
                raise: ${{e}}
"""

UNHANDLED_AWAIT = """\
    - wait_for_callback:
        call: events.await_callback
        args:
          callback: ${callback}
          timeout: 3600
        result: callback_request
"""

# Collections the platform's rules let signed-in people read (approvers and requesters).
# A template's own collection, which the rules let the requester read.
PUBLISH_TO_TEMPLATE_COLLECTION = """\
    - publish_callback:
        call: firestore_create_document
        args:
          collection: "approval_extensions/translation-validation/translations"
          document_id: ${input.request_id}
          values:
            url: ${callback.url}
"""

# The same, through the step library's path to a template's own collection.
PUBLISH_TO_OWN_TEMPLATE_COLLECTION = """\
    - locate_mine:
        call: template_collection
        args:
          name: "notes"
        result: notes
    - publish_callback:
        call: firestore_create_document
        args:
          collection: ${notes}
          document_id: ${input.request_id}
          values:
            url: ${callback.url}
"""

# The same, through the Firestore connector: the collection is under its parent.
PUBLISH_UNDER_AN_EXTENSION_VIA_CONNECTOR = """\
    - locate_parent:
        assign:
          - project: ${"projects/" + sys.get_env("GOOGLE_CLOUD_PROJECT_ID")}
          - documents: ${project + "/databases/(default)/documents/"}
          - parent: ${documents + sys.get_env("APPROVALS_EXTENSIONS_COLLECTION") + "/own-callback"}
    - publish_callback:
        call: googleapis.firestore.v1.projects.databases.documents.createDocument
        args:
          parent: ${parent}
          collectionId: "notes"
          documentId: ${input.request_id}
          body:
            fields:
              url:
                stringValue: ${callback.url}
"""

PUBLISH_TO_REQUESTS_VIA_ENV = """\
    - read_target:
        assign:
          - target: ${sys.get_env("APPROVALS_REQUESTS_COLLECTION")}
    - publish_callback:
        call: googleapis.firestore.v1.projects.databases.documents.createDocument
        args:
          parent: ${"projects/" + sys.get_env("GOOGLE_CLOUD_PROJECT_ID") + "/databases/(default)/documents"}
          collectionId: ${target}
          documentId: ${input.request_id}
          body:
            fields:
              url:
                stringValue: ${callback.url}
"""


def handled_await(timeout: str | None = "3600") -> str:
    return HANDLED_AWAIT.format(timeout="" if timeout is None else f"\n            timeout: {timeout}")


def own_template(folder: Path, *, publish: str = "", await_step: str | None = None) -> Path:
    path = folder / "own_callback.yaml"
    step = handled_await() if await_step is None else await_step
    path.write_text(CALLBACK_TEMPLATE.format(publish=publish, await_step=step))
    return path


def own_template_workflow(*, publish: str = "", await_step: str | None = None) -> Program:
    """A dev platform with one approval workflow from a team's own template."""

    def program(folder: Path) -> None:
        template = own_template(folder, publish=publish, await_step=await_step)
        approval_workflow("own-callback", platform(), template=template)

    return program


# --- One bad program per way of breaking a policy -------------------------------------------


def workflow_without_account(_: Path) -> None:
    gcp.workflows.Workflow(
        "nightly-report",
        name="nightly-report",
        project=PROJECT,
        region=REGION,
        labels=LABELS,
        source_contents="main:\n  steps:\n    - done:\n        return: ok\n",
    )


def workflows_sharing_an_account(_: Path) -> None:
    base = platform()
    # Created after the IAM API, as the platform's own accounts are: only the sharing is wrong.
    shared = service_account("wf-shared", after=base.apis.require("iam.googleapis.com"))
    approval_workflow("expenses", base, service_account=shared)
    approval_workflow("translations", base, service_account=shared)


def editor_on_project(_: Path) -> None:
    gcp.projects.IAMMember(
        "alice-editor", project=PROJECT, role="roles/editor", member="user:alice@example.com"
    )


def viewer_on_bucket(_: Path) -> None:
    gcp.storage.BucketIAMMember(
        "auditors-viewer",
        bucket=f"{PROJECT}-reports",
        role="roles/viewer",
        member="group:auditors@example.com",
    )


def public_services_one_behind_hosting(_: Path) -> None:
    hosting("public-api")
    public_invoker("public-api")
    public_invoker("internal-api")


def function_open_to_any_google_account(_: Path) -> None:
    gcp.cloudfunctionsv2.FunctionIamMember(
        "reports-everyone",
        project=PROJECT,
        location=REGION,
        cloud_function="reports",
        role="roles/cloudfunctions.invoker",
        member="allAuthenticatedUsers",
    )


def workflow_account_with_foreign_role(_: Path) -> None:
    account = service_account("wf-reports")
    project_role("reports-log-writer", account, "roles/logging.logWriter")
    project_role("reports-storage-admin", account, "roles/storage.admin")


def workflow_account_publishing_project_wide(_: Path) -> None:
    """Workflows publish on their platform's topic; a project-wide publisher role is too much."""
    project_role("reports-publisher", service_account("wf-reports"), "roles/pubsub.publisher")


def web_account_with_a_role(_: Path) -> None:
    project_role("reports-web-datastore", service_account("reports-web"), "roles/datastore.user")


def open_rules(condition: str) -> Program:
    def program(_: Path) -> None:
        rules(f"    match /reports/{{reportId}} {{\n      allow read, write{condition};\n    }}\n")

    return program


def unhardened_bucket(*, uniform: bool, prevention: str) -> Program:
    def program(_: Path) -> None:
        bucket(uniform=uniform, prevention=prevention)

    return program


def loose_function(**settings: Any) -> Program:
    def program(_: Path) -> None:
        function(**settings)

    return program


def bucket_labelled(labels: Mapping[str, str]) -> Program:
    def program(_: Path) -> None:
        bucket(labels)

    return program


def prod_platform(*, deletion_protection: bool, point_in_time_recovery: bool) -> Program:
    def program(_: Path) -> None:
        ApprovalPlatform(
            "approvals",
            ApprovalPlatformArgs(
                project=PROJECT,
                deletion_protection=deletion_protection,
                point_in_time_recovery=point_in_time_recovery,
            ),
        )

    return program


def unprotected_workflow(_: Path) -> None:
    approval_workflow("payroll", platform(protected=True), deletion_protection=False)


def single_approver(_: Path) -> None:
    approval_workflow("payroll", platform(protected=True), approvers=("alice@example.com",))


def auto_approval(_: Path) -> None:
    approval_workflow("payroll", platform(protected=True), mode="auto")


BAD_PROGRAMS: tuple[BadProgram, ...] = (
    BadProgram(
        "workflow-without-service-account",
        "workflow-dedicated-service-account",
        workflow_without_account,
        ("nightly-report",),
    ),
    BadProgram(
        "workflows-sharing-a-service-account",
        "workflow-dedicated-service-account",
        workflows_sharing_an_account,
        ("wf-shared",),
    ),
    BadProgram(
        "editor-on-project",
        "no-primitive-roles",
        editor_on_project,
        ("roles/editor", "user:alice@example.com"),
    ),
    BadProgram(
        "viewer-on-bucket",
        "no-primitive-roles",
        viewer_on_bucket,
        ("roles/viewer", "group:auditors@example.com"),
    ),
    BadProgram(
        "all-users-on-service-not-behind-hosting",
        "no-public-invokers",
        public_services_one_behind_hosting,
        ("internal-api", "allUsers"),
    ),
    BadProgram(
        "all-authenticated-users-on-function",
        "no-public-invokers",
        function_open_to_any_google_account,
        ("reports", "allAuthenticatedUsers"),
    ),
    BadProgram(
        "workflow-account-with-foreign-role",
        "project-roles-allow-list",
        workflow_account_with_foreign_role,
        ("roles/storage.admin", "wf-reports"),
    ),
    BadProgram(
        "workflow-account-publishing-project-wide",
        "project-roles-allow-list",
        workflow_account_publishing_project_wide,
        ("roles/pubsub.publisher", "wf-reports"),
    ),
    BadProgram(
        "web-account-with-any-role",
        "project-roles-allow-list",
        web_account_with_a_role,
        ("roles/datastore.user", "reports-web"),
    ),
    BadProgram(
        "await-without-timeout",
        "callback-await-bounded-and-handled",
        own_template_workflow(await_step=handled_await(timeout=None)),
        ("wait_for_callback",),
    ),
    BadProgram(
        "await-longer-than-30-days",
        "callback-await-bounded-and-handled",
        own_template_workflow(await_step=handled_await(timeout=str(45 * 24 * 3600))),
        ("wait_for_callback",),
    ),
    BadProgram(
        "await-without-timeout-handler",
        "callback-await-bounded-and-handled",
        own_template_workflow(await_step=UNHANDLED_AWAIT),
        ("wait_for_callback",),
    ),
    BadProgram(
        "callback-url-in-readable-literal-collection",
        "callback-url-not-client-readable",
        own_template_workflow(publish=PUBLISH_TO_TEMPLATE_COLLECTION),
        ("approval_extensions",),
    ),
    BadProgram(
        "callback-url-in-readable-template-collection",
        "callback-url-not-client-readable",
        own_template_workflow(publish=PUBLISH_TO_OWN_TEMPLATE_COLLECTION),
        ("approval_extensions",),
    ),
    BadProgram(
        "callback-url-under-a-readable-parent",
        "callback-url-not-client-readable",
        own_template_workflow(publish=PUBLISH_UNDER_AN_EXTENSION_VIA_CONNECTOR),
        ("approval_extensions",),
    ),
    BadProgram(
        "callback-url-in-readable-collection-from-env",
        "callback-url-not-client-readable",
        own_template_workflow(publish=PUBLISH_TO_REQUESTS_VIA_ENV),
        ("approval_requests",),
    ),
    BadProgram(
        "prod-database-without-delete-protection",
        "prod-data-protection",
        prod_platform(deletion_protection=False, point_in_time_recovery=True),
        ("DELETE_PROTECTION_ENABLED",),
        stack="prod",
    ),
    BadProgram(
        "prod-database-without-point-in-time-recovery",
        "prod-data-protection",
        prod_platform(deletion_protection=True, point_in_time_recovery=False),
        ("POINT_IN_TIME_RECOVERY_ENABLED",),
        stack="prod",
    ),
    BadProgram(
        "prod-workflow-without-deletion-protection",
        "prod-data-protection",
        unprotected_workflow,
        ("deletionProtection",),
        stack="prod",
    ),
    BadProgram("rules-if-true", "firestore-rules-not-open", open_rules(": if true"), ("reports",)),
    BadProgram("rules-without-condition", "firestore-rules-not-open", open_rules(""), ("reports",)),
    BadProgram(
        "rules-in-test-mode",
        "firestore-rules-not-open",
        open_rules(": if request.time < timestamp.date(2030, 1, 1)"),
        ("reports",),
    ),
    BadProgram(
        "bucket-without-uniform-access",
        "bucket-access-hardened",
        unhardened_bucket(uniform=False, prevention="enforced"),
        ("uniformBucketLevelAccess",),
    ),
    BadProgram(
        "bucket-with-inherited-public-access-prevention",
        "bucket-access-hardened",
        unhardened_bucket(uniform=True, prevention="inherited"),
        ("publicAccessPrevention",),
    ),
    BadProgram(
        "function-without-ingress-settings",
        "function-ingress-and-scaling",
        loose_function(ingress_settings=None),
        ("ingressSettings",),
    ),
    BadProgram(
        "function-without-instance-cap",
        "function-ingress-and-scaling",
        loose_function(max_instances=None),
        ("maxInstanceCount",),
    ),
    BadProgram(
        "function-above-instance-limit",
        "function-ingress-and-scaling",
        loose_function(max_instances=500),
        ("500", "100"),
    ),
    BadProgram("bucket-without-labels", "required-labels", bucket_labelled({}), ("app", "managed-by")),
    BadProgram(
        "bucket-without-managed-by", "required-labels", bucket_labelled({"app": "reports"}), ("managed-by",)
    ),
    BadProgram(
        "prod-workflow-with-one-approver", "prod-approver-count", single_approver, ("payroll",), stack="prod"
    ),
    BadProgram(
        "prod-workflow-approving-automatically",
        "approval-mode-not-auto-in-prod",
        auto_approval,
        ("payroll", "auto", "approvals:mode"),
        stack="prod",
    ),
)


def bad_program(case_id: str) -> BadProgram:
    return next(case for case in BAD_PROGRAMS if case.id == case_id)
