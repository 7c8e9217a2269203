"""A callback URL lets whoever holds it decide: it must never land where clients can read."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from .firestore_rules import Rule, rules, ruleset_sources
from .pulumi_internals import UnknownValueError
from .resource_types import RULESET, WORKFLOW
from .values import UNKNOWN, Unchecked, read_known
from .workflow_source import Step, expressions, steps

CREATE_CALLBACK = "events.create_callback_endpoint"
_GET_ENV = re.compile(r"""^\$\{\s*sys\.get_env\(\s*["']([^"']+)["']\s*\)\s*\}\Z""")
_VARIABLE = re.compile(r"^\$\{\s*([A-Za-z_]\w*)\s*\}\Z")


@dataclass(frozen=True)
class CallbackWrite:
    """A step that stores a callback URL in a collection (None: one the policy cannot work out)."""

    step: Step
    collection: str | None


def mentions(expression: str, names: set[str]) -> bool:
    return any(re.search(rf"(?<![\w.]){re.escape(name)}\b", expression) for name in names)


def callback_writes(source: str, env: Mapping[str, Any]) -> list[CallbackWrite]:
    """Calls in each subworkflow that pass a callback's `.url` along, with the collection they name.

    Variables are per subworkflow, as in Workflows. A collection is a literal, a
    `sys.get_env("NAME")` (resolved through the workflow's user env vars), or a
    variable assigned from one of those.
    """
    by_subworkflow: dict[str, list[Step]] = {}
    for step in steps(source):
        by_subworkflow.setdefault(step.subworkflow, []).append(step)
    writes = []
    for step_list in by_subworkflow.values():
        assigned: dict[str, Any] = {}
        for step in step_list:
            for assignment in step.body.get("assign") or []:
                if isinstance(assignment, dict):
                    assigned.update({str(k): v for k, v in assignment.items()})
        urls = {
            f"{s.body['result']}.url"
            for s in step_list
            if s.body.get("call") == CREATE_CALLBACK and "result" in s.body
        }
        # A variable holding the URL carries it too (`- url: ${callback.url}`).
        urls |= {name for name, value in assigned.items() if isinstance(value, str) and mentions(value, urls)}
        for step in step_list:
            call_args = step.body.get("args")
            if (
                not step.body.get("call")
                or step.body.get("call") == CREATE_CALLBACK
                or not isinstance(call_args, dict)
            ):
                continue
            if any(mentions(expression, urls) for expression in expressions(call_args)):
                named = call_args.get("collection", call_args.get("collectionId"))
                writes.append(CallbackWrite(step, resolve(named, assigned, env)))
    return writes


def resolve(
    expression: Any, assigned: Mapping[str, Any], env: Mapping[str, Any], depth: int = 5
) -> str | None:
    """A collection expression's value, when a literal, an env var or a variable says it."""
    if not isinstance(expression, str) or depth == 0:
        return None
    if "${" not in expression:
        return expression
    if match := _GET_ENV.match(expression):
        value = env.get(match[1])
        return value if isinstance(value, str) else None
    if (match := _VARIABLE.match(expression)) and match[1] in assigned:
        return resolve(assigned[match[1]], assigned, env, depth - 1)
    return None


def readable_rules(resources: list[PolicyResource], unchecked: Unchecked) -> list[Rule]:
    """Rules of the stack's rulesets that let clients read a collection."""
    found = []
    for resource in resources:
        if resource.resource_type != RULESET:
            continue
        try:
            sources = ruleset_sources(resource.props)
        except UnknownValueError as error:
            unchecked.note(resource.name, error)
            continue
        found += [rule for source in sources for rule in rules(source) if rule.lets_clients_read]
    return found


def covers(rule: Rule, collection: str) -> bool:
    """Whether the rule reads in `collection`, a top-level one or a path under one (`a/doc/b`)."""
    top = collection.strip("/").split("/")[0]
    return rule.collection is not None and (rule.collection == top or rule.collection.startswith("{"))


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    unchecked = Unchecked()
    readable = readable_rules(args.resources, unchecked)
    for workflow in args.resources:
        if workflow.resource_type != WORKFLOW:
            continue
        source = read_known(workflow.props, "sourceContents")
        env = read_known(workflow.props, "userEnvVars")
        if source is UNKNOWN and readable:
            unchecked.note_value(workflow.name, "sourceContents")
        if not isinstance(source, str):
            continue
        env = {k: read_known(env, k) for k in env} if isinstance(env, Mapping) else {}
        try:
            writes = callback_writes(source, env)
        except ValueError:  # an invalid definition: callback-await-bounded-and-handled reports it
            continue
        unknown_env = [key for key, value in env.items() if value is UNKNOWN]
        for write in writes:
            if write.collection is None:
                # Its collection may come from a variable only the deploy knows.
                if unknown_env and readable:
                    unchecked.note_value(workflow.name, "userEnvVars", unknown_env[0])
                continue
            for rule in readable:
                if covers(rule, write.collection):
                    report_violation(
                        f"Workflow {workflow.name}: step '{write.step.name}' (subworkflow "
                        f"{write.step.subworkflow}) stores a callback URL in Firestore collection "
                        f"'{write.collection}', which the Firestore rules let clients read ('{rule.text}' at "
                        f"{rule.path}); whoever reads the URL can decide the request. Fix: keep callback "
                        "URLs in a collection no rule matches (only the decide function reads it), or "
                        "remove that rule's read access.",
                        workflow.urn,
                    )
                    break
    unchecked.raise_if_any()


callback_url_not_client_readable = StackValidationPolicy(
    name="callback-url-not-client-readable",
    description="Workflows never store a callback URL in a Firestore collection that clients can read.",
    validate=validate,
    enforcement_level=EnforcementLevel.MANDATORY,
)
