"""The template catalog: what each template needs, and its parameters as env vars."""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from approvals.engine.language.definition import RESERVED_ENV_PREFIXES
from approvals.functions.common.contract import PLAIN_COLLECTION_NAME, WORKFLOW_ENV

from .errors import TemplateError
from .source import line_of, parse_yaml

PACKAGE_DIR = Path(__file__).resolve().parent
CATALOG_PATH = PACKAGE_DIR / "catalog.yaml"

PLATFORM_ENV_VARS: frozenset[str] = WORKFLOW_ENV
"""User env vars the platform sets on every approval workflow; no template param may use them."""

# Keys the start function adds to every execution input.
RESERVED_INPUT_FIELDS = frozenset({"request_id", "requester"})

_PARAM_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
_ENTRY_KEYS = frozenset(
    {"description", "params", "roles", "services", "input_schema", "panel", "requester_collections"}
)
_SCHEMA_KEYS = frozenset({"type", "required", "properties", "additionalProperties", "description"})
_PROPERTY_KEYS = frozenset(
    {"type", "description", "minLength", "maxLength", "minimum", "maximum", "enum", "format"}
)
_PROPERTY_TYPES = frozenset({"string", "number", "integer", "boolean"})

# Builds the error for one catalog entry from a message.
_Fail = Callable[[str], TemplateError]


@dataclass(frozen=True)
class Param:
    """A template parameter; it reaches the workflow as a user env var."""

    name: str
    description: str
    default: str | None  # None: the parameter is required


@dataclass(frozen=True)
class Template:
    """A workflow template: a catalog entry, or a team's own YAML file."""

    name: str
    path: Path
    description: str
    params: Mapping[str, Param]
    roles: tuple[str, ...]
    services: tuple[str, ...]
    input_schema: Mapping[str, Any]
    panel: bool = False
    """Whether the page shows this template's panel (its page module's `panel`) for each workflow."""
    requester_collections: tuple[str, ...] = ()
    """Collections of the template's own documents, each readable by the person who asked."""
    # A team's own YAML declares no params: any well-formed name is accepted.
    in_catalog: bool = field(default=True)

    def env_for(self, params: Mapping[str, object]) -> dict[str, str]:
        """The user env vars for these parameter values, defaults filled in.

        Values are converted to text: strings as they are, booleans as
        true/false, numbers with str(), lists and dicts as JSON. None counts
        as not given.
        """
        env: dict[str, str] = {}
        for name, value in params.items():
            if self.in_catalog and name not in self.params:
                allowed = ", ".join(sorted(self.params)) or "none"
                raise TemplateError(
                    self.path,
                    f"unknown parameter {name!r} for template {self.name!r}; allowed: {allowed}",
                )
            if not self.in_catalog:
                check_param_name(self.path, name)
            if value is not None:
                env[name] = env_value(self.path, name, value)
        missing = []
        for param in self.params.values():
            if param.name in env:
                continue
            if param.default is None:
                missing.append(f"{param.name} ({param.description})")
            else:
                env[param.name] = param.default
        if missing:
            raise TemplateError(
                self.path,
                f"template {self.name!r} needs parameter(s): {'; '.join(missing)}",
            )
        return env


def check_param_name(path: Path, name: object) -> None:
    """Raise unless name can be a template parameter (a user env var of our own)."""
    if not isinstance(name, str) or not _PARAM_NAME.fullmatch(name):
        raise TemplateError(path, f"parameter name {name!r} must be UPPER_SNAKE_CASE")
    if name in PLATFORM_ENV_VARS:
        raise TemplateError(path, f"parameter name {name!r} is set by the platform")
    if name.startswith(RESERVED_ENV_PREFIXES):
        raise TemplateError(
            path, f"parameter name {name!r} uses a prefix Workflows reserves (GOOGLE_, WORKFLOWS_)"
        )


def env_value(path: Path, name: str, value: object) -> str:
    """A parameter value as env var text."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple | dict):
        try:
            return json.dumps(value)
        except TypeError as error:
            raise TemplateError(path, f"parameter {name!r}: {error}") from error
    raise TemplateError(
        path,
        f"parameter {name!r} must be a string, number, boolean, list or dict, not {type(value).__name__}",
    )


def available_templates() -> list[str]:
    """Names of the catalog's templates."""
    return sorted(_catalog())


def platform_workflow_source(name: str) -> str:
    """The source of one of the platform's own workflows (``platform/NAME.yaml``), deployed as is."""
    path = PACKAGE_DIR / "platform" / f"{name}.yaml"
    if not path.is_file():
        raise TemplateError(path, "no such platform workflow")
    return path.read_text()


