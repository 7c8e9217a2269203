"""What of a captured stack program runs locally, read from its resources.

The local stack serves what `pulumi up` would create: the Firestore rules
that are released, the documents the program writes, each workflow's source,
env vars and service account, each function's source archive, entry point,
env vars and secret env vars, who may invoke each function (run.invoker on its
Cloud Run service), the Pub/Sub topics and subscriptions (a push subscription
pushes to the function its endpoint names, with an ID token of its oidcToken
account), and the hosting version's rewrites. Anything it cannot serve is
refused here, by name, before a single service starts.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from approvals.emulator.hosting import HostingConfig, HostingConfigError
from approvals.testing import CapturedResource, Graph

PLATFORM = "approvals:index:ApprovalPlatform"
WORKFLOW = "gcp:workflows/workflow:Workflow"
FUNCTION = "gcp:cloudfunctionsv2/function:Function"
BUCKET_OBJECT = "gcp:storage/bucketObject:BucketObject"
DOCUMENT = "gcp:firestore/document:Document"
DATABASE = "gcp:firestore/database:Database"
RULESET = "gcp:firebaserules/ruleset:Ruleset"
RELEASE = "gcp:firebaserules/release:Release"
HOSTING_VERSION = "gcp:firebase/hostingVersion:HostingVersion"
TOPIC = "gcp:pubsub/topic:Topic"
SUBSCRIPTION = "gcp:pubsub/subscription:Subscription"
PROJECT_IAM_MEMBER = "gcp:projects/iAMMember:IAMMember"
CUSTOM_ROLE = "gcp:projects/iAMCustomRole:IAMCustomRole"
SERVICE_IAM_MEMBER = "gcp:cloudrunv2/serviceIamMember:ServiceIamMember"
SERVICE_IAM_BINDING = "gcp:cloudrunv2/serviceIamBinding:ServiceIamBinding"
# Who may call a Cloud Run service: "By default, services are only callable by Project Owners,
# Project Editors, and Cloud Run Admins and Cloud Run Invokers"
# (https://cloud.google.com/run/docs/securing/authenticating); the permission is run.routes.invoke.
INVOKE_PERMISSION = "run.routes.invoke"
INVOKER_ROLES = frozenset({"roles/run.invoker", "roles/run.admin", "roles/owner", "roles/editor"})
PUBLIC = "allUsers"
# Subscription settings the local stack cannot honour: a pull or a push to a function, unfiltered, runs.
UNSERVED_SUBSCRIPTION_SETTINGS = {
    "filter": "a message filter (the Pub/Sub emulator ignores filters)",
    "bigqueryConfig": "delivery to BigQuery",
    "cloudStorageConfig": "delivery to Cloud Storage",
}


class StackError(RuntimeError):
    """The program cannot run locally, or the machine lacks something; the message says how to fix it."""


@dataclass(frozen=True)
class FunctionSource:
    """A Cloud Function as deployed: its name (= its Cloud Run service), entry point, env and archive."""

    name: str
    entry_point: str
    env: dict[str, str]
    # Env var -> the secret it reads (projects/P/secrets/S); locally every version of a secret is one value.
    secret_env: dict[str, str]
    url: str | None  # its URL in the cloud, which push subscriptions name
    files: dict[str, Path | str]  # path in the archive -> the file, or the text of a string asset
    service_account: str | None = None  # the identity it runs as (its metadata server's)

    def unpack(self, folder: Path) -> Path:
        """Lay the archive out in ``folder`` (replacing what was there), as the runtime would see it."""
        shutil.rmtree(folder, ignore_errors=True)
        for name, content in self.files.items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, Path):
                shutil.copyfile(content, target)
            else:
                target.write_text(content)
        return folder


@dataclass(frozen=True)
class WorkflowSource:
    """A workflow as deployed."""

    name: str
    source: str
    env: dict[str, str]
    service_account: str | None


@dataclass(frozen=True)
class Document:
    """A Firestore document the program writes (the workflow registry)."""

    project: str
    database: str
    path: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class Subscription:
    """A Pub/Sub subscription: a push one delivers to ``push_function``'s URL plus ``push_path``."""

    name: str  # projects/P/subscriptions/S
    topic: str  # projects/P/topics/T
    push_function: str | None  # None: a pull subscription
    push_path: str  # what of the push endpoint follows the function's URL (a path or a query)
    push_endpoint: str | None = None  # the endpoint as configured (the function's URL in the cloud)
    # pushConfig.oidcToken: the account Pub/Sub signs the push's ID token as (None: no token), and
    # the token's audience ("if not specified, the Push endpoint URL will be used", PushConfig.OidcToken).
    oidc_service_account: str | None = None
    oidc_audience: str | None = None
    ack_deadline_seconds: int = 10  # Pub/Sub's default
    # retryPolicy's backoffs in seconds; None: no policy, which means immediate redelivery.
    minimum_backoff: float | None = None
    maximum_backoff: float | None = None

    @property
    def token_audience(self) -> str | None:
        """The ``aud`` of the push's ID token: the configured audience, else the push endpoint."""
        return self.oidc_audience or self.push_endpoint


