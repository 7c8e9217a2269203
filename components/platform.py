"""ApprovalPlatform: what every approval workflow of one environment shares."""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import pulumi
import pulumi_gcp as gcp
import pulumi_random as random

from approvals.workflow_templates import platform_workflow_source

from . import firebase, iam
from .apis import IAM, GoogleApis
from .database import DEFAULT_DATABASE, ApprovalDatabase, Collections
from .errors import InvalidArgumentError
from .function import INGRESS_SETTINGS, PythonFunction, PythonFunctionArgs, SecretEnv
from .functions.common.contract import PAGE_COLLECTIONS
from .groups import check_groups, membership_documents
from .hosting import ApprovalHosting, Rewrite
from .naming import custom_role_id, resource_id, service_account_id, workflow_path
from .outputs import register_declared
from .reference import PLATFORM_OUTPUT, PlatformReference, database_condition
from .validation import (
    DOMAIN,
    FIRESTORE_LOCATION,
    HTTPS_URL,
    PROJECT_ID,
    check_bool,
    check_database_id,
    check_input,
    check_int_range,
    check_labels,
    check_pattern,
    check_region,
)

FUNCTIONS_DIR = Path(str(resources.files("approvals.functions")))
"""Function sources: files the platform deploys, inside the package (its `functions/` folder in a clone)."""
WEB_DIST = Path(str(resources.files("approvals.web"))) / "dist"
"""The page's build output: built with the package (`make web` in a clone)."""

PLATFORM_APIS = (
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "run.googleapis.com",
    "artifactregistry.googleapis.com",
    "storage.googleapis.com",
    "iam.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "logging.googleapis.com",
    "workflows.googleapis.com",
    "workflowexecutions.googleapis.com",
    "firestore.googleapis.com",
    "firebaserules.googleapis.com",
    "firebasehosting.googleapis.com",
    "identitytoolkit.googleapis.com",
    "firebase.googleapis.com",
    "pubsub.googleapis.com",
    "secretmanager.googleapis.com",
)

# Build service account roles, as Cloud Functions documents for a custom build account.
BUILD_ROLES = ("roles/logging.logWriter", "roles/artifactregistry.writer", "roles/storage.objectViewer")

MEMORY_SIZES = ("128Mi", "256Mi", "512Mi", "1Gi", "2Gi", "4Gi")
# Functions Firebase Hosting routes to, and the paths it routes: each authenticates every call
# itself (an ID token, or a signed link), so they are public. Everything else goes to the page.
HOSTED_FUNCTIONS = {
    "start": "/api/start",
    "decide": "/api/decide",
    "cancel": "/api/cancel",
    "delegate": "/api/delegations",
    "link": "/link",
    "status": "/api/requests/*",
}
# A status long poll holds its request open for up to 50 s: one instance serves this many at once
# (concurrency above 1 needs a whole vCPU).
STATUS_CONCURRENCY = 40
STATUS_CPU = "1"
# 256 bits for the HMAC key that signs decision links.
LINK_KEY_LENGTH = 43


