"""Deployability: what makes a first `pulumi up` on a fresh project fail, or a later one.

Each rule reads the stack the way the engine will run it (see fresh_project.py) and says
what Google would refuse. `rehearse` runs them all on a stack as if its project were
brand new; the policies run the same rules for `pulumi preview --policy-pack` and
`python -m policies check`.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pulumi_policy import EnforcementLevel, ReportViolation, StackValidationArgs, StackValidationPolicy

from . import fresh_project
from .fresh_project import FIREBASE_ADDED, Finding, Resource
from .google_names import RULES
from .iam import grants, is_iam
from .pulumi_internals import UnknownValueError
from .resource_types import FIRESTORE_INDEX, FUNCTION, RULES_RELEASE
from .settings import schema, settings
from .values import UNKNOWN, Unchecked, read_known

SECRET_READER_ROLES = {"roles/secretmanager.secretAccessor", "roles/secretmanager.admin"}
# Resources that cannot be updated in place, under a name that a replacement keeps: two
# cannot exist at once, so a replacement must delete the old one first.
DELETE_FIRST = {
    RULES_RELEASE: (
        "a rules release is named for the database it serves and takes no update, so a change of "
        "ruleset replaces it under the same name (terraform-provider-google #15497, #20917)"
    ),
}


def apis_enabled_before_use(
    resources: Sequence[Resource], *, strict: bool, enabled_outside: Iterable[str] = ()
) -> list[Finding]:
    """Every resource waits for the APIs (and Firebase) it needs to be switched on.

    `strict`: every API starts off, as in a project made through the API (the console and
    gcloud switch a few on, such as Storage and Logging), and whatever the stack needs it
    must enable itself, unless `enabled_outside`. Otherwise only races are reported: a
    resource needing what the stack itself switches on in its project, but not waiting for it.
    """
    closure = fresh_project.upstream(resources)
    by_urn = {r.urn: r for r in resources}
    managed = fresh_project.managed_features(resources)
    outside = set(enabled_outside)
    findings = []
    for resource in resources:
        for need in fresh_project.needs(resource.resource_type):
            if need in outside or not (strict or _switched_on_here(managed, resource, need)):
                continue
            enablers = [by_urn[urn] for urn in closure[resource.urn] if urn in by_urn]
            if any(
                fresh_project.enables(e) == need and fresh_project.same_project(e, resource) for e in enablers
            ):
                continue
            findings.append(Finding("apis-enabled-before-use", resource.urn, _unmet(resource, need)))
    return findings


def _switched_on_here(managed: Mapping[str | None, set[str]], resource: Resource, need: str) -> bool:
    """Whether the stack itself switches `need` on in the resource's project (or may: unnamed projects)."""
    project = fresh_project.project_of(resource)
    return any(need in features for p, features in managed.items() if project is None or p in (project, None))


def _unmet(resource: Resource, need: str) -> str:
    if need == FIREBASE_ADDED:
        return (
            f"{resource.name} ({resource.resource_type}) needs Firebase added to its project, and depends "
            "on no gcp.firebase.Project. Fix: depend on one (the provider adopts a project that has "
            "Firebase already)."
        )
    return (
        f"{resource.name} ({resource.resource_type}) calls {need} but does not wait for a "
        "gcp.projects.Service enabling it: Pulumi may create it first, and Google answers "
        f"SERVICE_DISABLED. Fix: depend on the Service that enables {need} (directly or through a "
        "resource that does), or list the API in enabled_outside_the_stack if it is on before the "
        "stack runs."
    )


