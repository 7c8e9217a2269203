"""What rendering a template needs: the env the platform sets, example parameters."""

from __future__ import annotations

import functools
import json
from typing import Any

from approvals.engine.language.definition import Program, parse
from approvals.engine.language.parser import source_value
from approvals.engine.language.queries import CallSite
from approvals.workflow_templates import Template, load_template, render

PLATFORM_ENV = {
    "APPROVALS_DATABASE": "(default)",
    "APPROVALS_REQUESTS_COLLECTION": "approval_requests",
    "APPROVALS_CALLBACKS_COLLECTION": "approval_callbacks",
    "APPROVALS_AUDIT_COLLECTION": "approval_audit",
    "APPROVALS_STARTS_COLLECTION": "approval_starts",
    "APPROVALS_EXTENSIONS_COLLECTION": "approval_extensions",
    "APPROVERS": json.dumps(["ada@example.com", "group:reviewers"]),
    "APPROVAL_TIMEOUT_SECONDS": "86400",
    "APPROVAL_TEMPLATE": "example",
    "APPROVAL_WORKFLOW_KEY": "example",
}

# Values for the parameters that have no default.
REQUIRED_PARAMS: dict[str, dict[str, object]] = {
    "expense_approval": {"FINANCE_APPROVERS": ["cfo@example.com"]},
    "deploy_approval": {"DEPLOY_WEBHOOK_URL": "https://deploy.example.com/hook"},
    "approval_chain": {"APPROVAL_STAGES": [{"name": "security"}, {"name": "legal"}]},
}


def render_with_defaults(template: Template) -> str:
    """The template rendered as the platform would, with default parameters."""
    params = REQUIRED_PARAMS.get(template.name, {})
    return render(template, {**PLATFORM_ENV, **template.env_for(params)})


@functools.cache  # the AST is immutable, and each read of a template takes a while
def rendered_workflow(name: str) -> Program:
    """A catalog template rendered with defaults, read back by the engine as it would deploy it."""
    return parse(render_with_defaults(load_template(name)), f"{name}.yaml")


def args_of(site: CallSite) -> dict[str, Any]:
    """A call's arguments as written in the YAML (expressions as their `${...}` text)."""
    return {name: source_value(value) for name, value in (site.call.args or {}).items()}