@dataclass(kw_only=True)
class ApprovalPlatformArgs:
    """Settings of one environment's platform. Every field has a default.

    Pass any resource the platform would create (database, service accounts,
    source bucket) to use yours instead.
    """

    project: str | None = None
    """Google Cloud project id; defaults to the `gcp:project` config."""
    region: pulumi.Input[str] = "europe-west1"
    firestore_location: pulumi.Input[str] | None = None
    """Firestore location (a region, or a multi-region such as eur3); defaults to `region`."""
    database_id: str = DEFAULT_DATABASE
    database: gcp.firestore.Database | None = None
    collections: Collections = field(default_factory=Collections)
    deletion_protection: bool = False
    point_in_time_recovery: bool = False
    min_instances: int = 0
    max_instances: int = 10
    function_memory: str = "256Mi"
    ingress_settings: str = "ALLOW_ALL"
    """ALLOW_ALL lets Firebase Hosting reach the functions; each API call is authenticated."""
    enable_apis: bool = True
    hosting_site_id: str | None = None
    """Globally unique Firebase Hosting site id; defaults to `<project>-<name>`."""
    firebase_project_id: str | None = None
    """Project whose Firebase Auth issues approvers' ID tokens; defaults to `project`."""
    manage_sign_in_domains: bool | None = None
    """Manage the domains Firebase Auth accepts sign-ins from (an Identity Platform config in the Auth
    project): its defaults, the page's Hosting domains and `authorized_domains`. Defaults to True when
    the Auth project is `project`; False leaves them to the console, where the page's domains must be
    added by hand."""
    authorized_domains: Sequence[str] = ()
    """More domains the page is served from (a custom domain of the Hosting site, say)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    start_service_account: gcp.serviceaccount.Account | None = None
    decide_service_account: gcp.serviceaccount.Account | None = None
    web_service_account: gcp.serviceaccount.Account | None = None
    cancel_service_account: gcp.serviceaccount.Account | None = None
    delegate_service_account: gcp.serviceaccount.Account | None = None
    link_service_account: gcp.serviceaccount.Account | None = None
    status_service_account: gcp.serviceaccount.Account | None = None
    """Answers GET /api/requests/{id}: reads the database and the executions' states, nothing else."""
    notify_service_account: gcp.serviceaccount.Account | None = None
    pusher_service_account: gcp.serviceaccount.Account | None = None
    """Pub/Sub pushes events to the notify function with this account's OIDC token."""
    timer_service_account: gcp.serviceaccount.Account | None = None
    """Runs the delegation timer workflow, which announces when each delegation starts and ends."""
    build_service_account: gcp.serviceaccount.Account | None = None
    source_bucket: gcp.storage.Bucket | None = None
    mail_webhook_url: pulumi.Input[str] | None = None
    """The mail relay notify POSTs each message to ({to, subject, text, link}); unset: mails are logged."""
    groups: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Approver groups: name -> member e-mails. `group:NAME` approvers match these members (stored in
    Firestore, one document per member); ID tokens carry no groups."""

    def resolved_project(self) -> str:
        project = self.project or pulumi.Config("gcp").get("project")
        if not project:
            raise InvalidArgumentError(
                "ApprovalPlatformArgs.project",
                "no project given and no gcp:project config set",
                "a project id, or `pulumi config set gcp:project <id>`",
            )
        return check_pattern(
            "ApprovalPlatformArgs.project", project, PROJECT_ID, "a Google Cloud project id (6-30 characters)"
        )

    def manages_sign_in_domains(self) -> bool:
        """Whether the platform sets Auth's authorized domains: by default, when Auth is its own project's."""
        if self.manage_sign_in_domains is not None:
            return self.manage_sign_in_domains
        return self.firebase_project_id in (None, self.resolved_project())

    def validate(self) -> "CheckedInputs":
        """Raises InvalidArgumentError for a bad plain value; Outputs come back checked as they resolve."""
        arg = "ApprovalPlatformArgs"
        region = check_input(f"{arg}.region", self.region, check_region)
        checked = CheckedInputs(
            region=region,
            firestore_location=region
            if self.firestore_location is None
            else check_input(f"{arg}.firestore_location", self.firestore_location, check_firestore_location),
            mail_webhook_url=None
            if self.mail_webhook_url is None
            else check_input(f"{arg}.mail_webhook_url", self.mail_webhook_url, check_mail_webhook_url),
        )
        if self.database is None:
            check_database_id(f"{arg}.database_id", self.database_id)
        if not isinstance(self.collections, Collections):
            raise InvalidArgumentError(f"{arg}.collections", "must be a Collections instance")
        self.collections.check(f"{arg}.collections")
        check_bool(f"{arg}.deletion_protection", self.deletion_protection)
        check_bool(f"{arg}.point_in_time_recovery", self.point_in_time_recovery)
        check_bool(f"{arg}.enable_apis", self.enable_apis)
        check_int_range(f"{arg}.max_instances", self.max_instances, 1, 1000)
        check_int_range(f"{arg}.min_instances", self.min_instances, 0, self.max_instances)
        if self.function_memory not in MEMORY_SIZES:
            raise InvalidArgumentError(
                f"{arg}.function_memory", f"unknown size {self.function_memory!r}", ", ".join(MEMORY_SIZES)
            )
        if self.ingress_settings not in INGRESS_SETTINGS:
            raise InvalidArgumentError(
                f"{arg}.ingress_settings",
                f"unknown value {self.ingress_settings!r}",
                ", ".join(INGRESS_SETTINGS),
            )
        if self.hosting_site_id is not None:
            check_pattern(
                f"{arg}.hosting_site_id",
                self.hosting_site_id,
                PROJECT_ID,
                "6-30 lower-case letters, digits and -, starting with a letter",
            )
        if self.manage_sign_in_domains is not None:
            check_bool(f"{arg}.manage_sign_in_domains", self.manage_sign_in_domains)
        if isinstance(self.authorized_domains, str):
            raise InvalidArgumentError(f"{arg}.authorized_domains", "must be a list of domains, not a string")
        for domain in self.authorized_domains:
            check_pattern(
                f"{arg}.authorized_domains", domain, DOMAIN, "a domain name such as approvals.example.com"
            )
        check_labels(f"{arg}.labels", self.labels)
        return checked


class CheckedInputs(NamedTuple):
    """ApprovalPlatformArgs' values that may be Outputs, checked now or as they resolve."""

    region: pulumi.Input[str]
    firestore_location: pulumi.Input[str]
    mail_webhook_url: pulumi.Input[str] | None


