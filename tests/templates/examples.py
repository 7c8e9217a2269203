"""What rendering a template needs: the env the platform sets, example parameters."""

from __future__ import annotations

import json
from typing import Any

import yaml

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

# libyaml when present: the rendered workflows are parsed back in many tests.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

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


def rendered_workflow(name: str) -> dict[str, Any]:
    """A catalog template rendered with defaults, parsed back."""
    return yaml.load(render_with_defaults(load_template(name)), Loader=LOADER)
