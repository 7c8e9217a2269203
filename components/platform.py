"""ApprovalPlatform: what every approval workflow of one environment shares."""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_gcp as gcp

from . import iam
from .apis import GoogleApis
from .database import DEFAULT_DATABASE, TRANSLATIONS_COLLECTION, ApprovalDatabase, Collections
from .errors import InvalidArgumentError
from .function import INGRESS_SETTINGS, PythonFunction, PythonFunctionArgs
from .hosting import ApprovalHosting, Rewrite
from .naming import resource_id, service_account_id
from .validation import (
    FIRESTORE_LOCATION,
    PROJECT_ID,
    REGION,
    check_bool,
    check_int_range,
    check_labels,
    check_pattern,
)

FUNCTIONS_DIR = Path(__file__).resolve().parent.parent / "functions"
"""Function sources ship beside this package, in a checkout and when pip-installed."""
WEB_DIST = Path(__file__).resolve().parent.parent / "web" / "dist"
"""The page's build output (`make web`); pip installs it beside this package too."""

PLATFORM_APIS = (
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "run.googleapis.com",
    "artifactregistry.googleapis.com",
    "storage.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "workflows.googleapis.com",
    "workflowexecutions.googleapis.com",
    "firestore.googleapis.com",
    "firebaserules.googleapis.com",
    "firebasehosting.googleapis.com",
    "identitytoolkit.googleapis.com",
    "firebase.googleapis.com",
    "pubsub.googleapis.com",
)

# Build service account roles, as Cloud Functions documents for a custom build account.
BUILD_ROLES = ("roles/logging.logWriter", "roles/artifactregistry.writer", "roles/storage.objectViewer")

