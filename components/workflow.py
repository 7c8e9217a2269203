"""ApprovalWorkflow: one human-approval process, rendered from a template."""

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_gcp as gcp

from approvals.workflow_templates import Template, TemplateError, load_template, render
from approvals.workflow_templates.options import VOTES_VISIBLE

from . import iam
from .apis import GoogleApis
from .errors import InvalidArgumentError
from .functions.common import documents
from .groups import check_declared, group_principals
from .naming import resource_id, service_account_id, workflow_path
from .outputs import register_declared
from .platform import ApprovalPlatform
from .reference import PlatformReference
from .requesters import DEFAULT_MAX_PENDING, MAX_PENDING_LIMIT, check_requesters, default_requesters
from .validation import APPROVER, check_bool, check_input, check_int_range, check_labels, check_region

# Workflows caps an execution at one year; an approval cannot wait longer.
MAX_TIMEOUT_SECONDS = 365 * 24 * 3600
CALL_LOG_LEVELS = ("LOG_ALL_CALLS", "LOG_ERRORS_ONLY", "LOG_NONE")
APPROVAL_MODES = ("auto", "single", "quorum")
"""auto approves at once (no person); single: one approval decides; quorum: `quorum` approvals do."""
MIN_REMINDER_SECONDS = 60
# A quorum counts people; more than this many votes on one request is not an approval process.
MAX_QUORUM = 1000
WORKFLOW_KEY = re.compile(r"^[a-z][a-z0-9-]{0,62}\Z")
DEPLOY_TIME = "<known at deploy time>"
# What every approval workflow does, whatever its template: read and write its
# requests in Firestore, and write its logs.
BASE_ROLES = ("roles/logging.logWriter",)


def check_approvers(argument: str, approvers: object) -> list[str]:
    """E-mails or group:NAME, at least one, no duplicates (case-insensitive); lower-cased."""
    if isinstance(approvers, str) or not isinstance(approvers, Sequence) or not approvers:
        raise InvalidArgumentError(argument, "must be a non-empty list", "e-mails or group:NAME")
    for approver in approvers:
        if not isinstance(approver, str) or not APPROVER.match(approver):
            raise InvalidArgumentError(argument, f"{approver!r} is not valid", "an e-mail or group:NAME")
    normalized = [a.lower() for a in approvers]
    if len(set(normalized)) != len(normalized):
        raise InvalidArgumentError(argument, f"{list(approvers)} has duplicates")
    return normalized


def check_quorum(argument: str, quorum: object, approvers: Sequence[str]) -> int:
    """A count of votes the approvers can reach: with no group, at most one vote each."""
    count = check_int_range(argument, quorum, 1, MAX_QUORUM)
    people = [a for a in approvers if not a.lower().startswith("group:")]
    if len(people) == len(approvers) and count > len(people):
        raise InvalidArgumentError(
            argument,
            f"{count} could never be reached by {len(people)} approver(s) and no group",
            f"an integer from 1 to {len(people)}, or a group among the approvers",
        )
    return count


@dataclass(frozen=True, kw_only=True)
class Escalation:
    """Who decides once the first deadline passes, and for how long."""

    approvers: Sequence[str]
    """E-mail addresses or `group:NAME` principals; they replace the workflow's approvers."""
    timeout_seconds: int
    quorum: int = 1
    """Approvals needed from `approvers` (in "single" mode, one is enough)."""

    def policy(self) -> dict[str, Any]:
        return {
            "approvers": [a.lower() for a in self.approvers],
            "quorum": self.quorum,
            "timeout_seconds": self.timeout_seconds,
        }