def check_firestore_location(argument: str, value: object) -> str:
    allowed = "a region such as europe-west1 or a multi-region such as eur3"
    return check_pattern(argument, value, FIRESTORE_LOCATION, allowed)


def check_mail_webhook_url(argument: str, value: object) -> str:
    return check_pattern(argument, value, HTTPS_URL, "an https:// URL (the messages carry decision links)")


def check_web_dist() -> None:
    """The page must be built before a platform can serve it."""
    if not (WEB_DIST / "index.html").is_file():
        raise FileNotFoundError(
            f"the approval page is missing ({WEB_DIST} has no index.html). Installed packages carry "
            "it: reinstall approvals from a wheel, or from source with Node.js 20+ on PATH, which "
            "builds it. In a clone of the repository, `make web` builds it."
        )


def start_audiences(site_id: str, authorized_domains: Sequence[str]) -> str:
    """The audiences a service account's ID token for start may name, as JSON: start's URL on every
    domain the page is served from. From the site id, not the site's URL, which is known only
    after start exists (the hosting version names its service)."""
    domains = [*firebase.hosting_domains(site_id), *(domain.lower() for domain in authorized_domains)]
    return json.dumps([f"https://{domain}{HOSTED_FUNCTIONS['start']}" for domain in dict.fromkeys(domains)])


def firebase_web_config(project: str, app_id: str | None, config: gcp.firebase.GetWebAppConfigResult) -> str:
    """The JSON `initializeApp` takes; fields Firebase left unset are left out."""
    fields = {
        "apiKey": config.api_key,
        "authDomain": config.auth_domain,
        "projectId": project,
        "appId": app_id,
        "storageBucket": config.storage_bucket,
        "messagingSenderId": config.messaging_sender_id,
    }
    return json.dumps({key: value for key, value in fields.items() if value}, sort_keys=True)


# Each function's identity, and what the account is for (its description in IAM).
IDENTITIES = {
    "start": "Starts approval workflow executions.",
    "decide": "Records approvers' votes and sends workflow callbacks.",
    "cancel": "Cancels approval requests and their executions.",
    "delegate": "Records approvers' delegations.",
    "link": "Records votes cast through signed links and sends workflow callbacks.",
    "status": "Tells requesters and approvers the status of their requests.",
    "notify": "Mails approvers and requesters about requests.",
    "pusher": "Pushes approval events to the notify function.",
    "timer": "Announces when approvers' delegations start and end.",
    "web": "Serves the approval page; holds no roles.",
    "build": "Builds the approval functions' containers.",
}


class PlatformOutputs:
    """What an ApprovalPlatform hands out, declared once: its typed attributes and registered outputs."""

    start_url: pulumi.Output[str]
    decide_url: pulumi.Output[str]
    cancel_url: pulumi.Output[str]
    delegate_url: pulumi.Output[str]
    link_url: pulumi.Output[str]
    status_url: pulumi.Output[str]
    notify_url: pulumi.Output[str]
    web_url: pulumi.Output[str]
    site_url: pulumi.Output[str]
    database_name: pulumi.Output[str]
    events_topic_name: pulumi.Output[str]
    """The full topic name, `projects/P/topics/T`: every request state change is published there."""
    notify_subscription_name: pulumi.Output[str]
    link_key_secret_id: pulumi.Output[str]
    start_service_account_email: pulumi.Output[str]
    decide_service_account_email: pulumi.Output[str]
    cancel_service_account_email: pulumi.Output[str]
    delegate_service_account_email: pulumi.Output[str]
    link_service_account_email: pulumi.Output[str]
    status_service_account_email: pulumi.Output[str]
    notify_service_account_email: pulumi.Output[str]
    pusher_service_account_email: pulumi.Output[str]
    timer_service_account_email: pulumi.Output[str]
    delegation_timer_name: pulumi.Output[str]


@dataclass(frozen=True)
class _LinkKey:
    """The key that signs decision links, as the functions that read it take it."""

    env: dict[str, SecretEnv]
    access: dict[str, gcp.secretmanager.SecretIamMember]
    """Each reader's access: Cloud Run checks it as it creates a revision, so the reader waits for it."""


