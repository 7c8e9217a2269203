"""Policy parameters: declared once, with their defaults, in a `PolicyConfigSchema`."""

from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyConfigSchema, ResourceValidationArgs, StackValidationArgs

Args = ResourceValidationArgs | StackValidationArgs


def schema(**properties: dict[str, Any]) -> PolicyConfigSchema:
    """A config schema whose every property carries a `default`."""
    return PolicyConfigSchema(properties=properties)


def defaults(config_schema: PolicyConfigSchema | None) -> dict[str, Any]:
    """The parameters a policy runs with when nobody configures it."""
    if config_schema is None:
        return {}
    return {name: spec["default"] for name, spec in config_schema.properties.items() if "default" in spec}


def settings(args: Args, config_schema: PolicyConfigSchema) -> Mapping[str, Any]:
    """The policy's parameters: the defaults, overlaid by what the pack's config sets.

    The defaults are applied here as well as by the caller, so a host that hands
    over no config at all still runs the policy as documented.
    """
    return {**defaults(config_schema), **args.get_config()}
