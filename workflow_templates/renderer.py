"""Merging the step library into a template, and checking the result."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from approvals.engine.language import definition, queries
from approvals.engine.runtime.errors import DefinitionError

from .catalog import PACKAGE_DIR, Template
from .errors import TemplateError
from .options import check_request_approval_calls
from .source import YamlDocument, parse_yaml

LIBRARY_DIR = PACKAGE_DIR / "lib"

# Workflows limits (quotas page): source size.
MAX_SOURCE_BYTES = 128 * 1024

# The env vars Workflows itself provides to every execution.
BUILTIN_ENV_VARS = frozenset(
    {
        "GOOGLE_CLOUD_LOCATION",
        "GOOGLE_CLOUD_PROJECT_ID",
        "GOOGLE_CLOUD_PROJECT_NUMBER",
        "GOOGLE_CLOUD_SERVICE_ACCOUNT_NAME",
        "GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID",
        "GOOGLE_CLOUD_WORKFLOW_ID",
        "GOOGLE_CLOUD_WORKFLOW_REVISION_ID",
    }
)


@dataclass(frozen=True)
class Subworkflow:
    """One subworkflow of a template or library file: its YAML data, which the rendered source
    is made of, and its step AST, which the checks ask."""

    name: str
    path: Path
    data: dict[str, Any]
    ast: definition.Subworkflow

    @property
    def line(self) -> int:
        return self.ast.line


def subworkflows(document: YamlDocument) -> dict[str, Subworkflow]:
    """A file's subworkflows (a plain list of steps is `main`), read by the engine's parser."""
    try:
        program = definition.parse(document.text, str(document.path), strict=False)
    except DefinitionError as error:
        raise TemplateError(document.path, error.message, line=error.line, step=error.step) from error
    data = document.data if isinstance(document.data, dict) else {"main": {"steps": document.data}}
    return {
        name: Subworkflow(name, document.path, data[name], ast) for name, ast in program.subworkflows.items()
    }


def render(template: Template, env: Mapping[str, str]) -> str:
    """The workflow's source_contents: the template plus the library subworkflows it reaches.

    env holds the workflow's user env vars (platform settings and template
    parameters); every sys.get_env without a default must find its variable.
    """
    _check_env(template.path, env)
    source, needed = _merge(template.path, template.path.stat().st_mtime_ns)
    for subworkflow, read in needed:
        if read.name not in env:
            raise TemplateError(
                subworkflow.path,
                f"reads env var {read.name!r}, which is not set (give it as a parameter, "
                "or give sys.get_env a default)",
                line=read.line,
                step=read.step,
            )
    return source


@functools.lru_cache(maxsize=128)
def _merge(path: Path, _mtime_ns: int) -> tuple[str, tuple[tuple[Subworkflow, queries.EnvRead], ...]]:
    """Merge and check what does not depend on env, once per template version: the source, and the
    env vars it reads that must be set.

    A stack with many workflows of one template renders it many times; the
    merged text is the same each time, only the env differs.
    """
    own = subworkflows(parse_yaml(path))
    if "main" not in own:
        raise TemplateError(path, "the workflow has no main subworkflow")
    library = library_subworkflows()
    for name, subworkflow in own.items():
        if name in library:
            raise TemplateError(
                path,
                f"subworkflow {name!r} has the name of a step library subworkflow "
                f"({library[name].path.name}); rename it",
                line=subworkflow.line,
            )
    merged = {**own, **{name: library[name] for name in reachable(own, library)}}
    for subworkflow in merged.values():
        _check_calls(subworkflow, {**own, **library})
    for subworkflow in own.values():
        check_request_approval_calls(subworkflow.path, queries.calls(subworkflow.ast))
    source = _source(path, merged)
    size = len(source.encode("utf-8"))
    if size > MAX_SOURCE_BYTES:
        raise TemplateError(
            path,
            f"the rendered workflow is {size} bytes; Workflows accepts at most {MAX_SOURCE_BYTES}",
        )
    # A name that is not a constant string cannot be checked before the run.
    needed = tuple(
        (subworkflow, read)
        for subworkflow in merged.values()
        for read in queries.env_reads(subworkflow.ast)
        if read.name is not None and not read.has_default and read.name not in BUILTIN_ENV_VARS
    )
    return source, needed


@functools.cache
def library_subworkflows() -> dict[str, Subworkflow]:
    """Every subworkflow of the step library, in file order."""
    result: dict[str, Subworkflow] = {}
    for path in sorted(LIBRARY_DIR.glob("*.yaml")):
        for name, subworkflow in subworkflows(parse_yaml(path)).items():
            if name in result:
                raise TemplateError(
                    path,
                    f"subworkflow {name!r} is also defined in {result[name].path.name}",
                    line=subworkflow.line,
                )
            result[name] = subworkflow
    return result


def reachable(roots: Mapping[str, Subworkflow], library: Mapping[str, Subworkflow]) -> list[str]:
    """Library subworkflows the roots use, directly or through each other, in library order."""
    found: set[str] = set()
    pending = list(roots.values())
    while pending:
        for name in queries.referenced_names(pending.pop().ast):
            if name in library and name not in found:
                found.add(name)
                pending.append(library[name])
    return [name for name in library if name in found]


def _check_env(path: Path, env: Mapping[str, str]) -> None:
    most = definition.MAX_USER_ENV_VARS
    if len(env) > most:
        raise TemplateError(
            path, f"{len(env)} env vars ({', '.join(sorted(env))}); Workflows accepts at most {most}"
        )
    for name, value in env.items():
        if not name or name.startswith(definition.RESERVED_ENV_PREFIXES):
            raise TemplateError(
                path, f"env var {name!r}: names may not be empty or start with GOOGLE_ or WORKFLOWS_"
            )
        if not isinstance(value, str):
            raise TemplateError(path, f"env var {name!r} must be text, not {type(value).__name__}")


def _check_calls(subworkflow: Subworkflow, known: Mapping[str, Subworkflow]) -> None:
    for call in queries.calls(subworkflow.ast):
        target = call.call.function
        # Dotted targets are the standard library and connectors.
        if "." in target or target in known:
            continue
        guesses = difflib.get_close_matches(target, known, n=1)
        hint = f"did you mean {guesses[0]!r}? " if guesses else ""
        raise TemplateError(
            subworkflow.path,
            f"calls unknown subworkflow {target!r}; {hint}"
            f"defined here or in the step library: {', '.join(known)}",
            line=call.line,
            step=call.step,
        )


def _source(path: Path, merged: Mapping[str, Subworkflow]) -> str:
    library_files = sorted({sub.path.name for sub in merged.values() if sub.path != path})
    header = f"# Rendered by approvals from {path.name}"
    if library_files:
        header += f" and the step library ({', '.join(library_files)})"
    body = yaml.dump(
        {name: subworkflow.data for name, subworkflow in merged.items()},
        Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1_000_000,
    )
    return f"{header}; edit those, not this.\n{body}"
