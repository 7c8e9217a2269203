"""Physical names for Google resources, derived from Pulumi logical names.

Google caps and restricts ids (a service account id is 6-30 characters), so long
names are shortened with a stable hash suffix instead of being cut, which keeps two
long names that share a prefix from colliding.
"""

import hashlib
import re

import pulumi

_INVALID = re.compile(r"[^a-z0-9-]+")


def resource_id(*parts: str, max_length: int, min_length: int = 1) -> str:
    """Join parts into a lower-case, hyphenated id that fits Google's limits."""
    raw = "-".join(p for p in parts if p)
    slug = _INVALID.sub("-", raw.lower()).strip("-")
    slug = re.sub(r"-{2,}", "-", slug)
    if not slug or not slug[0].isalpha():
        slug = f"a-{slug}".rstrip("-")
    if len(slug) > max_length:
        digest = hashlib.sha256(raw.encode()).hexdigest()[:6]
        slug = f"{slug[: max_length - 7].rstrip('-')}-{digest}"
    while len(slug) < min_length:
        slug += "-x"
    return slug


def service_account_id(*parts: str) -> str:
    """A service account id: 6-30 characters, a letter first."""
    return resource_id(*parts, max_length=30, min_length=6)


CUSTOM_ROLE_ID_LENGTH = 64


def custom_role_id(platform: str, suffix: str) -> str:
    """`approvals_<platform>_<suffix>`: at most 64 letters, digits and _, as IAM requires.

    Role ids are per project and stay reserved for a while after deletion, so they
    carry the platform's name to let several stacks share a project; a long name is
    shortened (with its hash) so that the suffix always survives.
    """
    prefix = "approvals_"
    room = CUSTOM_ROLE_ID_LENGTH - len(prefix) - len(suffix) - 1
    return f"{prefix}{resource_id(platform, max_length=room).replace('-', '_')}_{suffix}"


def workflow_path(
    project: pulumi.Input[str], region: pulumi.Input[str], workflow_id: pulumi.Input[str]
) -> pulumi.Output[str]:
    """``projects/P/locations/R/workflows/W``: how the Executions API names a workflow."""
    if isinstance(project, str) and isinstance(region, str):
        # One apply, not concat's gather of three: a stack evaluates this once per workflow.
        return pulumi.Output.from_input(workflow_id).apply(
            lambda workflow: f"projects/{project}/locations/{region}/workflows/{workflow}"
        )
    return pulumi.Output.concat("projects/", project, "/locations/", region, "/workflows/", workflow_id)
