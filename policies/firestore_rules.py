"""Firestore security rules: read them (best effort), and reject open or test-mode rules."""

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .resource_types import RULESET
from .values import read, strings

READ_OPERATIONS = {"read", "get", "list"}
_TOKENS = re.compile(
    r"\bmatch\s+(?P<path>/(?:[^\s{}]|\{[^{}]*\})*)\s*\{"
    r"|\ballow\s+(?P<operations>[a-z]+(?:\s*,\s*[a-z]+)*)\s*(?::\s*if\b(?P<condition>[^;]*))?;"
    r"|(?P<open>\{)|(?P<close>\})",
    re.DOTALL,
)
_COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*", re.DOTALL)
_DOCUMENTS = re.compile(r"^/databases/[^/]+/documents")
_TEST_MODE = re.compile(r"request\.time\s*<\s*timestamp")


@dataclass(frozen=True)
class Rule:
    """One `allow` statement and the full path of the match blocks around it."""

    path: str
    operations: tuple[str, ...]
    condition: str | None  # None: `allow read;` with no condition at all

    @property
    def text(self) -> str:
        ops = ", ".join(self.operations)
        return f"allow {ops};" if self.condition is None else f"allow {ops}: if {self.condition};"

    @property
    def collection(self) -> str | None:
        """The top-level Firestore collection the rule covers (`{name}` for a wildcard)."""
        if not _DOCUMENTS.match(self.path):
            return None
        segments = _DOCUMENTS.sub("", self.path).strip("/").split("/")
        return segments[0] or None

    @property
    def lets_clients_read(self) -> bool:
        return bool(READ_OPERATIONS & set(self.operations)) and self.condition != "false"


def rules(text: str) -> Iterator[Rule]:
    """The allow statements of a rules file, each with the path of its match blocks."""
    blocks: list[str] = []  # the match path each open brace started ("" for other blocks)
    for token in _TOKENS.finditer(_COMMENTS.sub("", text)):
        if token["path"] is not None:
            blocks.append(token["path"])
        elif token["operations"] is not None:
            condition = " ".join(token["condition"].split()) if token["condition"] is not None else None
            operations = tuple(op.strip() for op in token["operations"].split(","))
            yield Rule("".join(blocks), operations, condition)
        elif token["open"] is not None:
            blocks.append("")
        elif blocks:
            blocks.pop()


def ruleset_sources(props: Mapping[str, Any]) -> list[str]:
    """The text of each file in a Ruleset's `source.files[].content`."""
    files = read(props, "source", "files")
    count = len(files) if files is not None and not isinstance(files, str) else 0
    return strings([read(props, "source", "files", index, "content") for index in range(count)])


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != RULESET:
        return
    for source in ruleset_sources(args.props):
        for rule in rules(source):
            if rule.condition is None:
                problem = "has no condition, so it lets anyone"
            elif rule.condition == "true":
                problem = "is `if true`, so it lets anyone"
            elif _TEST_MODE.search(rule.condition):
                problem = "is the test-mode time limit, so until then it lets anyone"
            else:
                continue
            report_violation(
                f"Ruleset {args.name}: '{rule.text}' at {rule.path or '/'} {problem} "
                f"{' and '.join(rule.operations)} those documents. Fix: deny by default and allow only what "
                "a signed-in caller may see of their own documents (e.g. `if request.auth != null && "
                "resource.data.requester == request.auth.token.email`); writes go through the functions.",
                None,
            )


firestore_rules_not_open = ResourceValidationPolicy(
    name="firestore-rules-not-open",
    description="Firestore rules never allow access with `if true`, without a condition, or in test mode.",
    validate=validate,
    enforcement_level=EnforcementLevel.MANDATORY,
)
