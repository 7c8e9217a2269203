"""Apply the pack offline: run a program under mocks and validate its graph with the very
policy objects the Pulumi CLI would run, built into the arguments the CLI's analyzer builds."""

import argparse
import asyncio
import contextlib
import json
import sys
import traceback
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from inspect import isawaitable
from pathlib import Path
from typing import Any

from pulumi import ConfigMissingError
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from approvals.testing import CapturedResource, Graph, capture_program, find_program

from .pack import PACK_NAME, POLICIES
from .pulumi_internals import NotApplicableError, UnknownValueError, unknown_checking_proxy
from .settings import defaults

LEVELS = {level.value for level in EnforcementLevel}


@dataclass(frozen=True)
class Violation:
    """One reported violation; `urn` is the offending resource's."""

    level: str  # "mandatory" or "advisory"
    policy: str
    urn: str
    message: str

    def __str__(self) -> str:
        return f"{self.level.upper()} {self.policy} {self.urn}: {self.message}"


def policy_settings(
    policy: Policy, policy_config: Mapping[str, Any]
) -> tuple[EnforcementLevel, dict[str, Any]]:
    """A policy's level and parameters from `--policy-pack-config` JSON, over its defaults."""
    entry = policy_config.get(policy.name, {})
    # As in the CLI's config file, a bare string sets only the level.
    overrides = {"enforcementLevel": entry} if isinstance(entry, str) else dict(entry)
    level = overrides.pop("enforcementLevel", None)
    if level is not None and level not in LEVELS:
        raise ValueError(f"{policy.name}: enforcementLevel {level!r} is not one of {sorted(LEVELS)}")
    # A policy without a level of its own gets PolicyPack's default, advisory.
    default = policy.enforcement_level or EnforcementLevel.ADVISORY
    return (EnforcementLevel(level) if level else default), {**defaults(policy.config_schema), **overrides}


def options(resource: CapturedResource) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=resource.protect,
        ignore_changes=[],
        delete_before_replace=resource.delete_before_replace or None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=resource.parent or None,
    )


def stack_resources(graph: Graph) -> list[PolicyResource]:
    """The stack as AnalyzeStack sees it: outputs, with parents and dependencies linked."""
    resources = {
        r.urn: PolicyResource(
            r.type, unknown_checking_proxy(r.outputs), r.urn, r.name, options(r), None, None, [], {}
        )
        for r in graph.resources
    }
    for captured in graph.resources:
        resource = resources[captured.urn]
        resource.parent = resources.get(captured.parent)
        resource.dependencies = [resources[urn] for urn in captured.dependencies if urn in resources]
        resource.property_dependencies = {
            key: [resources[urn] for urn in urns if urn in resources]
            for key, urns in captured.property_dependencies.items()
        }
    return list(resources.values())


def run(validation: Any) -> None:
    """Await a validation that returned an awaitable, on a loop of its own as the analyzer does."""
    if isawaitable(validation):
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(_wait(validation))
        finally:
            loop.close()


async def _wait(awaitable: Awaitable[Any]) -> None:
    await awaitable


def validate(
    policy: ResourceValidationPolicy | StackValidationPolicy,
    args: ResourceValidationArgs | StackValidationArgs,
    level: EnforcementLevel,
    resource_urn: str,
    stack_urn: str,
) -> list[Violation]:
    """One policy on one resource (`resource_urn`) or on the stack (""), as the analyzer runs it.

    A stack policy's finding that names no resource is the stack's, as the CLI shows it.
    """
    found: list[Violation] = []

    def report_violation(message: str, urn: str | None = None) -> None:
        # A resource policy's violations belong to its resource, whatever urn it passes.
        found.append(Violation(level.value, policy.name, resource_urn or urn or stack_urn, message))

    try:
        run(policy.validate(args, report_violation))  # type: ignore[arg-type]
    except UnknownValueError as error:
        message = (
            f"cannot be checked until deploy: {error.message}. `pulumi preview` says \"can't run policy "
            f"'{policy.name}' from policy pack '{PACK_NAME}' during preview\" for such a value; offline, "
            "the outputs of other stacks (StackReference) are unknown as well"
        )
        found.append(
            Violation(EnforcementLevel.ADVISORY.value, policy.name, resource_urn or stack_urn, message)
        )
    except NotApplicableError:
        pass
    return found


def stack_urn(graph: Graph) -> str:
    """The root stack's URN: the parent of the program's top-level resources."""
    parents = (r.parent for r in graph.resources)
    return next((urn for urn in parents if urn.split("::")[-2:-1] == ["pulumi:pulumi:Stack"]), "")


