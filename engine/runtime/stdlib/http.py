"""http: the blocking request functions, and the default retry predicates and policies.

A retry policy is a plain map, the same shape as a custom `retry:` block
({predicate, max_retries, backoff}), with a FunctionRef predicate; so
`retry: ${http.default_retry}` and an inline policy run through one code path.
"""

from __future__ import annotations

from typing import Any

from approvals.engine.runtime.effects import Host
from approvals.engine.runtime.errors import CONNECTION_ERROR, CONNECTION_FAILED_ERROR, TIMEOUT_ERROR
from approvals.engine.runtime.stdlib.base import Param, blocking, pure
from approvals.engine.runtime.stdlib.retry import DEFAULT_BACKOFF
from approvals.engine.runtime.values import FunctionRef

# Arguments every http.* call takes (http.get etc. in the stdlib reference).
_REQUEST = (
    Param("url"),
    Param("timeout", 300),
    Param("headers", None),
    Param("query", None),
    Param("auth", None),
    Param("private_service_name", None),
    Param("ca_certificate", None),
)
_BODY = (Param("body", None),)

# "Retries on 429 (Too Many Requests), 502 (Bad Gateway), 503 (Service unavailable),
# and 504 (Gateway Timeout), as well as on any ConnectionError, ConnectionFailedError,
# and TimeoutError." -- http.default_retry_predicate.
_IDEMPOTENT_CODES = frozenset({429, 502, 503, 504})
_IDEMPOTENT_TAGS = frozenset({CONNECTION_ERROR, CONNECTION_FAILED_ERROR, TIMEOUT_ERROR})
# "Retries on 429 (Too Many Requests) and 503 (Service Unavailable), as well as on
# ConnectionFailedError." -- http.default_retry_predicate_non_idempotent.
_NON_IDEMPOTENT_CODES = frozenset({429, 503})
_NON_IDEMPOTENT_TAGS = frozenset({CONNECTION_FAILED_ERROR})


def _matches(exception: Any, codes: frozenset[int], tags: frozenset[str]) -> bool:
    if not isinstance(exception, dict):
        return False
    code = exception.get("code")
    error_tags = exception.get("tags")
    if isinstance(code, int) and not isinstance(code, bool) and code in codes:
        return True
    return isinstance(error_tags, list) and any(t in tags for t in error_tags if isinstance(t, str))


def _default_retry_predicate(host: Host, exception: Any) -> bool:
    return _matches(exception, _IDEMPOTENT_CODES, _IDEMPOTENT_TAGS)


def _default_retry_predicate_non_idempotent(host: Host, exception: Any) -> bool:
    return _matches(exception, _NON_IDEMPOTENT_CODES, _NON_IDEMPOTENT_TAGS)


def _policy(predicate: str) -> dict[str, Any]:
    # "Uses max_retries of 5, and backoff as per retry.default_backoff." -- http.default_retry.
    return {"predicate": FunctionRef(predicate), "max_retries": 5, "backoff": dict(DEFAULT_BACKOFF)}


FUNCTIONS = (
    blocking("http.get", *_REQUEST),
    blocking("http.delete", *_REQUEST, *_BODY),
    blocking("http.post", *_REQUEST, *_BODY),
    blocking("http.put", *_REQUEST, *_BODY),
    blocking("http.patch", *_REQUEST, *_BODY),
    blocking("http.request", Param("method"), *_REQUEST, *_BODY),
    pure("http.default_retry_predicate", _default_retry_predicate, Param("exception")),
    pure(
        "http.default_retry_predicate_non_idempotent",
        _default_retry_predicate_non_idempotent,
        Param("exception"),
    ),
)

VALUES = {
    "http.default_retry": _policy("http.default_retry_predicate"),
    "http.default_retry_non_idempotent": _policy("http.default_retry_predicate_non_idempotent"),
}
