"""The names every layer shares, read from contract.json beside this module.

The functions import it as ``common.contract`` (the folder travels in each
archive); the components as ``approvals.functions.common.contract``. Standard
library only, so that both can.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

CONTRACT_PATH = Path(__file__).resolve().parent / "contract.json"


class Collection(NamedTuple):
    """A Firestore collection the platform owns: its default name and the env var that overrides it."""

    key: str
    default: str
    env: str


def _load() -> dict[str, Any]:
    return json.loads(CONTRACT_PATH.read_text(encoding="utf-8"))


_CONTRACT = _load()

COLLECTIONS: MappingProxyType[str, Collection] = MappingProxyType(
    {key: Collection(key, entry["default"], entry["env"]) for key, entry in _CONTRACT["collections"].items()}
)
WORKFLOW_ENV: frozenset[str] = frozenset(_CONTRACT["workflow_env"])
"""The user env vars the platform sets on every approval workflow."""
FUNCTION_ENV: frozenset[str] = frozenset(_CONTRACT["function_env"]) | {c.env for c in COLLECTIONS.values()}
"""The env vars the functions read."""
DOCUMENT_FIELDS: MappingProxyType[str, frozenset[str]] = MappingProxyType(
    {kind: frozenset(fields) for kind, fields in _CONTRACT["documents"].items()}
)
PLAIN_COLLECTION_NAME = re.compile(r"(?!__)[A-Za-z0-9_-]{1,100}")
"""A collection name the security rules can hold as written: `{x}` there would be a wildcard,
and Firestore reserves names starting with __."""
PAGE_CONFIG: frozenset[str] = frozenset(_CONTRACT["page_config"])
PAGE_COLLECTIONS: tuple[str, ...] = tuple(_CONTRACT["page_collections"])
"""The collections the page reads, which its config names."""
WORKFLOW_COLLECTIONS: tuple[str, ...] = tuple(key for key, c in COLLECTIONS.items() if c.env in WORKFLOW_ENV)
"""The collections the approval workflows write, whose names reach them as env vars."""