def check_graph(graph: Graph, policy_config: Mapping[str, Any] | None = None) -> list[Violation]:
    """Every violation the pack reports on `graph`, policy by policy."""
    policy_config = dict(policy_config or {})
    unknown = sorted(set(policy_config) - {policy.name for policy in POLICIES})
    if unknown:
        raise ValueError(f"policy config names policies the pack does not have: {', '.join(unknown)}")
    violations: list[Violation] = []
    stack = stack_urn(graph)
    for policy in POLICIES:
        level, config = policy_settings(policy, policy_config)
        if level == EnforcementLevel.DISABLED:
            continue
        # As in the analyzer: a violation that remediation could not fix is mandatory.
        if level == EnforcementLevel.REMEDIATE:
            level = EnforcementLevel.MANDATORY
        if isinstance(policy, ResourceValidationPolicy):
            for r in graph.resources:
                props = unknown_checking_proxy(r.inputs)
                args = ResourceValidationArgs(r.type, props, r.urn, r.name, options(r), None, config, {})
                violations += validate(policy, args, level, r.urn, stack)
        elif isinstance(policy, StackValidationPolicy):
            args = StackValidationArgs(stack_resources(graph), config, {})
            violations += validate(policy, args, level, "", stack)
    return violations


def check_program(
    program: Path,
    *,
    stack: str = "dev",
    config: Mapping[str, str] | None = None,
    policy_config: Mapping[str, Any] | None = None,
) -> list[Violation]:
    """Run a Pulumi program file under mocks, with `Pulumi.<stack>.yaml` beside it, and check it."""
    graph = capture_program(Path(program), stack=stack, config=config, preview=True)
    return check_graph(graph, policy_config)


def summary(violations: Sequence[Violation]) -> str:
    mandatory = sum(v.level == EnforcementLevel.MANDATORY.value for v in violations)
    return (
        f"{len(violations)} violation(s): {mandatory} mandatory, {len(violations) - mandatory} advisory "
        f"({len(POLICIES)} policies of pack '{PACK_NAME}')"
    )


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m approvals.policies check",
        description="Run a Pulumi program offline, under mocks, and apply the approvals policy pack to it.",
    )
    parser.add_argument(
        "program",
        type=Path,
        help="the program's __main__.py, or its project folder (Pulumi.yaml's main: is followed)",
    )
    parser.add_argument(
        "--stack", default="dev", help="stack name; Pulumi.<stack>.yaml in the project folder"
    )
    parser.add_argument(
        "--config", action="append", default=[], metavar="KEY=VALUE", help="set stack config (repeatable)"
    )
    parser.add_argument(
        "--policy-config", type=Path, metavar="FILE.json", help="as `pulumi preview --policy-pack-config`"
    )
    args = parser.parse_args(argv)
    malformed = [item for item in args.config if "=" not in item]
    if malformed:
        parser.error(f"--config takes KEY=VALUE, got {', '.join(malformed)}")
    return args


def program_failure(error: BaseException, program: Path) -> str:
    """The traceback's frames in the program's own folder, then the error; for a missing config
    key, the flag that sets it. The check's and Pulumi's frames say nothing to its author."""
    folder = find_program(program)[1]
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if not frame.filename.startswith("<") and Path(frame.filename).resolve().is_relative_to(folder)
    ]
    lines = ["Traceback (the program's frames):\n", *traceback.format_list(frames)] if frames else []
    lines.append(f"{type(error).__name__}: {error}")
    if isinstance(error, ConfigMissingError):
        lines.append(f"\nSet it with --config {error.key}=VALUE, or in the program's Pulumi.<stack>.yaml")
    return "".join(lines)


def main(argv: Sequence[str]) -> int:
    """`python -m policies check PROGRAM.py [--stack NAME] [--config KEY=VALUE ...] [--policy-config FILE]`.

    Exit 0 when no mandatory violation, 1 otherwise, 2 when the program or config cannot be run.
    """
    args = parse_args(argv)
    config = dict(item.split("=", 1) for item in args.config)
    try:
        policy_config = json.loads(args.policy_config.read_text()) if args.policy_config else None
        # What the program prints goes to stderr, as the CLI shows it apart: stdout is the report.
        with contextlib.redirect_stdout(sys.stderr):
            violations = check_program(
                args.program, stack=args.stack, config=config, policy_config=policy_config
            )
    # Whatever the program raises is reported as a failed check, in the program's own terms; its
    # sys.exit() too, whose code must not read as a policy verdict.
    except (Exception, SystemExit) as error:
        print(f"error: cannot check {args.program} (stack {args.stack})", file=sys.stderr)
        print(program_failure(error, args.program), file=sys.stderr)
        return 2
    for violation in violations:
        print(violation)
    print(summary(violations))
    return 1 if any(v.level == EnforcementLevel.MANDATORY.value for v in violations) else 0
