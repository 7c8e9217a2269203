"""request_approval's arguments, checked when a template is rendered.

The library checks them again at run time (values may be expressions); this
catches a literal typo at `pulumi preview` rather than when the first request
is made.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from approvals.engine.language.parser import source_value
from approvals.engine.language.queries import CallSite

from .errors import TemplateError

ARGUMENTS = frozenset(
    {
        "request_id",
        "origin_request_id",
        "subject",
        "payload",
        "requester",
        "stage",
        "approvers",
        "timeout_seconds",
        "options",
    }
)
REQUIRED_ARGUMENTS = frozenset({"request_id", "subject", "payload"})
OPTIONS = frozenset(
    {
        "quorum",
        "rules",
        "rejection_quorum",
        "reminder_every",
        "escalate_to",
        "prevent_self_approval",
        "votes_visible",
    }
)
# When approvers see how the others voted: at once, or once the request is decided.
VOTES_VISIBLE = ("always", "after_decision")
RULE_KEYS = frozenset({"name", "approvers", "quorum"})
ESCALATION_KEYS = frozenset({"approvers", "quorum", "timeout_seconds"})


def check_request_approval_calls(path: Path, calls: Iterable[CallSite]) -> None:
    """Raise a TemplateError naming the file, line and step of a bad request_approval call."""
    for site in calls:
        if site.call.function != "request_approval":
            continue
        args = site.call.args
        problem = _arguments_problem(None if args is None else {k: source_value(v) for k, v in args.items()})
        if problem:
            raise TemplateError(path, f"request_approval {problem}", line=site.line, step=site.step)


def _is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("${")


def _unknown(given: Mapping[str, Any], known: frozenset[str], what: str) -> str | None:
    for key in given:
        if key not in known:
            guesses = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean {guesses[0]!r}?)" if guesses else ""
            return f"has an unknown {what} {key!r}{hint}; known: {', '.join(sorted(known))}"
    return None


def _positive_int(value: Any) -> bool:
    return _is_expression(value) or (isinstance(value, int) and not isinstance(value, bool) and value >= 1)


def _approvers_problem(value: Any, where: str) -> str | None:
    if _is_expression(value):
        return None
    if not isinstance(value, list) or not value:
        return f"{where} must be a non-empty list of approvers"
    if not all(_is_expression(a) or (isinstance(a, str) and a) for a in value):
        return f"{where} must hold e-mails or group:NAME principals"
    return None


def _quorum_problem(approvers: Any, quorum: Any, where: str) -> str | None:
    if not _positive_int(quorum):
        return f"{where}.quorum must be a positive integer"
    if _is_expression(quorum) or not isinstance(approvers, list):
        return None
    literal = [a for a in approvers if isinstance(a, str) and not _is_expression(a)]
    if len(literal) < len(approvers) or any(a.startswith("group:") for a in literal):
        return None  # a group (or an expression) may hold any number of people
    if quorum > len(literal):
        return f"{where}.quorum is {quorum} but only {len(literal)} approvers are named"
    return None


def _arguments_problem(args: Any) -> str | None:
    if args is None:
        args = {}
    if not isinstance(args, dict):
        return "args must be a map"
    missing = sorted(REQUIRED_ARGUMENTS - set(args))
    if missing:
        return f"is missing {', '.join(missing)}"
    problem = _unknown(args, ARGUMENTS, "argument")
    if problem:
        return problem
    if "approvers" in args and args["approvers"] is not None:
        problem = _approvers_problem(args["approvers"], "approvers")
        if problem:
            return problem
    timeout = args.get("timeout_seconds")
    if timeout is not None and not _positive_int(timeout):
        return "timeout_seconds must be a positive integer"
    options = args.get("options")
    if options is None or _is_expression(options):
        return None
    if not isinstance(options, dict):
        return "options must be a map"
    return _options_problem(options, args.get("approvers"))


def _options_problem(options: Mapping[str, Any], approvers: Any) -> str | None:
    problem = _unknown(options, OPTIONS, "option")
    if problem:
        return problem
    for name in ("rejection_quorum", "reminder_every"):
        if options.get(name) is not None and not _positive_int(options[name]):
            return f"options.{name} must be a positive integer"
    flag = options.get("prevent_self_approval")
    if flag is not None and not _is_expression(flag) and not isinstance(flag, bool):
        return "options.prevent_self_approval must be true or false"
    visible = options.get("votes_visible")
    if visible is not None and not _is_expression(visible) and visible not in VOTES_VISIBLE:
        return f"options.votes_visible must be one of {', '.join(VOTES_VISIBLE)}"
    if options.get("quorum") is not None:
        problem = _quorum_problem(approvers, options["quorum"], "options")
        if problem:
            return problem
    if options.get("rules") is not None:
        problem = _rules_problem(options["rules"])
        if problem:
            return problem
    if options.get("escalate_to") is not None:
        return _escalation_problem(options["escalate_to"])
    return None


def _rules_problem(rules: Any) -> str | None:
    if _is_expression(rules):
        return None
    if not isinstance(rules, list) or not rules:
        return "options.rules must be a non-empty list of {name, approvers, quorum}"
    names: set[str] = set()
    for index, rule in enumerate(rules):
        where = f"options.rules[{index}]"
        if _is_expression(rule):
            continue
        if not isinstance(rule, dict):
            return f"{where} must be a map of name, approvers and quorum"
        problem = _unknown(rule, RULE_KEYS, "rule field")
        if problem:
            return f"{where} {problem}"
        name = rule.get("name")
        if not _is_expression(name):
            if not isinstance(name, str) or not name:
                return f"{where}.name must be a non-empty string"
            if name in names:
                return f"{where}.name {name!r} is used twice"
            names.add(name)
        problem = _approvers_problem(rule.get("approvers"), f"{where}.approvers") or _quorum_problem(
            rule.get("approvers"), rule.get("quorum", 1), where
        )
        if problem:
            return problem
    return None


def _escalation_problem(escalation: Any) -> str | None:
    where = "options.escalate_to"
    if _is_expression(escalation):
        return None
    if not isinstance(escalation, dict):
        return f"{where} must be a map of approvers, timeout_seconds and quorum"
    problem = _unknown(escalation, ESCALATION_KEYS, "escalation field")
    if problem:
        return f"{where} {problem}"
    if not _positive_int(escalation.get("timeout_seconds")):
        return f"{where}.timeout_seconds must be a positive integer"
    return _approvers_problem(escalation.get("approvers"), f"{where}.approvers") or _quorum_problem(
        escalation.get("approvers"), escalation.get("quorum", 1), where
    )
