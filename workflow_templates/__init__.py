"""Workflows YAML for human approvals: the callback step library, templates, renderer.

template = load_template("translation_validation")
env = {**platform_env, **template.env_for({"TARGET_LANGUAGE": "de"})}
source = render(template, env)
"""

from .catalog import (
    PLATFORM_ENV_VARS,
    Param,
    Template,
    available_templates,
    load_template,
    platform_workflow_source,
)
from .errors import TemplateError
from .renderer import render

__all__ = [
    "PLATFORM_ENV_VARS",
    "Param",
    "Template",
    "TemplateError",
    "available_templates",
    "load_template",
    "platform_workflow_source",
    "render",
]