@dataclass(frozen=True)
class _Functions:
    """Builds the platform's functions, each from its folder, with what they all share."""

    platform: "ApprovalPlatform"
    args: ApprovalPlatformArgs
    bucket: gcp.storage.Bucket
    accounts: dict[str, gcp.serviceaccount.Account]
    common_env: dict[str, pulumi.Input[str]]
    depends_on: list[pulumi.Resource]

    def build(
        self,
        role: str,
        env: Mapping[str, pulumi.Input[str]],
        secrets: Mapping[str, SecretEnv] | None = None,
        after: Sequence[pulumi.Resource] = (),
        *,
        cpu: str | None = None,
        concurrency: int = 1,
    ) -> PythonFunction:
        args = self.args
        return PythonFunction(
            # Its Cloud Run service takes the same name, and Cloud Run takes 49 characters.
            resource_id(self.platform.pulumi_resource_name, role, max_length=49),
            PythonFunctionArgs(
                source_dir=FUNCTIONS_DIR / role,
                entry_point=role,
                shared_dirs={
                    "common": FUNCTIONS_DIR / "common",
                    **({"static": WEB_DIST} if role == "web" else {}),
                },
                bucket=self.bucket,
                service_account_email=self.accounts[role].email,
                build_service_account=self.accounts["build"].id,
                project=self.platform.project,
                region=self.platform.region,
                environment={**self.common_env, **env},
                secrets=secrets or {},
                memory=args.function_memory,
                min_instances=args.min_instances,
                max_instances=args.max_instances,
                cpu=cpu,
                concurrency=concurrency,
                ingress_settings=args.ingress_settings,
                labels=self.platform.labels,
                depends_on=[*self.depends_on, *after],
            ),
            opts=pulumi.ResourceOptions(parent=self.platform),
        )


