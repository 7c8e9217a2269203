"""A callback URL lets whoever holds it decide: it must never land where clients can read."""

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

from approvals.engine.language.definition import Assign, parse
from approvals.engine.language.parser import Binary, Call, Compiled, Const, Expression, Literal, Name
from approvals.engine.language.queries import GET_ENV, CallSite, calls, reads, sites

from .firestore_rules import Rule, rules, ruleset_sources
from .pulumi_internals import UnknownValueError
from .resource_types import RULESET, WORKFLOW
from .values import UNKNOWN, Unchecked, read_known

CREATE_CALLBACK = "events.create_callback_endpoint"
# The step library's path to a template's own collection: under the extensions collection.
TEMPLATE_COLLECTION = "template_collection"
EXTENSIONS_PATH = Expression(
    Call(GET_ENV, (Literal("APPROVALS_EXTENSIONS_COLLECTION"),)),
    '${sys.get_env("APPROVALS_EXTENSIONS_COLLECTION")}',
)


@dataclass(frozen=True)
class CallbackWrite:
    """A call step that stores a callback URL in a collection (None: one the policy cannot work out)."""

    site: CallSite
    collection: str | None


def mentions(value: Compiled, names: set[str]) -> bool:
    """Whether the value's expressions read one of `names` (`cb.url`, or what a `.url` is kept in)."""
    return any(read == name or read.startswith(f"{name}.") for read in reads(value) for name in names)


def callback_writes(source: str, env: Mapping[str, Any]) -> list[CallbackWrite]:
    """Calls in each subworkflow that pass a callback's `.url` along, with the collection they name.

    Variables are per subworkflow, as in Workflows. A collection is a literal, a
    `sys.get_env("NAME")` (resolved through the workflow's user env vars), or a
    variable assigned from one of those or from the library's template_collection; of `a + b`,
    `a` names it. A ValueError (DefinitionError) for an invalid source.
    """
    program = parse(source, "sourceContents", strict=False)
    writes = []
    for subworkflow in program.subworkflows.values():
        assigned = {
            assignment.text: assignment.value
            for site in sites(subworkflow)
            if isinstance(site.action, Assign)
            for assignment in site.action.assignments
        }
        steps = list(calls(subworkflow))
        assigned |= {
            site.call.result.name: EXTENSIONS_PATH
            for site in steps
            if site.call.function == TEMPLATE_COLLECTION and site.call.result is not None
        }
        urls = {
            f"{site.call.result.name}.url"
            for site in steps
            if site.call.function == CREATE_CALLBACK and site.call.result is not None
        }
        # A variable holding the URL carries it too (`- url: ${callback.url}`).
        urls |= {name for name, value in assigned.items() if mentions(value, urls)}
        for site in steps:
            args = site.call.args
            if site.call.function == CREATE_CALLBACK or not args:
                continue
            if any(mentions(value, urls) for value in args.values()):
                writes.append(CallbackWrite(site, written_collection(args, assigned, env)))
    return writes


def written_collection(
    args: Mapping[str, Compiled], assigned: Mapping[str, Compiled], env: Mapping[str, Any]
) -> str | None:
    """The top-level collection a write lands in, when the policy can tell.

    The library's writes name a `collection` (a path: `a/doc/b` lands under `a`); the
    Firestore connector's a `parent` (`.../documents` or `.../documents/a/doc`) and a
    `collectionId`.
    """
    if "parent" in args:
        _, root, below = resolve(args["parent"], assigned, env).partition("/documents/")
        if root and below.strip("/"):
            return _top(below)
    named = args.get("collection", args.get("collectionId"))
    return None if named is None else _top(resolve(named, assigned, env))


def _top(path: str) -> str | None:
    top = path.strip("/").split("/")[0]
    return None if not top or UNKNOWN_PART in top else top


# Stands for a part of a string the policy cannot work out.
UNKNOWN_PART = "\0"


def resolve(value: Compiled, assigned: Mapping[str, Compiled], env: Mapping[str, Any], depth: int = 5) -> str:
    """A string's value as far as literals, env vars, variables (`depth` deep) and `+` say it; UNKNOWN_PART
    for the rest."""
    if depth == 0:
        return UNKNOWN_PART
    match value:
        case Const(value=str() as literal) | Expression(expr=Literal(value=str() as literal)):
            return literal
        case Expression(expr=Call(name=name, args=(Literal(value=str() as variable),))) if name == GET_ENV:
            found = env.get(variable)
            return found if isinstance(found, str) else UNKNOWN_PART
        case Expression(expr=Name(name=name)) if name in assigned:
            return resolve(assigned[name], assigned, env, depth - 1)
        case Expression(expr=Binary(op="+", left=left, right=right), text=text):
            parts = (Expression(left, text), Expression(right, text))
            return "".join(resolve(part, assigned, env, depth) for part in parts)
    return UNKNOWN_PART


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
    """Whether the rule reads in the top-level `collection` (or in any, for a wildcard)."""
    return rule.collection is not None and (rule.collection == collection or rule.collection.startswith("{"))


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
                        f"Workflow {workflow.name}: step '{write.site.step}' (subworkflow "
                        f"{write.site.subworkflow}) stores a callback URL in Firestore collection "
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
