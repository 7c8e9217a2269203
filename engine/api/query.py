"""executions.list's `filter` (AIP-160) and `orderBy` (AIP-132), for fields whose meaning is plain.

Google's list filters on executionId, state, createTime, startTime, endTime, duration,
workflowRevisionId, stepName and label, and orders by all of those but stepName and label
(executions.list reference). This module takes comparisons of executionId, state and
workflowRevisionId (= and !=) and of createTime and startTime, joined by AND and OR, and orders
by those fields but state, whose order the reference leaves open. What it does not take (other
fields, parentheses, NOT, has `:`) is refused rather than ignored: a filter the engine skipped
would list executions Google would not.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from approvals.engine.runtime.engine import EngineError
from approvals.engine.runtime.store import ExecutionRecord

# An execution starts when it is created: the engine has no backlog (no QUEUED state).
_TIMES: dict[str, Callable[[ExecutionRecord], float]] = {
    "createTime": lambda r: r.start_time,
    "startTime": lambda r: r.start_time,
}
_TEXTS: dict[str, Callable[[ExecutionRecord], str]] = {
    "executionId": lambda r: r.id,
    "state": lambda r: r.state,
    "workflowRevisionId": lambda r: r.revision,
}
_ORDERABLE = ("executionId", "workflowRevisionId", *_TIMES)
_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_COMPARISON = re.compile(r'\s*([A-Za-z]\w*)\s*(<=|>=|!=|=|<|>)\s*("[^"]*"|[^\s"()]+)\s*')

Predicate = Callable[[ExecutionRecord], bool]


class QueryError(EngineError):
    """A filter or orderBy the local engine cannot apply (INVALID_ARGUMENT)."""


def select(records: list[ExecutionRecord], filter_text: str, order_by: str) -> list[ExecutionRecord]:
    """`records` (newest first) that match `filter_text`, in the order `order_by` asks."""
    if filter_text.strip():
        matches = _parse_filter(filter_text)
        records = [r for r in records if matches(r)]
    # Sorts are stable: the last key sorts first, each earlier one refines it.
    for field, descending in reversed(_parse_order(order_by)):
        records = sorted(records, key=_key(field), reverse=descending)
    return records


def _parse_filter(text: str) -> Predicate:
    # AIP-160 gives OR precedence over AND, so AND splits first.
    conjuncts = [_parse_disjunction(part) for part in re.split(r"\s+AND\s+", text.strip())]
    return lambda record: all(matches(record) for matches in conjuncts)


def _parse_disjunction(text: str) -> Predicate:
    disjuncts = [_parse_comparison(part) for part in re.split(r"\s+OR\s+", text)]
    return lambda record: any(matches(record) for matches in disjuncts)


def _parse_comparison(text: str) -> Predicate:
    match = _COMPARISON.fullmatch(text)
    if match is None:
        raise QueryError(f"the local engine cannot apply the filter term {text.strip()!r}")
    field, op, literal = match.groups()
    value = literal.strip('"')
    compare = _OPERATORS[op]
    if field in _TIMES:
        moment, of = _timestamp(value), _TIMES[field]
        return lambda record: compare(of(record), moment)
    if field in _TEXTS and op in ("=", "!="):
        text_of = _TEXTS[field]
        return lambda record: compare(text_of(record), value)
    raise QueryError(
        f"the local engine filters on {', '.join([*_TEXTS, *_TIMES])} (= and != for the first"
        f" three), not {field}{op}"
    )


def _timestamp(value: str) -> float:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise QueryError(f"{value!r} is not a timestamp") from error
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _parse_order(text: str) -> list[tuple[str, bool]]:
    """(field, descending) for each comma-separated `field [asc|desc]` (AIP-132)."""
    order = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        field, *direction = part.split()
        if field not in _ORDERABLE or direction not in ([], ["asc"], ["desc"]):
            raise QueryError(f"the local engine orders by {', '.join(_ORDERABLE)} [asc|desc], not {part!r}")
        order.append((field, direction == ["desc"]))
    return order


def _key(field: str) -> Callable[[ExecutionRecord], Any]:
    return _TIMES.get(field) or _TEXTS[field]