@dataclass(frozen=True)
class StackPlan:
    """What of the captured graph runs locally."""

    project: str
    firebase_project: str
    location: str
    database: str
    rules: str | None
    documents: tuple[Document, ...]
    workflows: tuple[WorkflowSource, ...]
    functions: tuple[FunctionSource, ...]
    topics: tuple[str, ...]  # projects/P/topics/T
    subscriptions: tuple[Subscription, ...]
    hosting: HostingConfig
    # Project IAM as the program grants it: (role, member) pairs, and each custom role's permissions.
    grants: tuple[tuple[str, str], ...] = ()
    custom_roles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Cloud Run service IAM: (service, role, member) for each grant on a function's service.
    service_grants: tuple[tuple[str, str, str], ...] = ()

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret a function reads, once each."""
        return tuple(sorted({s for f in self.functions for s in f.secret_env.values()}))

    def invokers(self, service: str) -> frozenset[str]:
        """The members that may invoke ``service``: its own grants, and the project's that reach it."""
        members = {
            member
            for granted_on, role, member in self.service_grants
            if granted_on == service and self._invokes(role)
        }
        members.update(member for role, member in self.grants if self._invokes(role))
        return frozenset(members)

    def is_public(self, service: str) -> bool:
        """Whether anyone may invoke ``service`` without a token (run.invoker granted to allUsers)."""
        return PUBLIC in self.invokers(service)

    def _invokes(self, role: str) -> bool:
        return role in INVOKER_ROLES or INVOKE_PERMISSION in self.custom_roles.get(role, ())

    @classmethod
    def read(cls, graph: Graph) -> StackPlan:
        """The plan, or a StackError naming what the graph lacks or what cannot run locally."""
        if not graph.of_type(PLATFORM):
            raise StackError("the program registers no ApprovalPlatform: there is no approvals stack to run")
        workflows = graph.of_type(WORKFLOW)
        if not workflows:
            raise StackError(
                "the program registers no workflow (gcp:workflows/workflow:Workflow): nothing to run"
            )
        project = _one({r.outputs.get("project") for r in workflows}, "workflows' projects")
        if project is None:
            raise StackError("the program's workflows name no project: set gcp:project in the stack config")
        location = _one({r.outputs.get("region") for r in workflows}, "workflows' regions")
        functions = tuple(_function(graph, r) for r in graph.of_type(FUNCTION))
        firebase_projects = {
            f.env["FIREBASE_PROJECT_ID"] for f in functions if "FIREBASE_PROJECT_ID" in f.env
        }
        hosting = _hosting(graph, {f.name for f in functions})
        topics = tuple(
            _full_name(r.outputs["name"], r.outputs.get("project") or project, "topics")
            for r in graph.of_type(TOPIC)
        )
        databases = graph.of_type(DATABASE)
        return cls(
            project=project,
            firebase_project=_one(firebase_projects, "functions' FIREBASE_PROJECT_ID") or project,
            location=location,
            database=databases[0].outputs.get("name", "(default)") if databases else "(default)",
            rules=_firestore_rules(graph),
            documents=tuple(_document(r, project) for r in graph.of_type(DOCUMENT)),
            workflows=tuple(
                WorkflowSource(
                    name=r.outputs["name"],
                    source=r.outputs["sourceContents"],
                    env={k: str(v) for k, v in (r.outputs.get("userEnvVars") or {}).items()},
                    service_account=r.outputs.get("serviceAccount"),
                )
                for r in workflows
            ),
            functions=functions,
            topics=topics,
            subscriptions=tuple(
                _subscription(r, project, topics, functions) for r in graph.of_type(SUBSCRIPTION)
            ),
            hosting=hosting,
            grants=tuple(
                (r.outputs["role"], r.outputs["member"])
                for r in graph.of_type(PROJECT_IAM_MEMBER)
                if isinstance(r.outputs.get("role"), str) and isinstance(r.outputs.get("member"), str)
            ),
            custom_roles={
                f"projects/{r.outputs.get('project') or project}/roles/{r.outputs['roleId']}": tuple(
                    r.outputs.get("permissions") or ()
                )
                for r in graph.of_type(CUSTOM_ROLE)
                if isinstance(r.outputs.get("roleId"), str)
            },
            service_grants=_service_grants(graph),
        )


