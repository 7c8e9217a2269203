"""Checks shared by the components' argument classes."""

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import pulumi

from .database import DEFAULT_DATABASE
from .errors import InvalidArgumentError
from .naming import resource_id

T = TypeVar("T")

REGION = re.compile(r"^[a-z]+-[a-z]+[0-9]+\Z")
# Firestore also takes multi-regions such as nam5 and eur3.
FIRESTORE_LOCATION = re.compile(r"^([a-z]+-[a-z]+[0-9]+|nam[0-9]+|eur[0-9]+)\Z")
PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]\Z")
LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}\Z")
LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}\Z")
DOMAIN = re.compile(r"^(?=.{1,253}\Z)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\Z", re.IGNORECASE)
_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
EMAIL = re.compile(rf"^{_EMAIL}\Z")
# An approver: a person's e-mail, or group:NAME (a group the platform declares).
APPROVER = re.compile(rf"^(group:[A-Za-z0-9._@+-]+|{_EMAIL})\Z")
HTTPS_URL = re.compile(r"^https://[^\s/?#]+[^\s]*\Z")


def check_pattern(argument: str, value: object, pattern: re.Pattern[str], allowed: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise InvalidArgumentError(argument, f"{value!r} is not valid", allowed)
    return value


def check_region(argument: str, value: object) -> str:
    return check_pattern(argument, value, REGION, "a Google Cloud region such as europe-west1")


def check_int_range(argument: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidArgumentError(argument, f"{value!r} is out of range", f"an integer from {low} to {high}")
    return value


def check_bool(argument: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgumentError(argument, f"{value!r} is not a boolean", "True or False")
    return value


def check_labels(argument: str, labels: object) -> dict[str, str]:
    if not isinstance(labels, Mapping):
        raise InvalidArgumentError(argument, f"{labels!r} is not a map", "label -> value")
    for key, value in labels.items():
        check_pattern(
            f"{argument}[{key!r}]", key, LABEL_KEY, "a lower-case key of up to 63 letters, digits, _ or -"
        )
        check_pattern(
            f"{argument}[{key!r}]",
            value,
            LABEL_VALUE,
            "a lower-case value of up to 63 letters, digits, _ or -",
        )
    return dict(labels)


def check_database_id(argument: str, value: object) -> str:
    """ "(default)", or an id of lower-case letters, digits and - (Firestore's)."""
    if not isinstance(value, str) or not (
        value == DEFAULT_DATABASE or resource_id(value, max_length=63) == value
    ):
        raise InvalidArgumentError(
            argument, f"{value!r} is not valid", '"(default)" or lower-case letters, digits and -'
        )
    return value


def check_input(argument: str, value: "pulumi.Input[T]", check: Callable[[str, Any], T]) -> "pulumi.Input[T]":
    """`check` a plain value now; an Output when it resolves, failing the deployment with the same error.

    A value another stack or resource gives is known only then: checking it at
    construction would refuse every Output, and skipping it would let a bad one through.
    """
    if isinstance(value, pulumi.Output):
        return value.apply(lambda resolved: check(argument, resolved))
    return check(argument, value)