@dataclass(kw_only=True)
class ApprovalWorkflowArgs:
    """One approval process. `platform`, `template` and `approvers` are required."""

    platform: ApprovalPlatform | PlatformReference
    """A platform of this stack, or one another stack deployed (`ApprovalPlatform.from_stack_reference`)."""
    template: str | os.PathLike[str]
    """A template name from workflow_templates/ (see its catalog), or a path to your own YAML."""
    approvers: Sequence[str]
    """E-mail addresses, or `group:NAME` principals: NAME must be declared in the platform's `groups`."""
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
    region: pulumi.Input[str] | None = None
    """Defaults to the platform's region."""
    call_log_level: str = "LOG_ERRORS_ONLY"
    deletion_protection: bool | None = None
    """Defaults to the platform's setting."""
    labels: Mapping[str, str] = field(default_factory=dict)
    mode: str = "single"
    """auto (approved at once, by nobody: development only), single (one approval decides) or quorum."""
    quorum: int = 1
    """Approvals needed in "quorum" mode."""
    rejection_quorum: int = 1
    """Rejections that reject the request; 1: any rejection vetoes it."""
    reminder_every_seconds: int | None = None
    """Remind the approvers this often while the request waits; None: never."""
    escalate_to: Escalation | None = None
    """Who decides when nobody did by `timeout_seconds`; None: the request expires then."""
    prevent_self_approval: bool = True
    """The requester may not vote on their own request."""
    votes_visible: str = "always"
    """When approvers see who voted how: "always" (as they vote) or "after_decision" (counts only
    until the request is decided)."""
    requesters: Sequence[str] | None = None
    """Who may ask through the start function: e-mails, `group:NAME` (declared groups) and
    `domain:example.com`. None: every domain the approvers' addresses are in (an approver at
    gmail.com makes this required)."""
    max_pending_per_requester: int = DEFAULT_MAX_PENDING
    """How many of one requester's requests to this workflow may wait for a decision at once."""

    def validate(self, name: str) -> Template:
        arg = "ApprovalWorkflowArgs"
        if not isinstance(self.platform, ApprovalPlatform | PlatformReference):
            raise InvalidArgumentError(
                f"{arg}.platform",
                f"got {type(self.platform).__name__}",
                "an ApprovalPlatform, or a PlatformReference (ApprovalPlatform.from_stack_reference)",
            )
        try:
            template = load_template(self.template)
        except TemplateError as error:
            raise InvalidArgumentError(f"{arg}.template", str(error)) from error
        approvers = check_approvers(f"{arg}.approvers", self.approvers)
        check_int_range(f"{arg}.timeout_seconds", self.timeout_seconds, 1, MAX_TIMEOUT_SECONDS)
        self._validate_policy(approvers)
        groups = self.platform_reference().groups
        if not isinstance(groups, pulumi.Output):
            self.requesters_for(groups)
        check_int_range(
            f"{arg}.max_pending_per_requester", self.max_pending_per_requester, 1, MAX_PENDING_LIMIT
        )
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

    def _validate_policy(self, approvers: list[str]) -> None:
        arg = "ApprovalWorkflowArgs"
        if self.mode not in APPROVAL_MODES:
            raise InvalidArgumentError(
                f"{arg}.mode", f"unknown value {self.mode!r}", ", ".join(APPROVAL_MODES)
            )
        check_quorum(f"{arg}.quorum", self.quorum, approvers)
        check_quorum(f"{arg}.rejection_quorum", self.rejection_quorum, approvers)
        if self.reminder_every_seconds is not None:
            where = f"{arg}.reminder_every_seconds"
            check_int_range(where, self.reminder_every_seconds, MIN_REMINDER_SECONDS, MAX_TIMEOUT_SECONDS)
            if self.reminder_every_seconds >= self.timeout_seconds:
                raise InvalidArgumentError(
                    where,
                    f"{self.reminder_every_seconds} is not below timeout_seconds {self.timeout_seconds}",
                    "None, or fewer seconds than timeout_seconds (the request expires before any reminder)",
                )
        if self.escalate_to is not None:
            where = f"{arg}.escalate_to"
            if not isinstance(self.escalate_to, Escalation):
                raise InvalidArgumentError(where, f"got {type(self.escalate_to).__name__}", "an Escalation")
            escalation_approvers = check_approvers(f"{where}.approvers", self.escalate_to.approvers)
            # The whole wait, first deadline and escalation, is one execution.
            check_int_range(
                f"{where}.timeout_seconds",
                self.escalate_to.timeout_seconds,
                1,
                MAX_TIMEOUT_SECONDS - self.timeout_seconds,
            )
            check_quorum(f"{where}.quorum", self.escalate_to.quorum, escalation_approvers)
        check_bool(f"{arg}.prevent_self_approval", self.prevent_self_approval)
        if self.votes_visible not in VOTES_VISIBLE:
            raise InvalidArgumentError(
                f"{arg}.votes_visible", f"unknown value {self.votes_visible!r}", ", ".join(VOTES_VISIBLE)
            )

    def platform_reference(self) -> PlatformReference:
        """The platform as the workflow uses it, live or referenced."""
        if isinstance(self.platform, ApprovalPlatform):
            return self.platform.reference()
        return self.platform

    def requesters_for(self, groups: Mapping[str, Sequence[str]]) -> list[str]:
        """`requesters` checked and lower-cased, or their default, once the platform's `groups` are known.

        Also where every `group:NAME` the workflow names is checked against them: a
        group nobody declared has no members, so its requests could never be decided.
        InvalidArgumentError otherwise.
        """
        arg = "ApprovalWorkflowArgs"
        check_declared(f"{arg}.approvers", [a.lower() for a in self.approvers], groups)
        escalation = self.escalate_to.approvers if self.escalate_to else ()
        check_declared(f"{arg}.escalate_to.approvers", escalation, groups)
        check_declared(f"{arg}.params", group_principals(self.params), groups)
        if self.requesters is not None:
            return check_requesters(f"{arg}.requesters", self.requesters, groups)
        return default_requesters(f"{arg}.requesters", [*self.approvers, *escalation], groups)

    def approval_policy(self) -> str:
        """The APPROVAL_POLICY env var the step library reads: compact JSON."""
        policy = {
            "mode": self.mode,
            "quorum": self.quorum,
            "rejection_quorum": self.rejection_quorum,
            "reminder_every_seconds": self.reminder_every_seconds,
            "escalate_to": self.escalate_to.policy() if self.escalate_to else None,
            "prevent_self_approval": self.prevent_self_approval,
            "votes_visible": self.votes_visible,
        }
        return json.dumps(policy, sort_keys=True, separators=(",", ":"))


