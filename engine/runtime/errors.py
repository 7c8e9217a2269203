"""Workflows errors: values raised by steps and caught by `except`, tagged like Google's.

A raised error is any Workflows value: `raise: "boom"` raises a string,
`raise: {code: 55}` a map. Errors the runtime raises itself are maps with
`message` and `tags` ("Errors are maps {tags: [...], message: ...}" in the
docs' error reference), so `"KeyError" in e.tags` works in an except block.
"""

from __future__ import annotations

from typing import Any

# The tags Google documents in "Workflows errors" (reference/syntax/catching-errors).
AUTH_ERROR = "AuthError"
CONNECTION_ERROR = "ConnectionError"
CONNECTION_FAILED_ERROR = "ConnectionFailedError"
HTTP_ERROR = "HttpError"
INDEX_ERROR = "IndexError"
KEY_ERROR = "KeyError"
OPERATION_ERROR = "OperationError"
PARALLEL_NESTING_ERROR = "ParallelNestingError"
RECURSION_ERROR = "RecursionError"
RESOURCE_LIMIT_ERROR = "ResourceLimitError"
RESPONSE_TYPE_ERROR = "ResponseTypeError"
SYSTEM_ERROR = "SystemError"
TIMEOUT_ERROR = "TimeoutError"
TYPE_ERROR = "TypeError"
UNHANDLED_BRANCH_ERROR = "UnhandledBranchError"
VALUE_ERROR = "ValueError"
ZERO_DIVISION_ERROR = "ZeroDivisionError"
# Not in that table, but real executions tag an HTTP timeout with it beside TimeoutError.
OS_ERROR = "OSError"


class WorkflowError(Exception):
    """An error raised inside a workflow; `value` is what `except: as: e` binds."""

    def __init__(self, value: Any) -> None:
        self.value = value
        super().__init__(describe(value))

    @classmethod
    def tagged(cls, tag: str | list[str], message: str, **fields: Any) -> WorkflowError:
        """A runtime error map: {message, tags, **fields}."""
        tags = [tag] if isinstance(tag, str) else list(tag)
        return cls({"message": message, "tags": tags, **fields})

    @property
    def tags(self) -> list[str]:
        if isinstance(self.value, dict) and isinstance(self.value.get("tags"), list):
            return [t for t in self.value["tags"] if isinstance(t, str)]
        return []


class ResourceLimitError(WorkflowError):
    """The engine stopped a workflow at one of its limits; the execution fails at once.

    "ResourceLimitError: Raised when some resource limit is exhausted. When raised internally,
    this type of error cannot be caught and causes immediate execution failure" (Error tags,
    https://docs.cloud.google.com/workflows/docs/access-execution-results). So neither
    `except` nor `retry` sees it, and raised in a parallel branch it ends every branch. A
    workflow's own `raise` of a map tagged ResourceLimitError stays an ordinary error.
    """

    def __init__(self, message: str) -> None:
        super().__init__({"message": message, "tags": [RESOURCE_LIMIT_ERROR]})


def describe(value: Any) -> str:
    if isinstance(value, dict):
        message = value.get("message")
        tags = value.get("tags")
        if message is not None or tags:
            return f"{tags or ''} {message or ''}".strip()
    return repr(value)


class DefinitionError(ValueError):
    """A workflow definition is invalid; names the file, the line and the step."""

    def __init__(
        self, message: str, *, line: int | None = None, step: str | None = None, source: str = ""
    ) -> None:
        self.message = message
        self.line = line
        self.step = step
        self.source = source
        where = source or "<workflow>"
        if line is not None:
            where += f":{line}"
        if step:
            where += f": step '{step}'"
        super().__init__(f"{where}: {message}")
