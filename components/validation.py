"""Checks shared by the components' argument classes."""

import re
from collections.abc import Mapping

from .errors import InvalidArgumentError

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


def check_int_range(argument: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidArgumentError(argument, f"{value!r} is out of range", f"an integer from {low} to {high}")
    return value


def check_bool(argument: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgumentError(argument, f"{value!r} is not a boolean", "True or False")
    return value


def check_labels(argument: str, labels: Mapping[str, str]) -> dict[str, str]:
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