class WorkflowOutputs:
    """What an ApprovalWorkflow hands out, declared once: its typed attributes and registered outputs."""

    workflow_id: pulumi.Output[str]
    workflow_name: pulumi.Output[str]
    """`projects/P/locations/R/workflows/W`: how the Executions API names it."""
    service_account_email: pulumi.Output[str]


class ApprovalWorkflow(pulumi.ComponentResource, WorkflowOutputs):
    """A Cloud Workflow with its own service account, registered for the start function."""

    workflow: gcp.workflows.Workflow
    workflow_key: str
    source_contents: str
    registration: gcp.firestore.Document

    def __init__(
        self, name: str, args: ApprovalWorkflowArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        template = args.validate(name)
        reference = args.platform_reference()
        region = (
            reference.region
            if args.region is None
            else check_input("ApprovalWorkflowArgs.region", args.region, check_region)
        )
        env = self._environment(args, template, reference, key=args.workflow_key or name)
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

        self._platform = args.platform
        self._reference = reference
        # A live platform enables APIs once for all its workflows; a referenced one's stack
        # cannot enable them for this one.
        self._apis = (
            args.platform.apis
            if isinstance(args.platform, ApprovalPlatform)
            else GoogleApis(reference.project, self, reference.enable_apis)
        )
        self.workflow_key = args.workflow_key or name
        apis = self._apis.require(*template.services)
        account = args.service_account or iam.service_account(
            f"{name}-sa",
            account_id=service_account_id("wf", name),
            display_name=f"approval workflow {name}",
            description=f"Runs the {template.name} approval workflow {name}.",
            project=reference.project,
            parent=self,
            apis=self._apis,
        )
        grants = self._grants(name, iam.member_of(account), [*BASE_ROLES, *template.roles, *args.extra_roles])
        self.workflow = gcp.workflows.Workflow(
            name,
            name=resource_id(name, max_length=64),
            project=reference.project,
            region=region,
            description=args.description or template.description,
            source_contents=self.source_contents,
            user_env_vars=env,
            service_account=account.id,
            call_log_level=args.call_log_level,
            deletion_protection=(
                reference.deletion_protection
                if args.deletion_protection is None
                else args.deletion_protection
            ),
            labels=_merged(
                reference.labels,
                {"approval-template": resource_id(template.name, max_length=63), **args.labels},
            ),
            # Grants first: an execution started before its roles exist would fail.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*apis, *grants]),
        )
        workflow_name = workflow_path(reference.project, region, self.workflow.name)
        self.registration = self._registration(name, args, template, workflow_name)
        self.extension = self._extension(name, template)
        register_declared(
            self,
            WorkflowOutputs,
            workflow_id=self.workflow.name,
            workflow_name=workflow_name,
            service_account_email=account.email,
        )

    def _grants(self, name: str, member: pulumi.Output[str], roles: list[str]) -> list[pulumi.Resource]:
        """The account's roles: its platform's database and events topic, then the template's."""
        platform = self._platform
        grants: list[pulumi.Resource]
        if isinstance(platform, ApprovalPlatform):
            grants = [
                *platform.grant_database_user(name, member),
                platform.grant_event_publisher(name, member),
            ]
        else:
            grants = platform.grant_workflow_access(name, member, self, self._apis)
        grants += iam.grant_project_roles(
            name,
            project=self._reference.project,
            member=member,
            grants=[iam.Grant(role) for role in roles],
            parent=self,
            apis=self._apis,
        )
        return grants

    def _registration(
        self, name: str, args: ApprovalWorkflowArgs, template: Template, workflow_name: pulumi.Output[str]
    ) -> gcp.firestore.Document:
        """The start function looks workflows up here, so the platform never needs
        redeploying when a workflow is added."""
        input_schema = dict(args.input_schema if args.input_schema is not None else template.input_schema)

        def fields(full_name: str, requesters: list[str]) -> str:
            return json.dumps(
                documents.check(
                    "workflow",
                    {
                        "workflow_name": {"stringValue": full_name},
                        "template": {"stringValue": template.name},
                        "input_schema": {"stringValue": json.dumps(input_schema, sort_keys=True)},
                        # The start function refuses anyone else, and more waiting requests.
                        "requesters": {"stringValue": json.dumps(requesters)},
                        "max_pending_per_requester": {"integerValue": str(args.max_pending_per_requester)},
                    },
                ),
                sort_keys=True,
            )

        # The checks that need the platform's groups run when they are known: now, or as
        # a referenced platform's resolve (a failure then fails this document).
        groups = self._reference.groups
        if isinstance(groups, pulumi.Output):
            document = pulumi.Output.all(workflow_name, groups).apply(
                lambda values: fields(values[0], args.requesters_for(values[1]))
            )
        else:
            requesters = args.requesters_for(groups)
            document = workflow_name.apply(lambda full_name: fields(full_name, requesters))
        return gcp.firestore.Document(
            f"{name}-registration",
            project=self._reference.project,
            database=self._reference.database_name,
            collection=self._reference.collection("workflows"),
            document_id=self.workflow_key,
            fields=document,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _extension(self, name: str, template: Template) -> gcp.firestore.Document | None:
        """What the template adds: the page's panel, and the collections its requester may read."""
        if not (template.panel or template.requester_collections):
            return None
        collections = [{"stringValue": c} for c in template.requester_collections]
        return gcp.firestore.Document(
            f"{name}-extension",
            project=self._reference.project,
            database=self._reference.database_name,
            collection=self._reference.collection("extensions"),
            document_id=self.workflow_key,
            fields=json.dumps(
                documents.check(
                    "extension",
                    {
                        "template": {"stringValue": template.name},
                        "panel": {"booleanValue": template.panel},
                        "requester_collections": {"arrayValue": {"values": collections}},
                    },
                ),
                sort_keys=True,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    @staticmethod
    def _environment(
        args: ApprovalWorkflowArgs, template: Template, reference: PlatformReference, key: str
    ) -> dict[str, pulumi.Input[str]]:
        try:
            params = template.env_for(args.params)
        except TemplateError as error:
            raise InvalidArgumentError("ApprovalWorkflowArgs.params", str(error)) from error
        return {
            **reference.workflow_env(),
            "APPROVERS": json.dumps([a.lower() for a in args.approvers]),
            "APPROVAL_TIMEOUT_SECONDS": str(args.timeout_seconds),
            "APPROVAL_POLICY": args.approval_policy(),
            "APPROVAL_TEMPLATE": template.name,
            "APPROVAL_WORKFLOW_KEY": key,
            **params,
        }

    def grant_invoke(self, key: str, member: pulumi.Input[str]) -> list[gcp.projects.IAMMember]:
        """Let `member` (a CI pipeline, say) start executions without the start function.

        Workflows grants roles on the project only, so this lets `member` start any
        workflow of the project; prefer the start function, which checks input.
        """
        if isinstance(self._platform, ApprovalPlatform):
            return self._platform.grant_execution_starter(f"{self.pulumi_resource_name}-{key}", member)
        return iam.grant_project_roles(
            f"{self.pulumi_resource_name}-{key}",
            project=self._reference.project,
            member=member,
            grants=[iam.Grant(self._reference.execution_starter_role, key="executionStarter")],
            parent=self,
            apis=self._apis,
        )


def _merged(
    platform_labels: pulumi.Input[Mapping[str, str]], own: dict[str, str]
) -> pulumi.Input[Mapping[str, str]]:
    """The platform's labels, overridden by the workflow's own."""
    if isinstance(platform_labels, pulumi.Output):
        return platform_labels.apply(lambda labels: {**labels, **own})
    return {**platform_labels, **own}
