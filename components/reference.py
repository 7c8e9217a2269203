"""PlatformReference: a platform by its outputs, so a workflow can join one another stack deployed."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import pulumi
import pulumi_gcp as gcp

from . import iam
from .apis import GoogleApis
from .database import Collections
from .errors import InvalidArgumentError
from .functions.common.contract import COLLECTIONS, WORKFLOW_COLLECTIONS
from .groups import check_groups
from .validation import (
    PROJECT_ID,
    check_bool,
    check_database_id,
    check_input,
    check_labels,
    check_pattern,
    check_region,
)

PLATFORM_OUTPUT = "approvals_platform"
"""The stack output a platform's stack exports (`PlatformReference.outputs`), and
`ApprovalPlatform.from_stack_reference` reads."""
TOPIC_NAME = re.compile(r"^projects/[^/]+/topics/[^/]+\Z")
CUSTOM_ROLE_NAME = re.compile(r"^projects/[^/]+/roles/[A-Za-z0-9_.]+\Z")
_ARG = "PlatformReference"


def database_condition(project: pulumi.Input[str], database_name: pulumi.Input[str]) -> pulumi.Output[str]:
    """An IAM condition that narrows a Firestore role to one database."""
    return pulumi.Output.all(project, database_name).apply(
        lambda values: f'resource.name == "projects/{values[0]}/databases/{values[1]}"'
    )


def _check_collections(argument: str, names: object) -> dict[str, str]:
    """Every name a Collections has, each one the rules can hold, and no other."""
    expected = COLLECTIONS.keys()
    if not isinstance(names, Mapping) or names.keys() != expected:
        raise InvalidArgumentError(argument, f"{names!r} is not valid", f"a map of {', '.join(expected)}")
    Collections(**names).check(argument)
    return dict(names)


_CHECKS = {
    "project": lambda a, v: check_pattern(a, v, PROJECT_ID, "a Google Cloud project id (6-30 characters)"),
    "region": check_region,
    "database_name": check_database_id,
    "events_topic_name": lambda a, v: check_pattern(a, v, TOPIC_NAME, "projects/PROJECT/topics/TOPIC"),
    "execution_starter_role": lambda a, v: check_pattern(
        a, v, CUSTOM_ROLE_NAME, "projects/PROJECT/roles/ROLE_ID"
    ),
    "collections": _check_collections,
    "groups": check_groups,
    "labels": check_labels,
    "deletion_protection": check_bool,
}


def _exported() -> list[str]:
    """The fields a platform's outputs carry: all but the consumer's own choice."""
    return [f.name for f in fields(PlatformReference) if f.name != "enable_apis"]


@dataclass(frozen=True, kw_only=True)
class PlatformReference:
    """An ApprovalPlatform as its workflows see it: ids and settings, from any stack.

    Get one with `ApprovalPlatform.from_stack_reference` or `ApprovalPlatform.from_outputs`
    (CDK's `fromXxx`), or from a live platform's `reference()`. Each value may be an
    Output: a plain value is checked now, an Output when it resolves (the deployment
    then fails with the same error).
    """

    project: pulumi.Input[str]
    region: pulumi.Input[str]
    database_name: pulumi.Input[str]
    """The Firestore database id, "(default)" or another."""
    events_topic_name: pulumi.Input[str]
    """`projects/P/topics/T`: workflows publish each request's state changes there."""
    execution_starter_role: pulumi.Input[str]
    """`projects/P/roles/R`: the platform's role that only starts executions (`grant_invoke`)."""
    collections: pulumi.Input[Mapping[str, str]] = field(default_factory=lambda: Collections().names())
    """`Collections.names()` of the platform."""
    groups: pulumi.Input[Mapping[str, Sequence[str]]] = field(default_factory=dict)
    """The platform's approver groups: a workflow may name only these."""
    labels: pulumi.Input[Mapping[str, str]] = field(default_factory=dict)
    deletion_protection: pulumi.Input[bool] = False
    enable_apis: bool = True
    """Enable the Google APIs a workflow's template needs (the platform's own are on already).
    The consumer's choice, not the platform's: no output carries it."""

    def __post_init__(self) -> None:
        check_bool(f"{_ARG}.enable_apis", self.enable_apis)
        for name, check in _CHECKS.items():
            object.__setattr__(self, name, check_input(f"{_ARG}.{name}", getattr(self, name), check))

    @classmethod
    def of_platform(cls, **values: Any) -> "PlatformReference":
        """A live platform's own reference, unchecked: its settings were checked as it was built, and
        its ids are its own resources' (which Pulumi's inputs-as-outputs test mocks leave empty)."""
        reference = object.__new__(cls)
        for name, value in values.items():
            object.__setattr__(reference, name, value)
        return reference

    @classmethod
    def from_outputs(
        cls, outputs: pulumi.Input[Mapping[str, Any]], *, enable_apis: bool = True
    ) -> "PlatformReference":
        """The reference a platform's `outputs()` describe, such as a StackReference's output."""
        if not isinstance(outputs, pulumi.Output):
            return cls(**outputs, enable_apis=enable_apis)
        values = {name: outputs.apply(lambda every, key=name: every[key]) for name in _exported()}
        return cls(**values, enable_apis=enable_apis)

    def outputs(self) -> dict[str, Any]:
        """What a platform's stack exports (as `PLATFORM_OUTPUT`) for workflows in other stacks."""
        return {name: getattr(self, name) for name in _exported()}

    def collection(self, key: str) -> pulumi.Input[str]:
        """A collection's name, by its `Collections` field."""
        if isinstance(self.collections, pulumi.Output):
            return self.collections.apply(lambda names: names[key])
        return self.collections[key]

    def workflow_env(self) -> dict[str, pulumi.Input[str]]:
        """User env vars every approval workflow of this platform reads (the contract's workflow_env)."""
        return {
            "APPROVALS_DATABASE": self.database_name,
            **{COLLECTIONS[key].env: self.collection(key) for key in WORKFLOW_COLLECTIONS},
            "APPROVALS_EVENTS_TOPIC": self.events_topic_name,
        }

    def grant_workflow_access(
        self, key: str, member: pulumi.Input[str], parent: pulumi.Resource, apis: GoogleApis
    ) -> list[pulumi.Resource]:
        """What a workflow's account holds on the platform: this database's documents, the events topic.

        A live platform owns these grants itself; a referenced one cannot, so `parent` does.
        """
        grants: list[pulumi.Resource] = iam.grant_project_roles(
            f"{key}-platform",
            project=self.project,
            member=member,
            grants=[
                iam.Grant(
                    "roles/datastore.user",
                    condition=database_condition(self.project, self.database_name),
                    condition_title="approvals database only",
                )
            ],
            parent=parent,
            apis=apis,
        )
        grants.append(
            gcp.pubsub.TopicIAMMember(
                f"{key}-events-publisher",
                project=self.project,
                topic=self.events_topic_name,
                role="roles/pubsub.publisher",
                member=member,
                opts=pulumi.ResourceOptions(parent=parent),
            )
        )
        return grants
