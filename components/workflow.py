"""ApprovalWorkflow: one human-approval process, rendered from a template."""

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_gcp as gcp

from workflow_templates import Template, TemplateError, load_template, render

from . import iam
from .errors import InvalidArgumentError
from .naming import resource_id, service_account_id
from .platform import ApprovalPlatform
from .validation import check_bool, check_int_range, check_labels

# Workflows caps an execution at one year; an approval cannot wait longer.
MAX_TIMEOUT_SECONDS = 365 * 24 * 3600
CALL_LOG_LEVELS = ("LOG_ALL_CALLS", "LOG_ERRORS_ONLY", "LOG_NONE")
APPROVER = re.compile(r"^(group:[A-Za-z0-9._@+-]+|[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})$")
WORKFLOW_KEY = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
DEPLOY_TIME = "<known at deploy time>"
# What every approval workflow does, whatever its template: read and write its
# requests in Firestore, and write its logs.
BASE_ROLES = ("roles/logging.logWriter",)


@dataclass(kw_only=True)
class ApprovalWorkflowArgs:
    """One approval process. `platform`, `template` and `approvers` are required."""

    platform: ApprovalPlatform
    template: str | os.PathLike[str]
    """A template name from workflow_templates/ (see its catalog), or a path to your own YAML."""
    approvers: Sequence[str]
    """E-mail addresses, or `group:NAME` principals matched against the ID token's `groups` claim."""
    timeout_seconds: int = 24 * 3600
    params: Mapping[str, Any] = field(default_factory=dict)
    """Template parameters; they reach the workflow as user env vars."""
    workflow_key: str | None = None
    """The name callers pass to the start function; defaults to the component name."""
    service_account: gcp.serviceaccount.Account | None = None
    extra_roles: Sequence[str] = ()
    """Project roles your own template needs beyond the catalog's."""
    input_schema: Mapping[str, Any] | None = None
    """Overrides the template's input schema (what the start function accepts)."""
    description: str | None = None
    region: str | None = None
    call_log_level: str = "LOG_ERRORS_ONLY"
    deletion_protection: bool | None = None
    """Defaults to the platform's setting."""
    labels: Mapping[str, str] = field(default_factory=dict)

    def validate(self, name: str) -> Template:
        arg = "ApprovalWorkflowArgs"
        if not isinstance(self.platform, ApprovalPlatform):
            raise InvalidArgumentError(
                f"{arg}.platform", f"got {type(self.platform).__name__}", "an ApprovalPlatform"
            )
        try:
            template = load_template(self.template)
        except TemplateError as error:
            raise InvalidArgumentError(f"{arg}.template", str(error)) from error
        if isinstance(self.approvers, str) or not self.approvers:
            raise InvalidArgumentError(
                f"{arg}.approvers", "must be a non-empty list", "e-mails or group:NAME"
            )
        for approver in self.approvers:
            if not isinstance(approver, str) or not APPROVER.match(approver):
                raise InvalidArgumentError(
                    f"{arg}.approvers", f"{approver!r} is not valid", "an e-mail or group:NAME"
                )
        normalized = [a.lower() for a in self.approvers]
        if len(set(normalized)) != len(normalized):
            raise InvalidArgumentError(f"{arg}.approvers", f"{list(self.approvers)} has duplicates")
        check_int_range(f"{arg}.timeout_seconds", self.timeout_seconds, 1, MAX_TIMEOUT_SECONDS)
        key = self.workflow_key or name
        if not WORKFLOW_KEY.match(key):
            raise InvalidArgumentError(
                f"{arg}.workflow_key", f"{key!r} is not valid", "lower-case letters, digits and -, up to 63"
            )
        if self.call_log_level not in CALL_LOG_LEVELS:
            raise InvalidArgumentError(
                f"{arg}.call_log_level", f"unknown value {self.call_log_level!r}", ", ".join(CALL_LOG_LEVELS)
            )
        if self.deletion_protection is not None:
            check_bool(f"{arg}.deletion_protection", self.deletion_protection)
        for role in self.extra_roles:
            if not isinstance(role, str) or not role.startswith(("roles/", "projects/", "organizations/")):
                raise InvalidArgumentError(f"{arg}.extra_roles", f"{role!r} is not a role name", "roles/...")
        check_labels(f"{arg}.labels", self.labels)
        return template


