"""Which stack a resource belongs to, and whether that stack is production."""

from collections.abc import Iterable
from typing import Any

PROD_STACKS: dict[str, Any] = {
    "type": "array",
    "items": {"type": "string"},
    "default": ["prod", "production"],
    "description": "Stack names that hold production data.",
}


def stack_name(urn: str) -> str:
    """The stack in `urn:pulumi:<stack>::<project>::<type>::<name>`."""
    return urn.split("::", 1)[0].split(":", 2)[2]


def in_prod(urn: str, prod_stacks: Iterable[str]) -> bool:
    return stack_name(urn) in set(prod_stacks)