def load_template(name_or_path: str | os.PathLike[str]) -> Template:
    """A catalog template by name, or a team's own YAML file by path."""
    if _looks_like_path(name_or_path):
        path = Path(name_or_path)
        if not path.is_file():
            raise TemplateError(path, "no such workflow file")
        return Template(
            name=path.stem,
            path=path,
            description="",
            params=MappingProxyType({}),
            roles=(),
            services=(),
            input_schema=MappingProxyType({"type": "object"}),
            in_catalog=False,
        )
    catalog = _catalog()
    name = str(name_or_path)
    if name not in catalog:
        raise TemplateError(
            CATALOG_PATH,
            f"unknown template {name!r}; available: {', '.join(sorted(catalog))} "
            "(or give the path of your own workflow YAML)",
        )
    return catalog[name]


def _looks_like_path(name_or_path: str | os.PathLike[str]) -> bool:
    if not isinstance(name_or_path, str):
        return True
    return "/" in name_or_path or os.sep in name_or_path or name_or_path.endswith((".yaml", ".yml"))


@functools.cache
def _catalog() -> dict[str, Template]:
    document = parse_yaml(CATALOG_PATH)
    node = document.node
    if not isinstance(node, yaml.MappingNode) or not isinstance(document.data, dict):
        raise TemplateError(CATALOG_PATH, "the catalog must be a map of template entries")
    lines = {str(key.value): line_of(key) for key, _ in node.value}
    return {name: _template(name, entry, lines[name]) for name, entry in document.data.items()}


def _template(name: str, entry: object, line: int) -> Template:
    def fail(message: str) -> TemplateError:
        return TemplateError(CATALOG_PATH, f"template {name!r}: {message}", line=line)

    if not isinstance(entry, dict):
        raise fail("an entry must be a map")
    unknown = sorted(set(entry) - _ENTRY_KEYS)
    if unknown:
        raise fail(f"unknown keys {unknown}; allowed: {sorted(_ENTRY_KEYS)}")
    path = PACKAGE_DIR / f"{name}.yaml"
    if not path.is_file():
        raise fail(f"its workflow file {path.name} is missing")
    description = entry.get("description")
    if not isinstance(description, str) or not description:
        raise fail("needs a description")
    params: dict[str, Param] = {}
    for param_name, spec in (entry.get("params") or {}).items():
        try:
            check_param_name(CATALOG_PATH, param_name)
        except TemplateError as error:
            raise fail(error.message) from None
        if not isinstance(spec, dict) or not isinstance(spec.get("description"), str):
            raise fail(f"parameter {param_name} needs a description")
        default = spec.get("default")
        if default is not None and not isinstance(default, str):
            raise fail(f"the default of {param_name} must be quoted text")
        params[param_name] = Param(param_name, spec["description"], default)
    return Template(
        name=name,
        path=path,
        description=description,
        params=MappingProxyType(params),
        roles=_strings(entry.get("roles"), fail, "roles"),
        services=_strings(entry.get("services"), fail, "services"),
        input_schema=MappingProxyType(_input_schema(entry.get("input_schema"), fail)),
        panel=_panel(entry.get("panel", False), fail),
        requester_collections=_requester_collections(entry.get("requester_collections"), fail),
    )


def _requester_collections(value: object, fail: _Fail) -> tuple[str, ...]:
    names = _strings(value, fail, "requester_collections")
    if len(set(names)) != len(names) or not all(PLAIN_COLLECTION_NAME.fullmatch(n) for n in names):
        raise fail("requester_collections must be distinct names of letters, digits, _ and -")
    return names


def _panel(panel: object, fail: _Fail) -> bool:
    # The page module itself is bundled into the built page, not shipped in the package.
    if not isinstance(panel, bool):
        raise fail("panel must be true or false")
    return panel


def _strings(value: object, fail: _Fail, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise fail(f"{what} must be a list of strings")
    return tuple(value)


def _input_schema(schema: object, fail: _Fail) -> dict[str, Any]:
    # The start function validates inputs with a small JSON Schema subset:
    # keep catalog entries inside it so that what the catalog says is enforced.
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise fail("input_schema must be a map with type: object")
    unknown = sorted(set(schema) - _SCHEMA_KEYS)
    if unknown:
        raise fail(f"input_schema uses unsupported keywords {unknown}")
    properties = schema.get("properties") or {}
    for name, spec in properties.items():
        if name in RESERVED_INPUT_FIELDS:
            raise fail(f"input field {name!r} is set by the start function")
        if not isinstance(spec, dict) or spec.get("type") not in _PROPERTY_TYPES:
            raise fail(f"input field {name!r} needs a type among {sorted(_PROPERTY_TYPES)}")
        unknown = sorted(set(spec) - _PROPERTY_KEYS)
        if unknown:
            raise fail(f"input field {name!r} uses unsupported keywords {unknown}")
        if spec.get("format", "uri") != "uri":
            raise fail(f"input field {name!r}: the only supported format is uri")
    missing = sorted(set(schema.get("required") or ()) - set(properties))
    if missing:
        raise fail(f"input_schema requires undefined fields {missing}")
    return schema
