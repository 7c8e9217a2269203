"""A model of a brand-new Google Cloud project, for replaying a stack's first `pulumi up`.

On a new project every API is off, Firebase has not been added, and nothing exists yet.
Pulumi creates resources in parallel, waiting only for what each one depends on (its
inputs' resources and `depends_on`), so a resource may rely on what it depends on,
directly or through others, and on nothing else: an API enabled by a resource it does not
depend on may still be off when Pulumi creates it.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .values import read_known

RESOURCE_MANAGER = "cloudresourcemanager.googleapis.com"
IAM = "iam.googleapis.com"
FIREBASE_ADDED = "Firebase added to the project"
"""Not an API: what `firebase.Project` (or the console's "Add Firebase") does to a project."""
SERVICE = "gcp:projects/service:Service"
FIREBASE_PROJECT = "gcp:firebase/project:Project"

# What each resource needs switched on in its project before Google will create it,
# by type token; the module's entry below serves the types not listed.
NEEDS_BY_TYPE: Mapping[str, tuple[str, ...]] = {
    SERVICE: (),  # through the Service Usage API, which every project has
    "gcp:projects/iAMMember:IAMMember": (RESOURCE_MANAGER,),
    "gcp:projects/iAMBinding:IAMBinding": (RESOURCE_MANAGER,),
    "gcp:projects/iAMPolicy:IAMPolicy": (RESOURCE_MANAGER,),
    "gcp:projects/iAMCustomRole:IAMCustomRole": (IAM,),
    FIREBASE_PROJECT: ("firebase.googleapis.com",),
    "gcp:firebase/webApp:WebApp": ("firebase.googleapis.com", FIREBASE_ADDED),
    "gcp:firebase/hostingSite:HostingSite": ("firebasehosting.googleapis.com", FIREBASE_ADDED),
    # A 2nd gen function is built by Cloud Build into Artifact Registry and runs on Cloud Run.
    "gcp:cloudfunctionsv2/function:Function": (
        "cloudfunctions.googleapis.com",
        "cloudbuild.googleapis.com",
        "artifactregistry.googleapis.com",
        "run.googleapis.com",
    ),
}
NEEDS_BY_MODULE: Mapping[str, tuple[str, ...]] = {
    "serviceaccount": (IAM,),
    "firestore": ("firestore.googleapis.com",),
    "firebaserules": ("firebaserules.googleapis.com",),
    "firebase": ("firebasehosting.googleapis.com",),
    "identityplatform": ("identitytoolkit.googleapis.com",),
    "pubsub": ("pubsub.googleapis.com",),
    "secretmanager": ("secretmanager.googleapis.com",),
    "storage": ("storage.googleapis.com",),
    "cloudfunctionsv2": ("cloudfunctions.googleapis.com",),
    "cloudfunctions": ("cloudfunctions.googleapis.com", "cloudbuild.googleapis.com"),
    "cloudrunv2": ("run.googleapis.com",),
    "cloudrun": ("run.googleapis.com",),
    "workflows": ("workflows.googleapis.com",),
    "cloudscheduler": ("cloudscheduler.googleapis.com",),
    "cloudtasks": ("cloudtasks.googleapis.com",),
    "artifactregistry": ("artifactregistry.googleapis.com",),
    "cloudbuild": ("cloudbuild.googleapis.com",),
    "sql": ("sqladmin.googleapis.com",),
    "compute": ("compute.googleapis.com",),
    "container": ("container.googleapis.com",),
    "kms": ("cloudkms.googleapis.com",),
    "bigquery": ("bigquery.googleapis.com",),
    "dns": ("dns.googleapis.com",),
    "eventarc": ("eventarc.googleapis.com",),
    "redis": ("redis.googleapis.com",),
    "spanner": ("spanner.googleapis.com",),
    "vpcaccess": ("vpcaccess.googleapis.com",),
    "logging": ("logging.googleapis.com",),
    "monitoring": ("monitoring.googleapis.com",),
}


class Options(Protocol):
    delete_before_replace: bool | None


class Resource(Protocol):
    """What the model reads of a resource: a `PolicyResource`, as the analyzer builds it."""

    resource_type: str
    props: Mapping[str, Any]
    urn: str
    name: str
    opts: Options
    dependencies: list[Any]


@dataclass(frozen=True)
class Finding:
    """Why a resource would fail, or do harm, on a fresh project; `rule` names the policy."""

    rule: str
    urn: str
    message: str


def needs(resource_type: str) -> tuple[str, ...]:
    """The APIs (and `FIREBASE_ADDED`) a resource of this type needs; () for other providers."""
    if resource_type in NEEDS_BY_TYPE:
        return NEEDS_BY_TYPE[resource_type]
    provider, _, rest = resource_type.partition(":")
    if provider != "gcp":
        return ()
    return NEEDS_BY_MODULE.get(rest.split("/", 1)[0], ())


def enables(resource: Resource) -> str | None:
    """What a resource switches on in its project when created: an API, Firebase, or nothing."""
    if resource.resource_type == SERVICE:
        service = read_known(resource.props, "service")
        return service if isinstance(service, str) else None
    if resource.resource_type == FIREBASE_PROJECT:
        return FIREBASE_ADDED
    return None


def project_of(resource: Resource) -> str | None:
    """The resource's project when the program names it; None: the provider's (or not yet known)."""
    project = read_known(resource.props, "project")
    return project if isinstance(project, str) and project else None


def same_project(a: Resource, b: Resource) -> bool:
    """Whether two resources may be in one project: unnamed projects are taken to be the same."""
    first, second = project_of(a), project_of(b)
    return first is None or second is None or first == second


def replay_order(resources: Sequence[Resource]) -> list[Resource]:
    """The resources in an order Pulumi could create them in: each after all it depends on."""
    by_urn = {r.urn: r for r in resources}
    done: set[str] = set()
    order: list[Resource] = []
    for start in resources:
        # Depth-first without recursion: stacks of a thousand resources stay within limits.
        stack: list[tuple[Resource, bool]] = [(start, False)]
        while stack:
            resource, expanded = stack.pop()
            if resource.urn in done:
                continue
            if expanded:
                done.add(resource.urn)
                order.append(resource)
                continue
            stack.append((resource, True))
            stack += [(by_urn[d.urn], False) for d in resource.dependencies if d.urn in by_urn]
    return order


def upstream(resources: Sequence[Resource]) -> dict[str, set[str]]:
    """For each resource, the urns of every resource it waits for, directly or through others."""
    closure: dict[str, set[str]] = {}
    for resource in replay_order(resources):
        found: set[str] = set()
        for dependency in resource.dependencies:
            found.add(dependency.urn)
            found |= closure.get(dependency.urn, set())
        closure[resource.urn] = found
    return closure


def ordered(a: Resource, b: Resource, closure: Mapping[str, set[str]]) -> bool:
    """Whether Pulumi creates one of the two strictly before the other."""
    return a.urn in closure.get(b.urn, set()) or b.urn in closure.get(a.urn, set())


def managed_features(resources: Iterable[Resource]) -> dict[str | None, set[str]]:
    """project (None: unnamed) -> what the stack itself switches on there."""
    found: dict[str | None, set[str]] = {}
    for resource in resources:
        feature = enables(resource)
        if feature is not None:
            found.setdefault(project_of(resource), set()).add(feature)
    return found
