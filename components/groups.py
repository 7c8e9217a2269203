"""Approver groups declared as code: who is in `group:NAME`, stored where the functions and rules look.

ID tokens carry no groups (Google sign-in has none to give), so the platform
stores each member's groups in Firestore, one document per member e-mail
(`{"groups": [...]}`), from `ApprovalPlatformArgs.groups`: a change is reviewed
in a pull request and takes effect on `pulumi up`.
"""

import json
import re
from collections.abc import Iterable, Mapping, Sequence

import pulumi
import pulumi_gcp as gcp

from .errors import InvalidArgumentError
from .validation import EMAIL, check_pattern

GROUP_PREFIX = "group:"
GROUP_NAME = re.compile(r"^[a-z0-9._-]{1,63}\Z")
ALLOWED_NAME = "1-63 lower-case letters, digits, '.', '_' or '-'"
HOW_TO_DECLARE = (
    "a group declared in ApprovalPlatformArgs.groups "
    "(stack config `approvals:groups`: name -> member e-mails)"
)


def check_groups(argument: str, groups: object) -> dict[str, tuple[str, ...]]:
    """Group name -> its members (lower-cased e-mails, as given), or InvalidArgumentError naming the entry.

    A group needs a member: an empty one could never supply a vote, so every request
    naming it would wait until it expires. To retire a group, remove it with its uses.
    """
    if not isinstance(groups, Mapping):
        raise InvalidArgumentError(
            argument, f"got {type(groups).__name__}", "a map of group name -> list of member e-mails"
        )
    checked: dict[str, tuple[str, ...]] = {}
    for name, members in groups.items():
        where = f"{argument}[{name!r}]"
        check_pattern(where, name, GROUP_NAME, ALLOWED_NAME)
        if isinstance(members, str) or not isinstance(members, Sequence) or not members:
            raise InvalidArgumentError(where, f"got {members!r}", "a non-empty list of member e-mails")
        for member in members:
            check_pattern(where, member, EMAIL, "member e-mail addresses")
        lowered = tuple(member.lower() for member in members)
        if len(set(lowered)) != len(lowered):
            raise InvalidArgumentError(where, f"{list(members)} has duplicates (case-insensitive)")
        checked[name] = lowered
    return checked


def memberships(groups: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """Member e-mail -> the names of their groups, sorted: what each member's document holds."""
    found: dict[str, set[str]] = {}
    for name, members in groups.items():
        for member in members:
            found.setdefault(member, set()).add(name)
    return {member: sorted(names) for member, names in sorted(found.items())}


def membership_documents(
    name: str,
    *,
    project: str,
    database: pulumi.Input[str],
    collection: str,
    groups: Mapping[str, Iterable[str]],
    parent: pulumi.Resource,
) -> list[gcp.firestore.Document]:
    """One Firestore document per member (id: the e-mail), fields as Firestore typed values."""
    return [
        gcp.firestore.Document(
            f"{name}-membership-{member}",
            project=project,
            database=database,
            collection=collection,
            document_id=member,
            fields=json.dumps(
                {"groups": {"arrayValue": {"values": [{"stringValue": g} for g in names]}}}, sort_keys=True
            ),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        for member, names in memberships(groups).items()
    ]


def group_principals(value: object) -> list[str]:
    """Every `group:NAME` string in ``value``: nested lists and maps, and JSON text (template parameters)."""
    if isinstance(value, str):
        if value.lower().startswith(GROUP_PREFIX):
            return [value]
        try:
            parsed = json.loads(value)
        except ValueError:
            return []
        return [] if isinstance(parsed, str) else group_principals(parsed)
    if isinstance(value, Mapping):
        value = list(value.values())
    if isinstance(value, list | tuple):
        return [principal for item in value for principal in group_principals(item)]
    return []


def check_declared(argument: str, principals: Iterable[object], declared: Mapping[str, object]) -> None:
    """InvalidArgumentError naming the `group:NAME` entries of ``principals`` that are not ``declared``."""
    undeclared = [
        p
        for p in dict.fromkeys(principals)
        if isinstance(p, str)
        and p.lower().startswith(GROUP_PREFIX)
        and p[len(GROUP_PREFIX) :].lower() not in declared
    ]
    if undeclared:
        verb = "is" if len(undeclared) == 1 else "are"
        raise InvalidArgumentError(
            argument, f"{', '.join(undeclared)} {verb} not declared: nobody is in it", HOW_TO_DECLARE
        )