def names_within_google_limits(
    resources: Sequence[Resource], unchecked: Unchecked | None = None
) -> list[Finding]:
    """Every id and name the program sets fits Google's length and character rules; a name
    computed from a value only the deploy knows is noted in `unchecked`."""
    findings = []
    for resource in resources:
        for prop, rule in RULES.get(resource.resource_type, {}).items():
            value = read_known(resource.props, prop)
            if value is UNKNOWN and unchecked is not None:
                unchecked.note_value(resource.name, prop)
            problem = rule.problem(value) if isinstance(value, str) else None
            if problem:
                findings.append(
                    Finding(
                        "names-within-google-limits",
                        resource.urn,
                        f"{resource.name}: {prop} {value!r} {problem}; Google takes {rule.described}. "
                        f"Fix: set {prop} to a name that fits.",
                    )
                )
    return findings


def replaced_delete_first(resources: Sequence[Resource]) -> list[Finding]:
    """Resources that cannot exist twice are replaced delete-first (`delete_before_replace`)."""
    return [
        Finding(
            "replaced-delete-first",
            r.urn,
            f"{r.name}: {DELETE_FIRST[r.resource_type]}. Pulumi creates a replacement first, which Google "
            "refuses while the old one exists. Fix: set delete_before_replace=True.",
        )
        for r in resources
        if r.resource_type in DELETE_FIRST and not r.opts.delete_before_replace
    ]


def secret_access_before_function(resources: Sequence[Resource], *, strict: bool) -> list[Finding]:
    """A function reading a secret waits for its account's access: Cloud Run checks it at deploy.

    `strict` (a fresh project): the access must be granted in the stack. Otherwise only a
    grant the stack makes but the function does not wait for is reported: access may be
    granted outside the stack.
    """
    closure = fresh_project.upstream(resources)
    findings = []
    for function in (r for r in resources if r.resource_type == FUNCTION):
        account = _known(function.props, "serviceConfig", "serviceAccountEmail")
        for secret in _secrets_read(function):
            grants = [g for g in resources if _grants_access(g, secret, account)]
            waited_for = any(g.urn in closure[function.urn] for g in grants)
            if not waited_for and (strict or grants):
                findings.append(
                    Finding(
                        "secret-access-before-function",
                        function.urn,
                        f"{function.name} reads secret {secret} but depends on no grant of "
                        f"roles/secretmanager.secretAccessor on it to {account or 'its service account'}; "
                        "Cloud Run checks that access when it creates the revision, so the deploy fails "
                        "if the grant comes later. Fix: depend on the secret's IAM member.",
                    )
                )
    return findings


def _known(props: Mapping[str, Any], *path: str) -> str | None:
    """A string property, or None when unset or unknown during preview (it then matches anything)."""
    value = read_known(props, *path)
    return value if isinstance(value, str) else None


def _short_secret(reference: str) -> str:
    """`projects/P/secrets/NAME[/versions/N]` or NAME -> NAME."""
    parts = reference.split("/")
    return parts[parts.index("secrets") + 1] if "secrets" in parts[:-1] else reference


def _secrets_read(function: Resource) -> list[str]:
    found = []
    for key in ("secretEnvironmentVariables", "secretVolumes"):
        entries = read_known(function.props, "serviceConfig", key)
        for index in range(len(entries) if isinstance(entries, Sequence) else 0):
            name = _known(function.props, "serviceConfig", key, index, "secret")  # type: ignore[arg-type]
            found.append(_short_secret(name) if name else "(unknown until deploy)")
    return found


def _grants_access(grant: Resource, secret: str, account: str | None) -> bool:
    if not is_iam(grant.resource_type):
        return False
    scope = grant.resource_type.split("/", 1)[0]
    if scope == "gcp:secretmanager":
        target = _known(grant.props, "secretId")
        if target and not secret.startswith("(") and _short_secret(target) != secret:
            return False
    elif scope != "gcp:projects":
        return False
    try:
        pairs = [(g.role, g.member) for g in grants(grant.props)]
    except UnknownValueError:
        return True  # decided at deploy time: nothing to say now
    wanted = f"serviceAccount:{account}" if account else None
    return any(role in SECRET_READER_ROLES and wanted in (None, member) for role, member in pairs)