MEMORY_SIZES = ("128Mi", "256Mi", "512Mi", "1Gi", "2Gi", "4Gi")


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
    labels: Mapping[str, str] = field(default_factory=dict)
    start_service_account: gcp.serviceaccount.Account | None = None
    decide_service_account: gcp.serviceaccount.Account | None = None
    web_service_account: gcp.serviceaccount.Account | None = None
    build_service_account: gcp.serviceaccount.Account | None = None
    source_bucket: gcp.storage.Bucket | None = None

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
        names = [*self.collections.names().values(), TRANSLATIONS_COLLECTION]
        if len(set(names)) != len(names) or not all(n and "/" not in n for n in names):
            raise InvalidArgumentError(
                f"{arg}.collections", f"{names} must be distinct, non-empty and contain no '/'"
            )
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
        check_labels(f"{arg}.labels", self.labels)


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
    """Firestore, the start/decide/web functions, hosting and their identities, once per environment."""

    project: str
    region: str
    collections: Collections
    deletion_protection: bool
    labels: dict[str, str]
    apis: GoogleApis
    database_name: pulumi.Output[str]
    start_url: pulumi.Output[str]
    decide_url: pulumi.Output[str]
    web_url: pulumi.Output[str]
    site_url: pulumi.Output[str]
    start_service_account_email: pulumi.Output[str]
    decide_service_account_email: pulumi.Output[str]
    events_topic: gcp.pubsub.Topic
    events_topic_name: pulumi.Output[str]
    """The full topic name, `projects/P/topics/T`: every request state change is published there."""

    def __init__(
        self, name: str, args: ApprovalPlatformArgs | None = None, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = args or ApprovalPlatformArgs()
        args.validate()
        project = args.resolved_project()
        if not (WEB_DIST / "index.html").is_file():
            raise FileNotFoundError(
                f"the approval page is not built ({WEB_DIST} has no index.html): "
                "run `make web` (npm ci && npm run build)"
            )
        super().__init__("approvals:index:ApprovalPlatform", name, None, opts)

        self.project = project
        self.region = args.region
        self.collections = args.collections
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
            )
            for role, given, description in (
                ("start", args.start_service_account, "Starts approval workflow executions."),
                (
                    "decide",
                    args.decide_service_account,
                    "Records approvers' decisions and sends workflow callbacks.",
                ),
                ("web", args.web_service_account, "Serves the approval page; holds no roles."),
                ("build", args.build_service_account, "Builds the approval functions' containers."),
            )
        }
        self.start_service_account_email = accounts["start"].email
        self.decide_service_account_email = accounts["decide"].email

        self.grant_execution_starter("start", iam.member_of(accounts["start"]))
        self.grant_database_reader("start", iam.member_of(accounts["start"]))
        self.grant_callback_sender("decide", iam.member_of(accounts["decide"]))
        self.grant_database_user("decide", iam.member_of(accounts["decide"]))
        build_grants = iam.grant_project_roles(
            f"{name}-build",
            project=project,
            member=iam.member_of(accounts["build"]),
            grants=[iam.Grant(role) for role in BUILD_ROLES],
            parent=self,
        )

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
        # The page signs approvers in with this web app's config (served as config.json).
        web_app = gcp.firebase.WebApp(
            f"{name}-web-app",
            project=firebase_project,
            display_name=f"approvals ({name})",
            deletion_policy="ABANDON" if args.deletion_protection else "DELETE",
            opts=pulumi.ResourceOptions(parent=self, depends_on=platform_apis),
        )
        web_config = gcp.firebase.get_web_app_config_output(
            project=firebase_project, web_app_id=web_app.app_id
        )

        common_env: dict[str, pulumi.Input[str]] = {
            "GOOGLE_CLOUD_PROJECT": project,
            "APPROVALS_DATABASE": self.database_name,
            "FIREBASE_PROJECT_ID": firebase_project,
        }
        function_env: dict[str, dict[str, pulumi.Input[str]]] = {
            "start": {"APPROVALS_WORKFLOWS_COLLECTION": args.collections.workflows},
            "decide": {
                "APPROVALS_REQUESTS_COLLECTION": args.collections.requests,
                "APPROVALS_CALLBACKS_COLLECTION": args.collections.callbacks,
            },
            "web": {
                "FIREBASE_WEB_CONFIG": pulumi.Output.all(web_app.app_id, web_config).apply(
                    lambda values: firebase_web_config(firebase_project, *values)
                )
            },
        }
        functions = {
            role: PythonFunction(
                resource_id(name, role, max_length=63),
                PythonFunctionArgs(
                    source_dir=FUNCTIONS_DIR / role,
                    entry_point=role,
                    shared_dirs={
                        "common": FUNCTIONS_DIR / "common",
                        **({"static": WEB_DIST} if role == "web" else {}),
                    },
                    bucket=bucket,
                    service_account_email=accounts[role].email,
                    build_service_account=accounts["build"].id,
                    project=project,
                    region=args.region,
                    environment={**common_env, **env},
                    memory=args.function_memory,
                    min_instances=args.min_instances,
                    max_instances=args.max_instances,
                    ingress_settings=args.ingress_settings,
                    labels=self.labels,
                    depends_on=[*platform_apis, *build_grants],
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for role, env in function_env.items()
        }
        # Hosting must reach all three; start and decide verify an ID token on every call.
        for function in functions.values():
            function.grant_invoker("allUsers", "public")

        hosting = ApprovalHosting(
            f"{name}-hosting",
            project=project,
            region=args.region,
            site_id=args.hosting_site_id or resource_id(project, name, max_length=30, min_length=6),
            rewrites=[
                Rewrite("/api/start", functions["start"].service_name),
                Rewrite("/api/decide", functions["decide"].service_name),
                Rewrite("**", functions["web"].service_name),
            ],
            depends_on=platform_apis,
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.start_url = functions["start"].url
        self.decide_url = functions["decide"].url
        self.web_url = functions["web"].url
        self.site_url = hosting.site_url
        self.register_outputs(
            {
                "start_url": self.start_url,
                "decide_url": self.decide_url,
                "web_url": self.web_url,
                "site_url": self.site_url,
                "database_name": self.database_name,
                "events_topic_name": self.events_topic_name,
                "start_service_account_email": self.start_service_account_email,
                "decide_service_account_email": self.decide_service_account_email,
            }
        )

    def workflow_env(self) -> dict[str, pulumi.Input[str]]:
        """User env vars every approval workflow of this platform reads."""
        return {
            "APPROVALS_DATABASE": self.database_name,
            "APPROVALS_REQUESTS_COLLECTION": self.collections.requests,
            "APPROVALS_CALLBACKS_COLLECTION": self.collections.callbacks,
            "APPROVALS_AUDIT_COLLECTION": self.collections.audit,
            "APPROVALS_EVENTS_TOPIC": self.events_topic_name,
        }

    def grant_event_publisher(self, key: str, member: pulumi.Input[str]) -> gcp.pubsub.TopicIAMMember:
        """Publish to this platform's events topic, and to no other topic of the project."""
        return gcp.pubsub.TopicIAMMember(
            f"{self._name}-{key}-events-publisher",
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
            f"{self._name}-{key}",
            project=self.project,
            member=member,
            grants=[
                iam.Grant(
                    role, condition=condition, condition_title="approvals database only", key=key_suffix
                )
            ],
            parent=self,
        )

    def _custom_role(self, suffix: str, title: str, permissions: list[str]) -> pulumi.Output[str]:
        if suffix not in self._custom_roles:
            # Role ids are per project and stay reserved for a while after deletion,
            # so they carry the platform's name to let several stacks share a project.
            role_id = "approvals_" + resource_id(self._name, max_length=40).replace("-", "_") + "_" + suffix
            self._custom_roles[suffix] = gcp.projects.IAMCustomRole(
                f"{self._name}-{suffix}",
                project=self.project,
                role_id=role_id,
                title=f"Approvals: {title} ({self._name})",
                description=f"{title}; created by the approvals platform {self._name}.",
                permissions=permissions,
                opts=pulumi.ResourceOptions(parent=self),
            )
        return self._custom_roles[suffix].name