class ApprovalWorkflow(pulumi.ComponentResource):
    """A Cloud Workflow with its own service account, registered for the start function."""

    workflow: gcp.workflows.Workflow
    workflow_id: pulumi.Output[str]
    workflow_name: pulumi.Output[str]
    workflow_key: str
    service_account_email: pulumi.Output[str]
    source_contents: str

    def __init__(
        self, name: str, args: ApprovalWorkflowArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        template = args.validate(name)
        platform = args.platform
        env = self._environment(args, template)
        try:
            # The renderer checks names and text; a value known only at deploy
            # time (the id of a database passed in) is checked as a stand-in.
            self.source_contents = render(
                template,
                {key: value if isinstance(value, str) else DEPLOY_TIME for key, value in env.items()},
            )
        except TemplateError as error:
            raise InvalidArgumentError("ApprovalWorkflowArgs.template", str(error)) from error
        super().__init__("approvals:index:ApprovalWorkflow", name, None, opts)

        self._platform = platform
        region = args.region or platform.region
        workflow_id = resource_id(name, max_length=64)
        self.workflow_key = args.workflow_key or name
        apis = platform.apis.require(*template.services)

        account = args.service_account or iam.service_account(
            f"{name}-sa",
            account_id=service_account_id("wf", name),
            display_name=f"approval workflow {name}",
            description=f"Runs the {template.name} approval workflow {name}.",
            project=platform.project,
            parent=self,
        )
        member = iam.member_of(account)
        grants: list[pulumi.Resource] = [*platform.grant_database_user(name, member)]
        grants.append(platform.grant_event_publisher(name, member))
        grants += iam.grant_project_roles(
            name,
            project=platform.project,
            member=member,
            grants=[iam.Grant(role) for role in (*BASE_ROLES, *template.roles, *args.extra_roles)],
            parent=self,
        )

        self.workflow = gcp.workflows.Workflow(
            name,
            name=workflow_id,
            project=platform.project,
            region=region,
            description=args.description or template.description,
            source_contents=self.source_contents,
            user_env_vars=env,
            service_account=account.id,
            call_log_level=args.call_log_level,
            deletion_protection=(
                platform.deletion_protection if args.deletion_protection is None else args.deletion_protection
            ),
            labels={
                **platform.labels,
                "approval-template": resource_id(template.name, max_length=63),
                **args.labels,
            },
            # Grants first: an execution started before its roles exist would fail.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*apis, *grants]),
        )
        self.workflow_id = self.workflow.name
        self.workflow_name = pulumi.Output.concat(
            "projects/", platform.project, "/locations/", region, "/workflows/", self.workflow.name
        )
        self.service_account_email = account.email

        input_schema = dict(args.input_schema if args.input_schema is not None else template.input_schema)
        # The start function looks workflows up here, so the platform never needs
        # redeploying when a workflow is added.
        self.registration = gcp.firestore.Document(
            f"{name}-registration",
            project=platform.project,
            database=platform.database_name,
            collection=platform.collections.workflows,
            document_id=self.workflow_key,
            fields=self.workflow_name.apply(
                lambda full_name: json.dumps(
                    {
                        "workflow_name": {"stringValue": full_name},
                        "template": {"stringValue": template.name},
                        "input_schema": {"stringValue": json.dumps(input_schema, sort_keys=True)},
                    },
                    sort_keys=True,
                )
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs(
            {
                "workflow_id": self.workflow_id,
                "workflow_name": self.workflow_name,
                "service_account_email": self.service_account_email,
            }
        )

    @staticmethod
    def _environment(args: ApprovalWorkflowArgs, template: Template) -> dict[str, pulumi.Input[str]]:
        try:
            params = template.env_for(args.params)
        except TemplateError as error:
            raise InvalidArgumentError("ApprovalWorkflowArgs.params", str(error)) from error
        return {
            **args.platform.workflow_env(),
            "APPROVERS": json.dumps([a.lower() for a in args.approvers]),
            "APPROVAL_TIMEOUT_SECONDS": str(args.timeout_seconds),
            "APPROVAL_TEMPLATE": template.name,
            **params,
        }

    def grant_invoke(self, key: str, member: pulumi.Input[str]) -> list[gcp.projects.IAMMember]:
        """Let `member` (a CI pipeline, say) start executions without the start function.

        Workflows grants roles on the project only, so this lets `member` start any
        workflow of the project; prefer the start function, which checks input.
        """
        return self._platform.grant_execution_starter(f"{self._name}-{key}", member)
