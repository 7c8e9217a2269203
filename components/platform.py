"""ApprovalPlatform: what every approval workflow of one environment shares."""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pulumi
import pulumi_gcp as gcp
import pulumi_random as random

from approvals.workflow_templates import platform_workflow_source

from . import firebase, iam
from .apis import IAM, GoogleApis
from .database import DEFAULT_DATABASE, ApprovalDatabase, Collections
from .errors import InvalidArgumentError
from .function import INGRESS_SETTINGS, PythonFunction, PythonFunctionArgs, SecretEnv
from .functions.common.contract import PAGE_COLLECTIONS, WORKFLOW_COLLECTIONS
from .groups import check_groups, membership_documents
from .hosting import ApprovalHosting, Rewrite
from .naming import custom_role_id, resource_id, service_account_id, workflow_path
from .validation import (
    DOMAIN,
    FIRESTORE_LOCATION,
    HTTPS_URL,
    PROJECT_ID,
    REGION,
    check_bool,
    check_int_range,
    check_labels,
    check_pattern,
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
}
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
    region: str = "europe-west1"
    firestore_location: str | None = None
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
    notify_service_account: gcp.serviceaccount.Account | None = None
    pusher_service_account: gcp.serviceaccount.Account | None = None
    """Pub/Sub pushes events to the notify function with this account's OIDC token."""
    timer_service_account: gcp.serviceaccount.Account | None = None
    """Runs the delegation timer workflow, which announces when each delegation starts and ends."""
    build_service_account: gcp.serviceaccount.Account | None = None
    source_bucket: gcp.storage.Bucket | None = None
    mail_webhook_url: str | None = None
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

    def validate(self) -> None:
        arg = "ApprovalPlatformArgs"
        check_pattern(f"{arg}.region", self.region, REGION, "a Google Cloud region such as europe-west1")
        if self.firestore_location is not None:
            check_pattern(
                f"{arg}.firestore_location",
                self.firestore_location,
                FIRESTORE_LOCATION,
                "a region such as europe-west1 or a multi-region such as eur3",
            )
        if self.database is None and not (
            self.database_id == DEFAULT_DATABASE
            or resource_id(self.database_id, max_length=63) == self.database_id
        ):
            raise InvalidArgumentError(
                f"{arg}.database_id",
                f"{self.database_id!r} is not valid",
                '"(default)" or lower-case letters, digits and -',
            )
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
        if self.mail_webhook_url is not None:
            check_pattern(
                f"{arg}.mail_webhook_url",
                self.mail_webhook_url,
                HTTPS_URL,
                "an https:// URL (the messages carry decision links)",
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


class ApprovalPlatform(pulumi.ComponentResource):
    """Firestore, the functions, hosting, notifications and their identities, once per environment."""

    project: str
    region: str
    collections: Collections
    groups: dict[str, tuple[str, ...]]
    """Approver groups as declared (name -> lower-cased member e-mails): workflows may name only these."""
    deletion_protection: bool
    labels: dict[str, str]
    apis: GoogleApis
    database_name: pulumi.Output[str]
    start_url: pulumi.Output[str]
    decide_url: pulumi.Output[str]
    cancel_url: pulumi.Output[str]
    delegate_url: pulumi.Output[str]
    link_url: pulumi.Output[str]
    notify_url: pulumi.Output[str]
    web_url: pulumi.Output[str]
    site_url: pulumi.Output[str]
    sign_in_config: gcp.identityplatform.Config | None
    """Firebase Auth's settings, with the domains it accepts sign-ins from; None when not managed."""
    start_service_account_email: pulumi.Output[str]
    decide_service_account_email: pulumi.Output[str]
    cancel_service_account_email: pulumi.Output[str]
    delegate_service_account_email: pulumi.Output[str]
    link_service_account_email: pulumi.Output[str]
    notify_service_account_email: pulumi.Output[str]
    pusher_service_account_email: pulumi.Output[str]
    timer_service_account_email: pulumi.Output[str]
    delegation_timer: gcp.workflows.Workflow
    """Started by the delegate function for each delegation; notify restamps requests when it fires."""
    delegation_timer_name: pulumi.Output[str]
    events_topic: gcp.pubsub.Topic
    events_topic_name: pulumi.Output[str]
    """The full topic name, `projects/P/topics/T`: every request state change is published there."""
    notify_subscription: gcp.pubsub.Subscription
    link_key_secret: gcp.secretmanager.Secret
    """Holds the key that signs decision links; only the link and notify functions may read it."""

    def __init__(
        self, name: str, args: ApprovalPlatformArgs | None = None, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = args or ApprovalPlatformArgs()
        args.validate()
        project = args.resolved_project()
        groups = check_groups("ApprovalPlatformArgs.groups", args.groups)
        if not (WEB_DIST / "index.html").is_file():
            raise FileNotFoundError(
                f"the approval page is missing ({WEB_DIST} has no index.html). Installed packages carry "
                "it: reinstall approvals from a wheel, or from source with Node.js 20+ on PATH, which "
                "builds it. In a clone of the repository, `make web` builds it."
            )
        super().__init__("approvals:index:ApprovalPlatform", name, None, opts)

        self.project = project
        self.region = args.region
        self.collections = args.collections
        self.groups = groups
        self.deletion_protection = args.deletion_protection
        self.labels = {"app": "approvals", "managed-by": "pulumi", **args.labels}
        self.apis = GoogleApis(project, self, args.enable_apis)
        self._custom_roles: dict[str, gcp.projects.IAMCustomRole] = {}
        platform_apis = self.apis.require(*PLATFORM_APIS)

        self._db = ApprovalDatabase(
            f"{name}-firestore",
            project=project,
            location=args.firestore_location or args.region,
            database_id=args.database_id,
            existing=args.database,
            collections=args.collections,
            point_in_time_recovery=args.point_in_time_recovery,
            deletion_protection=args.deletion_protection,
            depends_on=platform_apis,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.database_name = self._db.database_name
        # ID tokens carry no groups: the functions and the rules look members up in these documents.
        membership_documents(
            name,
            project=project,
            database=self.database_name,
            collection=args.collections.memberships,
            groups=groups,
            parent=self,
        )

        self.events_topic = gcp.pubsub.Topic(
            f"{name}-approval-events",
            name=resource_id(name, "approval-events", max_length=255),
            project=project,
            labels=self.labels,
            opts=pulumi.ResourceOptions(parent=self, depends_on=platform_apis),
        )
        self.events_topic_name = pulumi.Output.concat(
            "projects/", project, "/topics/", self.events_topic.name
        )

        accounts = {
            role: given
            or iam.service_account(
                f"{name}-{role}-sa",
                account_id=service_account_id(name, role),
                display_name=f"approvals {role} ({name})",
                description=description,
                project=project,
                parent=self,
                apis=self.apis,
            )
            for role, given, description in (
                ("start", args.start_service_account, "Starts approval workflow executions."),
                (
                    "decide",
                    args.decide_service_account,
                    "Records approvers' votes and sends workflow callbacks.",
                ),
                ("cancel", args.cancel_service_account, "Cancels approval requests and their executions."),
                ("delegate", args.delegate_service_account, "Records approvers' delegations."),
                (
                    "link",
                    args.link_service_account,
                    "Records votes cast through signed links and sends workflow callbacks.",
                ),
                ("notify", args.notify_service_account, "Mails approvers and requesters about requests."),
                ("pusher", args.pusher_service_account, "Pushes approval events to the notify function."),
                (
                    "timer",
                    args.timer_service_account,
                    "Announces when approvers' delegations start and end.",
                ),
                ("web", args.web_service_account, "Serves the approval page; holds no roles."),
                ("build", args.build_service_account, "Builds the approval functions' containers."),
            )
        }
        emails = {role: account.email for role, account in accounts.items()}
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
        build_grants = iam.grant_project_roles(
            f"{name}-build",
            project=project,
            member=members["build"],
            grants=[iam.Grant(role) for role in BUILD_ROLES],
            parent=self,
            apis=self.apis,
        )

        self.link_key_secret = gcp.secretmanager.Secret(
            f"{name}-link-key",
            secret_id=resource_id(name, "link-key", max_length=255),
            project=project,
            replication=gcp.secretmanager.SecretReplicationArgs(
                auto=gcp.secretmanager.SecretReplicationAutoArgs()
            ),
            labels=self.labels,
            opts=pulumi.ResourceOptions(parent=self, depends_on=platform_apis),
        )
        link_key = random.RandomPassword(
            f"{name}-link-key",
            length=LINK_KEY_LENGTH,
            special=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        link_key_version = gcp.secretmanager.SecretVersion(
            f"{name}-link-key",
            secret=self.link_key_secret.id,
            secret_data=link_key.result,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Cloud Run checks a revision's secret access as it creates it: the readers wait for these.
        secret_access = {
            reader: gcp.secretmanager.SecretIamMember(
                f"{name}-{reader}-link-key-accessor",
                project=project,
                secret_id=self.link_key_secret.secret_id,
                role="roles/secretmanager.secretAccessor",
                member=members[reader],
                opts=pulumi.ResourceOptions(parent=self),
            )
            for reader in ("link", "notify")
        }

        bucket = args.source_bucket or gcp.storage.Bucket(
            f"{name}-sources",
            name=resource_id(project, name, "sources", max_length=63),
            project=project,
            location=args.region,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            force_destroy=not args.deletion_protection,
            versioning=gcp.storage.BucketVersioningArgs(enabled=args.deletion_protection),
            labels=self.labels,
            opts=pulumi.ResourceOptions(parent=self, depends_on=platform_apis),
        )

        firebase_project = args.firebase_project_id or project
        in_firebase = [*platform_apis, firebase.add_firebase(name, project, platform_apis, self)]
        # The page signs approvers in with this web app's config (served as config.json).
        web_app = gcp.firebase.WebApp(
            f"{name}-web-app",
            project=firebase_project,
            display_name=f"approvals ({name})",
            deletion_policy="ABANDON" if args.deletion_protection else "DELETE",
            opts=pulumi.ResourceOptions(parent=self, depends_on=in_firebase),
        )
        web_config = gcp.firebase.get_web_app_config_output(
            project=firebase_project, web_app_id=web_app.app_id
        )

        common_env: dict[str, pulumi.Input[str]] = {
            "GOOGLE_CLOUD_PROJECT": project,
            "APPROVALS_DATABASE": self.database_name,
            "FIREBASE_PROJECT_ID": firebase_project,
        }
        collections_env = args.collections.environment()
        builds_may_start = iam.propagated(f"{name}-build-grants-propagation", build_grants, self)

        def function(
            role: str,
            env: Mapping[str, pulumi.Input[str]],
            secrets: Mapping[str, SecretEnv] | None = None,
            after: Sequence[pulumi.Resource] = (),
        ) -> PythonFunction:
            return PythonFunction(
                # Its Cloud Run service takes the same name, and Cloud Run takes 49 characters.
                resource_id(name, role, max_length=49),
                PythonFunctionArgs(
                    source_dir=FUNCTIONS_DIR / role,
                    entry_point=role,
                    shared_dirs={
                        "common": FUNCTIONS_DIR / "common",
                        **({"static": WEB_DIST} if role == "web" else {}),
                    },
                    bucket=bucket,
                    service_account_email=emails[role],
                    build_service_account=accounts["build"].id,
                    project=project,
                    region=args.region,
                    environment={**common_env, **env},
                    secrets=secrets or {},
                    memory=args.function_memory,
                    min_instances=args.min_instances,
                    max_instances=args.max_instances,
                    ingress_settings=args.ingress_settings,
                    labels=self.labels,
                    depends_on=[
                        *platform_apis,
                        builds_may_start,
                        *after,
                    ],
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )

        self.delegation_timer = self._delegation_timer(name, accounts["timer"], args.region, platform_apis)
        self.delegation_timer_name = workflow_path(project, args.region, self.delegation_timer.name)
        link_key_env = {"APPROVALS_LINK_KEY": SecretEnv(self.link_key_secret, link_key_version)}
        site_id = args.hosting_site_id or resource_id(project, name, max_length=30, min_length=6)
        start_env = {
            **collections_env,
            "APPROVALS_START_AUDIENCES": start_audiences(site_id, args.authorized_domains),
        }
        hosted = {
            "start": function("start", start_env),
            "decide": function("decide", collections_env),
            "cancel": function(
                "cancel", {**collections_env, "APPROVALS_EVENTS_TOPIC": self.events_topic_name}
            ),
            "delegate": function(
                "delegate",
                {**collections_env, "APPROVALS_DELEGATION_TIMER_WORKFLOW": self.delegation_timer_name},
            ),
            "link": function("link", collections_env, link_key_env, after=[secret_access["link"]]),
        }
        web = function(
            "web",
            {
                # The page reads these collections by the names config.json gives it.
                **args.collections.environment(PAGE_COLLECTIONS),
                "FIREBASE_WEB_CONFIG": pulumi.Output.all(web_app.app_id, web_config).apply(
                    lambda values: firebase_web_config(firebase_project, *values)
                ),
            },
        )
        # Hosting must reach these; each checks an ID token (or a signed link) on every call.
        for hosted_function in (*hosted.values(), web):
            hosted_function.grant_invoker("allUsers", "public")

        hosting = ApprovalHosting(
            f"{name}-hosting",
            project=project,
            region=args.region,
            site_id=site_id,
            rewrites=[
                *(Rewrite(path, hosted[role].service_name) for role, path in HOSTED_FUNCTIONS.items()),
                Rewrite("**", web.service_name),
            ],
            depends_on=in_firebase,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.site_url = hosting.site_url
        self.sign_in_config = None
        if args.manages_sign_in_domains():
            self.sign_in_config = firebase.sign_in_domains(
                name,
                project=firebase_project,
                domains=firebase.authorized_domains(firebase_project, [site_id], args.authorized_domains),
                depends_on=in_firebase,
                parent=self,
            )

        # notify is private: only Pub/Sub, pushing as the pusher account, may call it.
        notify = function(
            "notify",
            {
                **collections_env,
                "APPROVALS_SITE_URL": self.site_url,
                **({"APPROVALS_MAIL_WEBHOOK_URL": args.mail_webhook_url} if args.mail_webhook_url else {}),
            },
            link_key_env,
            after=[secret_access["notify"]],
        )
        notify_invoker = notify.grant_invoker(members["pusher"], "pusher")
        self.notify_subscription = gcp.pubsub.Subscription(
            f"{name}-notify",
            name=resource_id(name, "notify", max_length=255),
            project=project,
            topic=self.events_topic_name,
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
                oidc_token=gcp.pubsub.SubscriptionPushConfigOidcTokenArgs(
                    service_account_email=emails["pusher"]
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[notify_invoker]),
        )

        self.start_url = hosted["start"].url
        self.decide_url = hosted["decide"].url
        self.cancel_url = hosted["cancel"].url
        self.delegate_url = hosted["delegate"].url
        self.link_url = hosted["link"].url
        self.notify_url = notify.url
        self.web_url = web.url
        self.start_service_account_email = emails["start"]
        self.decide_service_account_email = emails["decide"]
        self.cancel_service_account_email = emails["cancel"]
        self.delegate_service_account_email = emails["delegate"]
        self.link_service_account_email = emails["link"]
        self.notify_service_account_email = emails["notify"]
        self.pusher_service_account_email = emails["pusher"]
        self.timer_service_account_email = emails["timer"]
        self.register_outputs(
            {
                "start_url": self.start_url,
                "decide_url": self.decide_url,
                "cancel_url": self.cancel_url,
                "delegate_url": self.delegate_url,
                "link_url": self.link_url,
                "notify_url": self.notify_url,
                "web_url": self.web_url,
                "site_url": self.site_url,
                "database_name": self.database_name,
                "events_topic_name": self.events_topic_name,
                "notify_subscription_name": self.notify_subscription.name,
                "link_key_secret_id": self.link_key_secret.secret_id,
                "start_service_account_email": self.start_service_account_email,
                "decide_service_account_email": self.decide_service_account_email,
                "cancel_service_account_email": self.cancel_service_account_email,
                "delegate_service_account_email": self.delegate_service_account_email,
                "link_service_account_email": self.link_service_account_email,
                "notify_service_account_email": self.notify_service_account_email,
                "pusher_service_account_email": self.pusher_service_account_email,
                "timer_service_account_email": self.timer_service_account_email,
                "delegation_timer_name": self.delegation_timer_name,
            }
        )

    def _delegation_timer(
        self,
        name: str,
        account: gcp.serviceaccount.Account,
        region: str,
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
            region=region,
            description="Announces when approvers' delegations start and end (started by delegate).",
            source_contents=platform_workflow_source("delegation_timer"),
            user_env_vars={"APPROVALS_EVENTS_TOPIC": self.events_topic_name},
            service_account=account.id,
            call_log_level="LOG_ERRORS_ONLY",
            deletion_protection=self.deletion_protection,
            labels=self.labels,
            # Grants first: an execution started before its roles exist would fail.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*apis, *grants]),
        )

    def workflow_env(self) -> dict[str, pulumi.Input[str]]:
        """User env vars every approval workflow of this platform reads."""
        return {
            "APPROVALS_DATABASE": self.database_name,
            **self.collections.environment(WORKFLOW_COLLECTIONS),
            "APPROVALS_EVENTS_TOPIC": self.events_topic_name,
        }

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
        return self.database_name.apply(
            lambda db: f'resource.name == "projects/{self.project}/databases/{db}"'
        )

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

    def grant_execution_starter(self, key: str, member: pulumi.Input[str]) -> list[gcp.projects.IAMMember]:
        """Start workflow executions (`workflows.executions.create`) and nothing else."""
        role = self._custom_role(
            "executionStarter", "Start workflow executions", ["workflows.executions.create"]
        )
        return self._grant(key, member, role, key_suffix="executionStarter")

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