def indexes_one_at_a_time(resources: Sequence[Resource]) -> list[Finding]:
    """Composite indexes of one database are created one after the other."""
    closure = fresh_project.upstream(resources)
    indexes = [r for r in resources if r.resource_type == FIRESTORE_INDEX]
    findings = []
    for later_position, later in enumerate(indexes):
        for earlier in indexes[:later_position]:
            if _same_database(earlier, later) and not fresh_project.ordered(earlier, later, closure):
                findings.append(
                    Finding(
                        "indexes-one-at-a-time",
                        later.urn,
                        f"{later.name} and {earlier.name} index one database and neither depends on the "
                        "other, so Pulumi asks for both at once, and Firestore answers such requests with "
                        "409 contention errors (terraform-provider-google #16599, #16664; newer provider "
                        "versions retry them). Fix: depends_on the previous index.",
                    )
                )
                break
    return findings


def _same_database(a: Resource, b: Resource) -> bool:
    first, second = _known(a.props, "database") or "(default)", _known(b.props, "database") or "(default)"
    return fresh_project.same_project(a, b) and first == second


def rehearse(resources: Sequence[Resource], enabled_outside: Iterable[str] = ()) -> list[Finding]:
    """Every finding of a first `pulumi up` of `resources` on a brand-new project."""
    return [
        *apis_enabled_before_use(resources, strict=True, enabled_outside=enabled_outside),
        *names_within_google_limits(resources),
        *replaced_delete_first(resources),
        *secret_access_before_function(resources, strict=True),
        *indexes_one_at_a_time(resources),
    ]


API_SCHEMA = schema(
    fresh_project={
        "type": "boolean",
        "default": False,
        "description": (
            "Check as for a brand-new project: every API the stack needs must be enabled by the stack "
            "(or listed in enabled_outside_the_stack). Otherwise only APIs the stack enables itself are "
            "checked, for resources that do not wait for them."
        ),
    },
    enabled_outside_the_stack={
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": (
            "APIs (e.g. compute.googleapis.com), or 'Firebase added to the project', that are switched on "
            "before this stack runs."
        ),
    },
)


def _apis_as_configured(args: StackValidationArgs, _: Unchecked) -> list[Finding]:
    config = settings(args, API_SCHEMA)
    return apis_enabled_before_use(
        args.resources, strict=config["fresh_project"], enabled_outside=config["enabled_outside_the_stack"]
    )


def _policy(
    name: str,
    description: str,
    rule: Callable[[StackValidationArgs, Unchecked], list[Finding]],
    level: EnforcementLevel = EnforcementLevel.MANDATORY,
    **extra: Any,
) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        unchecked = Unchecked()
        for finding in rule(args, unchecked):
            report_violation(finding.message, finding.urn)
        unchecked.raise_if_any()

    return StackValidationPolicy(
        name=name, description=description, validate=validate, enforcement_level=level, **extra
    )


DEPLOYABILITY = [
    _policy(
        "apis-enabled-before-use",
        "Every resource waits for the Service that enables its API (where the stack enables it).",
        _apis_as_configured,
        config_schema=API_SCHEMA,
    ),
    _policy(
        "names-within-google-limits",
        "Ids and names fit Google's length and character rules.",
        lambda args, unchecked: names_within_google_limits(args.resources, unchecked),
    ),
    _policy(
        "replaced-delete-first",
        "Resources that cannot exist twice under one name are replaced delete-first.",
        lambda args, _: replaced_delete_first(args.resources),
    ),
    _policy(
        "secret-access-before-function",
        "A function that reads a secret waits for the stack's grant of access to it.",
        lambda args, _: secret_access_before_function(args.resources, strict=False),
    ),
    # Advisory: newer provider versions retry the contention, so a deploy usually recovers.
    _policy(
        "indexes-one-at-a-time",
        "Firestore composite indexes of one database are created one after another.",
        lambda args, _: indexes_one_at_a_time(args.resources),
        EnforcementLevel.ADVISORY,
    ),
]
