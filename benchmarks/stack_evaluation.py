"""How long the components take to evaluate under mocks, against raw pulumi_gcp calls.

The baseline replays the very resources the components registered (same types,
names and inputs) as flat `pulumi_gcp` constructor calls: what a team would write
by hand, with no validation, rendering or output plumbing. The ratio is the cost
of the components' work on top of Pulumi's own.
"""

import importlib
import re
import statistics
import time
from collections.abc import Callable
from itertools import chain
from pathlib import Path
from typing import Any, TypeVar

import pulumi

from approvals import ApprovalPlatform, ApprovalPlatformArgs, ApprovalWorkflow, ApprovalWorkflowArgs
from approvals.testing import CapturedResource, Graph, capture, capture_program

T = TypeVar("T")
REPO = Path(__file__).resolve().parent.parent
CONFIG = {"gcp:project": "approvals-bench"}
TEMPLATES = ("translation_validation", "expense_approval", "deploy_approval")
PARAMS = {
    "deploy_approval": {"DEPLOY_WEBHOOK_URL": "https://deploy.example.com/hook"},
    "expense_approval": {"FINANCE_APPROVERS": ["finance@example.com"]},
}


def fifty_workflows() -> None:
    """One platform and 50 workflows, cycling through the catalog's templates."""
    platform = ApprovalPlatform("approvals", ApprovalPlatformArgs())
    for index in range(50):
        template = TEMPLATES[index % len(TEMPLATES)]
        ApprovalWorkflow(
            f"workflow-{index:02d}",
            ApprovalWorkflowArgs(
                platform=platform,
                template=template,
                approvers=[f"approver{index}@example.com"],
                params=PARAMS.get(template, {}),
            ),
        )


# The Python package of each provider the reference stack uses.
_PACKAGES = {"gcp": "pulumi_gcp", "random": "pulumi_random", "time": "pulumiverse_time"}


def _resource_class(type_token: str) -> Callable[..., pulumi.CustomResource]:
    # "gcp:projects/iAMMember:IAMMember" -> pulumi_gcp.projects.IAMMember;
    # "time:index/sleep:Sleep" -> pulumiverse_time.Sleep (`index` is the package itself).
    provider, path, class_name = type_token.split(":")
    module = path.split("/")[0]
    package = _PACKAGES[provider]
    return getattr(
        importlib.import_module(package if module == "index" else f"{package}.{module}"), class_name
    )


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


# Maps whose keys are data (env var names, labels, headers), not property names.
_DATA_MAPS = {"userEnvVars", "environmentVariables", "labels", "headers"}


def _python_inputs(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        if key in _DATA_MAPS:
            return value
        return {_snake(k): _python_inputs(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_python_inputs(v) for v in value]
    return value


def flat_program(graph: Graph) -> Callable[[], None]:
    """A program that registers `graph`'s custom resources directly, top level.

    Each keeps the options that shape a deployment: what it waits for (the resources its
    inputs came from, and its depends_on, given as depends_on), protect and
    delete_before_replace. Without them a deployment would create everything at once: not
    a program anyone could run in place of the components.
    """
    resources: list[CapturedResource] = [r for r in graph.resources if r.custom]

    def program() -> None:
        created: dict[str, pulumi.CustomResource] = {}
        for resource in resources:
            waits_for = dict.fromkeys(chain(resource.dependencies, *resource.property_dependencies.values()))
            options = pulumi.ResourceOptions(
                depends_on=[created[urn] for urn in waits_for if urn in created],
                protect=resource.protect,
                delete_before_replace=resource.delete_before_replace,
            )
            created[resource.urn] = _resource_class(resource.type)(
                resource.name, **_python_inputs(resource.inputs), opts=options
            )

    return program


def timed(run: Callable[[], T], repeat: int) -> tuple[float, T]:
    """The median seconds `run` takes over `repeat` runs, and what its last run returned."""
    samples, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        samples.append(time.perf_counter() - start)
    assert result is not None
    return statistics.median(samples), result


def side_by_side(
    components: Callable[[], Graph], flat: Callable[[], Graph], repeat: int
) -> tuple[float, float]:
    """Median seconds of each over `repeat` rounds of one run each, after an untimed run of
    each (imports, caches): a busy moment of the machine weighs on both alike."""
    components()
    flat()
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for run, seconds in zip((components, flat), samples, strict=True):
            start = time.perf_counter()
            run()
            seconds.append(time.perf_counter() - start)
    return statistics.median(samples[0]), statistics.median(samples[1])


def report(repeat: int = 9) -> list[str]:
    lines = []
    reference = capture_program(REPO / "__main__.py", stack="dev")
    fifty = capture(fifty_workflows, config=CONFIG)
    for label, components, graph in (
        ("reference stack (dev)", lambda: capture_program(REPO / "__main__.py", stack="dev"), reference),
        ("50 ApprovalWorkflows", lambda: capture(fifty_workflows, config=CONFIG), fifty),
    ):
        flat = flat_program(graph)
        components_s, flat_s = side_by_side(
            components, lambda flat=flat: capture(flat, config=CONFIG), repeat
        )
        custom = sum(r.custom for r in graph.resources)
        lines.append(
            f"{label:24} {custom:4d} resources  components {components_s * 1000:7.1f} ms"
            f"  raw pulumi_gcp {flat_s * 1000:7.1f} ms  ratio {components_s / flat_s:4.2f}x"
        )
    return lines
