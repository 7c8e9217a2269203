"""Google's rules for the ids and names a program sets, checked before Google refuses them."""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .resource_types import (
    BUCKET,
    FIRESTORE_DATABASE,
    FIRESTORE_INDEX,
    FUNCTION,
    HOSTING_SITE,
    SECRET,
    SERVICE_ACCOUNT,
    WORKFLOW,
)


@dataclass(frozen=True)
class NameRule:
    """A name's characters (a full match), its length in characters, and what to tell people."""

    pattern: str
    shortest: int
    longest: int
    described: str
    exceptions: tuple[str, ...] = ()
    forbidden_prefix: str | None = None

    def problem(self, value: str) -> str | None:
        """Why Google would refuse `value`, or None."""
        if value in self.exceptions:
            return None
        if not self.shortest <= len(value) <= self.longest:
            return f"is {len(value)} characters long"
        if not re.fullmatch(self.pattern, value):
            return "has characters or a shape Google does not accept"
        if self.forbidden_prefix and value.lower().startswith(self.forbidden_prefix):
            return f"starts with {self.forbidden_prefix!r}"
        return None


_LOWER_ID = r"[a-z]([a-z0-9-]*[a-z0-9])?"
_PUBSUB = NameRule(
    r"[A-Za-z][A-Za-z0-9\-_.~+%]*", 3, 255, "3-255 letters, digits, - _ . ~ + %, a letter first", (), "goog"
)
# A Firestore id: no '/', not '.', '..' nor __NAME__ (reserved).
_SEGMENT = r"(?!__[^/]*__(?:/|$))(?!\.\.?(?:/|$))[^/]+"
_ID = NameRule(_SEGMENT, 1, 1500, "up to 1500 characters, no '/', not '.', '..' nor __NAME__")
# A document's collection may be a subcollection: collection/document/collection...
_COLLECTION_PATH = NameRule(
    rf"{_SEGMENT}(?:/{_SEGMENT}/{_SEGMENT})*",
    1,
    6144,
    "a collection id, or a path collection/document/collection..., each id valid",
)

RULES: Mapping[str, Mapping[str, NameRule]] = {
    SERVICE_ACCOUNT: {
        "accountId": NameRule(_LOWER_ID, 6, 30, "6-30 lower-case letters, digits or -, a letter first")
    },
    "gcp:projects/iAMCustomRole:IAMCustomRole": {
        "roleId": NameRule(r"[A-Za-z0-9_.]+", 3, 64, "3-64 letters, digits, _ or .")
    },
    FUNCTION: {"name": NameRule(_LOWER_ID, 4, 63, "4-63 lower-case letters, digits or -, a letter first")},
    "gcp:cloudrunv2/service:Service": {
        "name": NameRule(_LOWER_ID, 1, 49, "up to 49 lower-case letters, digits or -, a letter first")
    },
    WORKFLOW: {
        "name": NameRule(
            r"[A-Za-z]([A-Za-z0-9_-]*[A-Za-z0-9])?", 1, 64, "up to 64 letters, digits, - or _, a letter first"
        )
    },
    BUCKET: {
        "name": NameRule(
            r"[a-z0-9][a-z0-9_-]*[a-z0-9]",
            3,
            63,
            "3-63 lower-case letters, digits, - or _ (no dots), a letter or digit at each end",
            (),
            "goog",
        )
    },
    "gcp:pubsub/topic:Topic": {"name": _PUBSUB},
    "gcp:pubsub/subscription:Subscription": {"name": _PUBSUB},
    SECRET: {"secretId": NameRule(r"[A-Za-z0-9_-]+", 1, 255, "1-255 letters, digits, - or _")},
    FIRESTORE_DATABASE: {
        "name": NameRule(
            r"[a-z][a-z0-9-]*[a-z0-9]",
            4,
            63,
            "(default), or 4-63 lower-case letters, digits or -",
            ("(default)",),
        )
    },
    # A site id is the first label of its domains (SITE.web.app).
    HOSTING_SITE: {
        "siteId": NameRule(
            r"[a-z0-9]([a-z0-9-]*[a-z0-9])?",
            1,
            63,
            "a domain label: up to 63 lower-case letters, digits or -",
        )
    },
    "gcp:firestore/document:Document": {"collection": _COLLECTION_PATH, "documentId": _ID},
    FIRESTORE_INDEX: {"collection": _ID},
}