def _one(values: set[Any], what: str) -> Any:
    """The single value the resources agree on (None if there is none); the local stack has one of each."""
    values.discard(None)
    if len(values) > 1:
        raise StackError(
            f"the local stack runs one project in one region, but the {what} differ: {sorted(values)}"
        )
    return next(iter(values), None)


def _function(graph: Graph, resource: CapturedResource) -> FunctionSource:
    outputs = resource.outputs
    name = outputs.get("name", resource.name)
    build = outputs.get("buildConfig") or {}
    storage = (build.get("source") or {}).get("storageSource") or {}
    archive = next(
        (
            r
            for r in graph.of_type(BUCKET_OBJECT)
            if r.outputs.get("name") == storage.get("object")
            and r.outputs.get("bucket") == storage.get("bucket")
        ),
        None,
    )
    if archive is None or not isinstance(archive.outputs.get("source"), pulumi.AssetArchive):
        raise StackError(f"function {name}: its source is not an archive of the program's files")
    files: dict[str, Path | str] = {}
    for path, asset in archive.outputs["source"].assets.items():
        if isinstance(asset, pulumi.FileAsset):
            files[path] = Path(asset.path)
        elif isinstance(asset, pulumi.StringAsset):
            files[path] = asset.text
        else:
            raise StackError(
                f"function {name}: archive entry {path} is a {type(asset).__name__}; "
                "only file and string assets run locally"
            )
    if "main.py" not in files:
        raise StackError(f"function {name}: its archive has no main.py at the root")
    service = outputs.get("serviceConfig") or {}
    if service.get("secretVolumes"):
        raise StackError(
            f"function {name}: secrets mounted as volumes do not run locally, only secret env vars"
        )
    return FunctionSource(
        name=name,
        entry_point=build.get("entryPoint") or name,
        env={k: str(v) for k, v in (service.get("environmentVariables") or {}).items()},
        secret_env={
            s["key"]: _full_name(s["secret"], s.get("projectId") or outputs.get("project"), "secrets")
            for s in service.get("secretEnvironmentVariables") or []
        },
        url=outputs.get("url"),
        files=files,
        service_account=service.get("serviceAccountEmail"),
    )


def _service_grants(graph: Graph) -> tuple[tuple[str, str, str], ...]:
    """(service, role, member) of each Cloud Run service IAM member and binding the program creates."""
    grants = []
    for resource in (*graph.of_type(SERVICE_IAM_MEMBER), *graph.of_type(SERVICE_IAM_BINDING)):
        outputs = resource.outputs
        service, role = outputs.get("name"), outputs.get("role")
        members = outputs.get("members") or [outputs.get("member")]
        if not isinstance(service, str) or not isinstance(role, str):
            continue
        # The service is named by its short name or its full one, projects/P/locations/L/services/S.
        grants += [(service.rsplit("/", 1)[-1], role, m) for m in members if isinstance(m, str)]
    return tuple(grants)


def _full_name(name: str, project: str | None, kind: str) -> str:
    """``projects/P/KIND/NAME`` for a resource given by its short name or its full one."""
    return name if name.startswith("projects/") else f"projects/{project}/{kind}/{name}"


