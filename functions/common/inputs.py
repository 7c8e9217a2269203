"""What a JSON value from a caller must be before anything is stored or started from it.

Every value a function accepts ends up in a workflow argument, a Firestore
document, a mail or the page. Each of those refuses, or shows differently,
some values that Python's JSON parser accepts: a number too large for a
double (``1e400`` parses to ``inf``), an integer outside Firestore's and
Workflows' 64-bit range, a lone UTF-16 surrogate (not encodable as UTF-8),
and characters that make text look other than it is (bidirectional controls,
C0/C1 controls). Refusing them here, with the field named, means a request is
either fully written or not at all.
"""

from __future__ import annotations

import re
from typing import Any

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# Deeper than any real input; Python's parser itself gives up near 1,000.
MAX_DEPTH = 32

# Text shown to an approver must read as it is stored. Bidirectional embeddings,
# overrides and isolates (U+202A-202E, U+2066-2069) and the marks U+200E/200F/061C
# reorder what follows; C0 and C1 controls (but tab and line feed, which
# comments use) are invisible or break mail headers. The page, the link page and
# the mails show any that arrive another way as visible escapes (``visible`` below,
# and its copy in web/src/dom.js).
MISLEADING_CHARACTERS = re.compile(
    "[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class InputError(ValueError):
    """A value no function accepts; ``field`` is its path in the body, such as ``input.amount``."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored and shown as it is, or None."""
    if _LONE_SURROGATE.search(value):
        return "must be valid Unicode text (it has a lone surrogate)"
    found = MISLEADING_CHARACTERS.search(value)
    if found:
        return f"must not contain control or bidirectional formatting characters (U+{ord(found[0]):04X})"
    return None


def check_value(value: Any, field: str, depth: int = 0) -> None:
    """Raise InputError for the first part of ``value`` (parsed JSON) no function accepts."""
    if depth > MAX_DEPTH:
        raise InputError(field, f"is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise InputError(field, "must be an integer within the signed 64-bit range")
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise InputError(field, "must be a finite number")
    elif isinstance(value, str):
        problem = text_problem(value)
        if problem:
            raise InputError(field, problem)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_value(item, f"{field}[{index}]", depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            problem = text_problem(key)
            if problem:
                raise InputError(f"{field}.{key!r}" if field else repr(key), f"the name {problem}")
            check_value(item, f"{field}.{key}" if field else key, depth + 1)


def visible(text: str) -> str:
    """``text`` with each misleading character written out as ``[U+202E]``.

    For text that reached storage another way (a workflow started directly, an
    older request): the reader sees that something is there, and what.
    """
    return MISLEADING_CHARACTERS.sub(lambda found: f"[U+{ord(found[0]):04X}]", text)


def one_line(text: str) -> str:
    """``text`` shown visibly and on one line: a mail subject is a header, where a line break ends it."""
    return visible(" ".join(text.split()))