class ApprovalPlatform(pulumi.ComponentResource, PlatformOutputs):
    """Firestore, the functions, hosting, notifications and their identities, once per environment."""

    project: str
    region: pulumi.Input[str]
    collections: Collections
    groups: dict[str, tuple[str, ...]]
    """Approver groups as declared (name -> lower-cased member e-mails): workflows may name only these."""
    deletion_protection: bool
    labels: dict[str, str]
    apis: GoogleApis
    sign_in_config: gcp.identityplatform.Config | None
    """Firebase Auth's settings, with the domains it accepts sign-ins from; None when not managed."""
    delegation_timer: gcp.workflows.Workflow
    """Started by the delegate function for each delegation; notify restamps requests when it fires."""
    events_topic: gcp.pubsub.Topic
    notify_subscription: gcp.pubsub.Subscription
    link_key_secret: gcp.secretmanager.Secret
    """Holds the key that signs decision links; only the link and notify functions may read it."""

    def __init__(
        self, name: str, args: ApprovalPlatformArgs | None = None, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = args or ApprovalPlatformArgs()
        checked = args.validate()
        project = args.resolved_project()
        groups = check_groups("ApprovalPlatformArgs.groups", args.groups)
        check_web_dist()
        super().__init__("approvals:index:ApprovalPlatform", name, None, opts)

        self.project = project
        self.region = checked.region
        self.collections = args.collections
        self.groups = groups
        self.deletion_protection = args.deletion_protection
        self.labels = {"app": "approvals", "managed-by": "pulumi", **args.labels}
        self.apis = GoogleApis(project, self, args.enable_apis)
        self._custom_roles: dict[str, gcp.projects.IAMCustomRole] = {}
        self._reference: PlatformReference | None = None
        self._database_condition: pulumi.Output[str] | None = None
        platform_apis = self.apis.require(*PLATFORM_APIS)

        self._db = self._database(name, args, checked.firestore_location, platform_apis)
        self.events_topic = gcp.pubsub.Topic(
            f"{name}-approval-events",
            name=resource_id(name, "approval-events", max_length=255),
            project=project,
            labels=self.labels,
            opts=pulumi.ResourceOptions(parent=self, depends_on=platform_apis),
        )
        events_topic_name = self.events_topic.name.apply(lambda topic: f"projects/{project}/topics/{topic}")
        accounts = self._identities(name, args)
        build_grants = self._grant_function_roles(name, accounts)
        link_key = self._link_key(name, accounts, platform_apis)
        firebase_project = args.firebase_project_id or project
        functions = self._functions(name, args, accounts, build_grants, firebase_project, platform_apis)
        in_firebase = [*platform_apis, firebase.add_firebase(name, project, platform_apis, self)]
        web_config = self._web_config(name, args, firebase_project, in_firebase)
        self.delegation_timer = self._delegation_timer(
            name, accounts["timer"], events_topic_name, platform_apis
        )
        delegation_timer_name = workflow_path(project, self.region, self.delegation_timer.name)
        site_id = args.hosting_site_id or resource_id(project, name, max_length=30, min_length=6)
        audiences = start_audiences(site_id, args.authorized_domains)
        hosted = self._hosted_functions(
            functions, link_key, events_topic_name, delegation_timer_name, audiences
        )
        web = functions.build(
            "web",
            # The page reads these collections by the names config.json gives it.
            {**args.collections.environment(PAGE_COLLECTIONS), "FIREBASE_WEB_CONFIG": web_config},
        )
        # Hosting must reach these; each checks an ID token (or a signed link) on every call.
        for hosted_function in (*hosted.values(), web):
            hosted_function.grant_invoker("allUsers", "public")
        site_url = self._hosting(name, site_id, args, hosted, web, firebase_project, in_firebase)
        notify = self._notifications(
            name, functions, link_key, site_url, events_topic_name, checked.mail_webhook_url
        )
        register_declared(
            self,
            PlatformOutputs,
            **{f"{role}_url": function.url for role, function in hosted.items()},
            notify_url=notify.url,
            web_url=web.url,
            site_url=site_url,
            database_name=self._db.database_name,
            events_topic_name=events_topic_name,
            notify_subscription_name=self.notify_subscription.name,
            link_key_secret_id=self.link_key_secret.secret_id,
            **{
                f"{role}_service_account_email": accounts[role].email
                # Those that act on requests: the page's holds no role, the builds' only build.
                for role in IDENTITIES
                if role not in ("web", "build")
            },
            delegation_timer_name=delegation_timer_name,
        )

    @classmethod
    def from_outputs(
        cls, outputs: pulumi.Input[Mapping[str, Any]], *, enable_apis: bool = True
    ) -> PlatformReference:
        """A platform deployed elsewhere, by its `reference().outputs()`: an ApprovalWorkflowArgs.platform."""
        return PlatformReference.from_outputs(outputs, enable_apis=enable_apis)

    @classmethod
    def from_stack_reference(
        cls, stack: pulumi.StackReference | str, *, output: str = PLATFORM_OUTPUT, enable_apis: bool = True
    ) -> PlatformReference:
        """The platform another stack (`org/project/stack`, or its reference) exported as `output`."""
        reference = stack if isinstance(stack, pulumi.StackReference) else pulumi.StackReference(stack)
        return PlatformReference.from_outputs(reference.require_output(output), enable_apis=enable_apis)

    def reference(self) -> PlatformReference:
        """This platform by its outputs: export `reference().outputs()` for workflows in other stacks."""
        if self._reference is None:
            self._reference = PlatformReference.of_platform(
                project=self.project,
                region=self.region,
                database_name=self.database_name,
                events_topic_name=self.events_topic_name,
                execution_starter_role=self._execution_starter_role(),
                collections=self.collections.names(),
                groups=self.groups,
                labels=self.labels,
                deletion_protection=self.deletion_protection,
                enable_apis=self.apis.enabled,
            )
        return self._reference

    def _database(
        self,
        name: str,
        args: ApprovalPlatformArgs,
        location: pulumi.Input[str],
        apis: list[pulumi.Resource],
    ) -> ApprovalDatabase:
        """Firestore with the platform's rules, and a document per member of each approver group."""
        database = ApprovalDatabase(
            f"{name}-firestore",
            project=self.project,
            location=location,
            database_id=args.database_id,
            existing=args.database,
            collections=args.collections,
            point_in_time_recovery=args.point_in_time_recovery,
            deletion_protection=args.deletion_protection,
            depends_on=apis,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # ID tokens carry no groups: the functions and the rules look members up in these documents.
        membership_documents(
            name,
            project=self.project,
            database=database.database_name,
            collection=args.collections.memberships,
            groups=self.groups,
            parent=self,
        )
        return database

    def _identities(self, name: str, args: ApprovalPlatformArgs) -> dict[str, gcp.serviceaccount.Account]:
        """One service account per function (and for Pub/Sub, the timer and builds): yours, or a new one."""
        return {
            role: getattr(args, f"{role}_service_account")
            or iam.service_account(
                f"{name}-{role}-sa",
                account_id=service_account_id(name, role),
                display_name=f"approvals {role} ({name})",
                description=description,
                project=self.project,
                parent=self,
                apis=self.apis,
            )
            for role, description in IDENTITIES.items()
        }

    def _grant_function_roles(
        self, name: str, accounts: dict[str, gcp.serviceaccount.Account]
    ) -> list[gcp.projects.IAMMember]:
        """Each function's roles, and the build account's; returns the build's, which builds wait for."""
        members = {role: iam.member_of(account) for role, account in accounts.items()}
        self.grant_execution_starter("start", members["start"])
        # start records who asked (the workflow checks it) and counts each requester's waiting requests.
        self.grant_database_user("start", members["start"])
        # A vote that decides delivers the workflow's callback, whichever way it was cast.
        for voting in ("decide", "link"):
            self.grant_callback_sender(voting, members[voting])
            self.grant_database_user(voting, members[voting])
        self.grant_execution_canceller("cancel", members["cancel"])
        self.grant_database_user("cancel", members["cancel"])
        self.grant_event_publisher("cancel", members["cancel"])
        self.grant_database_user("delegate", members["delegate"])
        # delegate starts the delegation timer for each delegation it stores, and stops the
        # timer of the one it replaces or deletes (sleeping executions count against a quota).
        self.grant_execution_starter("delegate", members["delegate"])
        self.grant_execution_canceller("delegate", members["delegate"])
        # notify stamps each request it mails about with the delegates in force, so it writes.
        self.grant_database_user("notify", members["notify"])
        # status reads the request's stages, and asks whether its execution has ended.
        self.grant_database_reader("status", members["status"])
        self.grant_execution_viewer("status", members["status"])
        return iam.grant_project_roles(
            f"{name}-build",
            project=self.project,
            member=members["build"],
            grants=[iam.Grant(role) for role in BUILD_ROLES],
            parent=self,
            apis=self.apis,
        )

    def _link_key(
        self, name: str, accounts: dict[str, gcp.serviceaccount.Account], apis: list[pulumi.Resource]
    ) -> _LinkKey:
        """A random key in Secret Manager that signs decision links; only link and notify read it."""
        self.link_key_secret = gcp.secretmanager.Secret(
            f"{name}-link-key",
            secret_id=resource_id(name, "link-key", max_length=255),
            project=self.project,
            replication=gcp.secretmanager.SecretReplicationArgs(
                auto=gcp.secretmanager.SecretReplicationAutoArgs()
            ),
            labels=self.labels,
            opts=pulumi.ResourceOptions(parent=self, depends_on=apis),
        )
        key = random.RandomPassword(
            f"{name}-link-key",
            length=LINK_KEY_LENGTH,
            special=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        version = gcp.secretmanager.SecretVersion(
            f"{name}-link-key",
            secret=self.link_key_secret.id,
            secret_data=key.result,
            opts=pulumi.ResourceOptions(parent=self),
        )
        access = {
            reader: gcp.secretmanager.SecretIamMember(
                f"{name}-{reader}-link-key-accessor",
                project=self.project,
                secret_id=self.link_key_secret.secret_id,
                role="roles/secretmanager.secretAccessor",
                member=iam.member_of(accounts[reader]),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for reader in ("link", "notify")
        }
        return _LinkKey({"APPROVALS_LINK_KEY": SecretEnv(self.link_key_secret, version)}, access)

    def _functions(
        self,
        name: str,
        args: ApprovalPlatformArgs,
        accounts: dict[str, gcp.serviceaccount.Account],
        build_grants: list[gcp.projects.IAMMember],
        firebase_project: str,
        apis: list[pulumi.Resource],
    ) -> _Functions:
        """What the functions share: their sources' bucket, settings, and builds that wait for IAM."""
        return _Functions(
            self,
            args,
            args.source_bucket or self._source_bucket(name, args, apis),
            accounts,
            common_env={
                "GOOGLE_CLOUD_PROJECT": self.project,
                "APPROVALS_DATABASE": self._db.database_name,
                "FIREBASE_PROJECT_ID": firebase_project,
            },
            depends_on=[*apis, iam.propagated(f"{name}-build-grants-propagation", build_grants, self)],
        )

    def _source_bucket(
        self, name: str, args: ApprovalPlatformArgs, apis: list[pulumi.Resource]
    ) -> gcp.storage.Bucket:
        """Where the functions' source archives go: private, versioned when protected."""
        return gcp.storage.Bucket(
            f"{name}-sources",
            name=resource_id(self.project, name, "sources", max_length=63),
            project=self.project,
            location=self.region,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            force_destroy=not args.deletion_protection,
            versioning=gcp.storage.BucketVersioningArgs(enabled=args.deletion_protection),
            labels=self.labels,
            opts=pulumi.ResourceOptions(parent=self, depends_on=apis),
        )

    def _web_config(
        self, name: str, args: ApprovalPlatformArgs, firebase_project: str, in_firebase: list[pulumi.Resource]
    ) -> pulumi.Output[str]:
        """The Firebase web app the page signs approvers in with, as its config.json."""
        web_app = gcp.firebase.WebApp(
            f"{name}-web-app",
            project=firebase_project,
            display_name=f"approvals ({name})",
            deletion_policy="ABANDON" if args.deletion_protection else "DELETE",
            opts=pulumi.ResourceOptions(parent=self, depends_on=in_firebase),
        )
        config = gcp.firebase.get_web_app_config_output(project=firebase_project, web_app_id=web_app.app_id)
        return pulumi.Output.all(web_app.app_id, config).apply(
            lambda values: firebase_web_config(firebase_project, *values)
        )

    @staticmethod
    def _hosted_functions(
        functions: _Functions,
        link_key: _LinkKey,
        events_topic_name: pulumi.Output[str],
        delegation_timer_name: pulumi.Output[str],
        start_audiences: str,
    ) -> dict[str, PythonFunction]:
        """The functions Hosting routes to (HOSTED_FUNCTIONS), by role."""
        collections_env = functions.args.collections.environment()
        # Service accounts' ID tokens must name start's URL on one of the site's domains; a
        # pipeline reads its request's status with the token it asked with.
        asking_env = {**collections_env, "APPROVALS_START_AUDIENCES": start_audiences}
        return {
            "start": functions.build("start", asking_env),
            "decide": functions.build("decide", collections_env),
            "cancel": functions.build(
                "cancel", {**collections_env, "APPROVALS_EVENTS_TOPIC": events_topic_name}
            ),
            "delegate": functions.build(
                "delegate",
                {**collections_env, "APPROVALS_DELEGATION_TIMER_WORKFLOW": delegation_timer_name},
            ),
            "link": functions.build("link", collections_env, link_key.env, after=[link_key.access["link"]]),
            "status": functions.build("status", asking_env, cpu=STATUS_CPU, concurrency=STATUS_CONCURRENCY),
        }

    def _hosting(
        self,
        name: str,
        site_id: str,
        args: ApprovalPlatformArgs,
        hosted: dict[str, PythonFunction],
        web: PythonFunction,
        firebase_project: str,
        in_firebase: list[pulumi.Resource],
    ) -> pulumi.Output[str]:
        """Firebase Hosting in front of the functions, and the domains Auth accepts sign-ins from."""
        hosting = ApprovalHosting(
            f"{name}-hosting",
            project=self.project,
            region=self.region,
            site_id=site_id,
            rewrites=[
                *(Rewrite(path, hosted[role].service_name) for role, path in HOSTED_FUNCTIONS.items()),
                Rewrite("**", web.service_name),
            ],
            depends_on=in_firebase,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.sign_in_config = None
        if args.manages_sign_in_domains():
            self.sign_in_config = firebase.sign_in_domains(
                name,
                project=firebase_project,
                domains=firebase.authorized_domains(firebase_project, [site_id], args.authorized_domains),
                depends_on=in_firebase,
                parent=self,
            )
        return hosting.site_url

    def _notifications(
        self,
        name: str,
        functions: _Functions,
        link_key: _LinkKey,
        site_url: pulumi.Output[str],
        events_topic_name: pulumi.Output[str],
        mail_webhook_url: pulumi.Input[str] | None,
    ) -> PythonFunction:
        """The notify function, which only Pub/Sub may call, pushing it every event on the topic."""
        notify = functions.build(
            "notify",
            {
                **functions.args.collections.environment(),
                "APPROVALS_SITE_URL": site_url,
                **({"APPROVALS_MAIL_WEBHOOK_URL": mail_webhook_url} if mail_webhook_url else {}),
            },
            link_key.env,
            after=[link_key.access["notify"]],
        )
        pusher = functions.accounts["pusher"]
        notify_invoker = notify.grant_invoker(iam.member_of(pusher), "pusher")
        self.notify_subscription = gcp.pubsub.Subscription(
            f"{name}-notify",
            name=resource_id(name, "notify", max_length=255),
            project=self.project,
            topic=events_topic_name,
            labels=self.labels,
            # notify answers 500 when the mail relay fails: Pub/Sub retries with a backoff.
            ack_deadline_seconds=60,
            retry_policy=gcp.pubsub.SubscriptionRetryPolicyArgs(
                minimum_backoff="10s", maximum_backoff="600s"
            ),
            # An unused subscription would otherwise be deleted after 31 days.
            expiration_policy=gcp.pubsub.SubscriptionExpirationPolicyArgs(ttl=""),
            push_config=gcp.pubsub.SubscriptionPushConfigArgs(
                push_endpoint=notify.url,
                oidc_token=gcp.pubsub.SubscriptionPushConfigOidcTokenArgs(service_account_email=pusher.email),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[notify_invoker]),
        )
        return notify

    def _delegation_timer(
        self,
        name: str,
        account: gcp.serviceaccount.Account,
        events_topic_name: pulumi.Output[str],
        apis: Sequence[pulumi.Resource],
    ) -> gcp.workflows.Workflow:
        """The workflow that announces each delegation's start and end on the events topic.

        Its account writes logs and publishes to this platform's topic, nothing more.
        """
        member = iam.member_of(account)
        grants: list[pulumi.Resource] = [self.grant_event_publisher("timer", member)]
        grants += iam.grant_project_roles(
            f"{name}-timer",
            project=self.project,
            member=member,
            grants=[iam.Grant("roles/logging.logWriter")],
            parent=self,
            apis=self.apis,
        )
        return gcp.workflows.Workflow(
            f"{name}-delegation-timer",
            name=resource_id(name, "delegation-timer", max_length=64),
            project=self.project,
            region=self.region,
            description="Announces when approvers' delegations start and end (started by delegate).",
            source_contents=platform_workflow_source("delegation_timer"),
            user_env_vars={"APPROVALS_EVENTS_TOPIC": events_topic_name},
            service_account=account.id,
            call_log_level="LOG_ERRORS_ONLY",
            deletion_protection=self.deletion_protection,
            labels=self.labels,
            # Grants first: an execution started before its roles exist would fail.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*apis, *grants]),
        )

    def workflow_env(self) -> dict[str, pulumi.Input[str]]:
        """User env vars every approval workflow of this platform reads."""
        return self.reference().workflow_env()

    def grant_event_publisher(self, key: str, member: pulumi.Input[str]) -> gcp.pubsub.TopicIAMMember:
        """Publish to this platform's events topic, and to no other topic of the project."""
        return gcp.pubsub.TopicIAMMember(
            f"{self.pulumi_resource_name}-{key}-events-publisher",
            project=self.project,
            topic=self.events_topic.name,
            role="roles/pubsub.publisher",
            member=member,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def database_condition(self) -> pulumi.Output[str]:
        """An IAM condition that narrows a Firestore role to this platform's database."""
        if self._database_condition is None:
            self._database_condition = database_condition(self.project, self._db.database_name)
        return self._database_condition

    def grant_database_user(self, key: str, member: pulumi.Input[str]) -> list[gcp.projects.IAMMember]:
        """Read and write documents in this platform's database only."""
        return self._grant(key, member, "roles/datastore.user", self.database_condition())

    def grant_database_reader(self, key: str, member: pulumi.Input[str]) -> list[gcp.projects.IAMMember]:
        """Read documents in this platform's database only."""
        return self._grant(key, member, "roles/datastore.viewer", self.database_condition())

    def grant_callback_sender(self, key: str, member: pulumi.Input[str]) -> list[gcp.projects.IAMMember]:
        """Send workflow callbacks (`workflows.callbacks.send`) and nothing else."""
        role = self._custom_role("callbackSender", "Send workflow callbacks", ["workflows.callbacks.send"])
        return self._grant(key, member, role, key_suffix="callbackSender")

    def grant_execution_canceller(self, key: str, member: pulumi.Input[str]) -> list[gcp.projects.IAMMember]:
        """Cancel workflow executions (`workflows.executions.cancel`) and nothing else."""
        role = self._custom_role(
            "executionCanceller", "Cancel workflow executions", ["workflows.executions.cancel"]
        )
        return self._grant(key, member, role, key_suffix="executionCanceller")

    def grant_execution_viewer(self, key: str, member: pulumi.Input[str]) -> list[gcp.projects.IAMMember]:
        """Read workflow executions' state (`workflows.executions.get`) and nothing else."""
        role = self._custom_role("executionViewer", "Read workflow executions", ["workflows.executions.get"])
        return self._grant(key, member, role, key_suffix="executionViewer")

    def grant_execution_starter(self, key: str, member: pulumi.Input[str]) -> list[gcp.projects.IAMMember]:
        """Start workflow executions (`workflows.executions.create`) and nothing else."""
        return self._grant(key, member, self._execution_starter_role(), key_suffix="executionStarter")

    def _execution_starter_role(self) -> pulumi.Output[str]:
        return self._custom_role(
            "executionStarter", "Start workflow executions", ["workflows.executions.create"]
        )

    def _grant(
        self,
        key: str,
        member: pulumi.Input[str],
        role: pulumi.Input[str],
        condition: pulumi.Input[str] | None = None,
        key_suffix: str | None = None,
    ) -> list[gcp.projects.IAMMember]:
        return iam.grant_project_roles(
            f"{self.pulumi_resource_name}-{key}",
            project=self.project,
            member=member,
            grants=[
                iam.Grant(
                    role, condition=condition, condition_title="approvals database only", key=key_suffix
                )
            ],
            parent=self,
            apis=self.apis,
        )

    def _custom_role(self, suffix: str, title: str, permissions: list[str]) -> pulumi.Output[str]:
        if suffix not in self._custom_roles:
            self._custom_roles[suffix] = gcp.projects.IAMCustomRole(
                f"{self.pulumi_resource_name}-{suffix}",
                project=self.project,
                role_id=custom_role_id(self.pulumi_resource_name, suffix),
                title=f"Approvals: {title} ({self.pulumi_resource_name})",
                description=f"{title}; created by the approvals platform {self.pulumi_resource_name}.",
                permissions=permissions,
                opts=pulumi.ResourceOptions(parent=self, depends_on=self.apis.require(IAM)),
            )
        return self._custom_roles[suffix].name
