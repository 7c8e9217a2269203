"""Every callback wait has an explicit, bounded timeout and a handler for its expiry."""

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from approvals.engine.language.definition import parse
from approvals.engine.language.parser import source_value
from approvals.engine.language.queries import AWAIT_CALLBACK, awaits

from .resource_types import WORKFLOW
from .settings import schema, settings
from .values import number, read

SCHEMA = schema(
    max_timeout_seconds={
        "type": "number",
        "default": 30 * 24 * 3600,
        "description": "The longest literal args.timeout of an events.await_callback step.",
    }
)


def literal_seconds(timeout: object) -> float | None:
    """The timeout when written as a number, None when it is an expression like ${remaining}."""
    if isinstance(timeout, bool):
        return None
    if isinstance(timeout, int | float):
        return float(timeout)
    if isinstance(timeout, str) and "${" not in timeout:
        try:
            return float(timeout)
        except ValueError:
            return None
    return None


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != WORKFLOW:
        return
    source = read(args.props, "sourceContents")
    if not isinstance(source, str):
        return
    limit = float(settings(args, SCHEMA)["max_timeout_seconds"])
    try:
        # Names are left unresolved: a connector this engine does not run is no violation.
        waits = list(awaits(parse(source, "sourceContents", strict=False)))
    except ValueError as error:
        report_violation(f"Workflow {args.name}: {error}. Fix: deploy a valid workflow definition.", None)
        return
    for site in waits:
        where = f"Workflow {args.name}: step '{site.step}' (subworkflow {site.subworkflow})"
        written = (site.call.args or {}).get("timeout")
        timeout = None if written is None else source_value(written)
        seconds = literal_seconds(timeout)
        if timeout is None:
            report_violation(
                f"{where} calls {AWAIT_CALLBACK} without args.timeout, so the execution can wait for a year. "
                "Fix: pass args.timeout in seconds (request_approval waits until the request's due time).",
                None,
            )
        elif seconds is not None and seconds > limit:
            report_violation(
                f"{where} waits up to {number(seconds)} s, more than max_timeout_seconds {number(limit)}. "
                f"Fix: set args.timeout to at most {number(limit)} seconds.",
                None,
            )
        if not any("TimeoutError" in handler.tags for handler in site.handlers):
            report_violation(
                f"{where} is not inside a try whose except handles TimeoutError, so an expiry fails the "
                'execution. Fix: wrap it in try/except and treat `"TimeoutError" in e.tags` as an outcome '
                "(as the step library's await_decision does).",
                None,
            )


callback_await_bounded_and_handled = ResourceValidationPolicy(
    name="callback-await-bounded-and-handled",
    description="events.await_callback steps have a bounded args.timeout and handle TimeoutError.",
    validate=validate,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=SCHEMA,
)