def _subscription(
    resource: CapturedResource, project: str, topics: tuple[str, ...], functions: tuple[FunctionSource, ...]
) -> Subscription:
    outputs = resource.outputs
    owner = outputs.get("project") or project
    name = _full_name(outputs["name"], owner, "subscriptions")
    topic = _full_name(outputs["topic"], owner, "topics")
    if topic not in topics:
        raise StackError(f"subscription {name}: its topic {topic} is not one the program creates")
    unserved = [what for key, what in UNSERVED_SUBSCRIPTION_SETTINGS.items() if outputs.get(key)]
    if unserved:
        raise StackError(f"subscription {name}: {', '.join(unserved)} does not run locally")
    push = outputs.get("pushConfig") or {}
    endpoint = push.get("pushEndpoint")
    if not endpoint:
        return Subscription(name, topic, None, "")
    if push.get("noWrapper"):
        raise StackError(f"subscription {name}: unwrapped pushes (noWrapper) do not run locally")
    oidc = push.get("oidcToken") or {}
    retry = outputs.get("retryPolicy")
    delivery = {
        "push_endpoint": endpoint,
        "oidc_service_account": oidc.get("serviceAccountEmail") or None,
        "oidc_audience": oidc.get("audience") or None,
        "ack_deadline_seconds": int(outputs.get("ackDeadlineSeconds") or 10),
        # A retry policy's unset backoffs default to 10s and 600s (Subscription.RetryPolicy reference).
        "minimum_backoff": _seconds(retry.get("minimumBackoff"), 10.0) if retry else None,
        "maximum_backoff": _seconds(retry.get("maximumBackoff"), 600.0) if retry else None,
    }
    for function in functions:
        url = function.url
        if url and (endpoint == url or endpoint.startswith((f"{url}/", f"{url}?"))):
            return Subscription(name, topic, function.name, endpoint.removeprefix(url), **delivery)
    raise StackError(
        f"subscription {name} pushes to {endpoint}, which is no function of the program: "
        "only pushes to the program's functions run locally"
    )


def _seconds(duration: Any, default: float) -> float:
    """A protobuf Duration as JSON ("10s", "0.5s") in seconds; ``default`` when it is not set."""
    if not isinstance(duration, str) or not duration.endswith("s"):
        return default
    try:
        return float(duration.removesuffix("s"))
    except ValueError as error:
        raise StackError(
            f"a subscription's retry policy has a backoff that is no duration: {duration!r}"
        ) from error


def _document(resource: CapturedResource, project: str) -> Document:
    outputs = resource.outputs
    fields = outputs.get("fields") or "{}"
    return Document(
        project=outputs.get("project") or project,
        database=outputs.get("database") or "(default)",
        path=f"{outputs['collection']}/{outputs['documentId']}",
        fields=json.loads(fields) if isinstance(fields, str) else dict(fields),
    )


def _firestore_rules(graph: Graph) -> str | None:
    """The rules released for Firestore (a ruleset that is not released does not apply)."""
    rulesets = {r.outputs.get("name"): r for r in graph.of_type(RULESET)}
    released = {
        release.outputs.get("rulesetName", "").rsplit("/", 1)[-1]
        for release in graph.of_type(RELEASE)
        if str(release.outputs.get("name", "")).startswith("cloud.firestore")
    }
    sources = {
        rulesets[name].outputs["source"]["files"][0]["content"] for name in released if name in rulesets
    }
    if len(sources) > 1:
        raise StackError(
            "the Firestore emulator takes one rules file, but the program releases several rulesets"
        )
    return next(iter(sources), None)


def _hosting(graph: Graph, functions: set[str]) -> HostingConfig:
    versions = graph.of_type(HOSTING_VERSION)
    if len(versions) > 1:
        raise StackError(
            f"the local origin serves one hosting site, but the program has {len(versions)} versions"
        )
    try:
        config = (
            HostingConfig.parse(versions[0].outputs.get("config") or {})
            if versions
            else HostingConfig((), ())
        )
    except HostingConfigError as error:
        raise StackError(str(error)) from error
    unknown = sorted({r.service for r in config.rewrites} - functions)
    if unknown:
        raise StackError(f"hosting rewrites to {unknown}, which the program does not deploy as functions")
    return config
