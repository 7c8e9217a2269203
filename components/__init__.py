"""Pulumi components for human-approval workflows on Google Cloud.

`ApprovalPlatform` once per environment, then one `ApprovalWorkflow` per approval
process. See the README for a walk-through.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .database import Collections
    from .errors import InvalidArgumentError
    from .platform import ApprovalPlatform, ApprovalPlatformArgs
    from .reference import PLATFORM_OUTPUT, PlatformReference
    from .workflow import ApprovalWorkflow, ApprovalWorkflowArgs, Escalation

# Each name's module, imported on first use (PEP 562): the package also holds the
# local emulator, whose `python -m emulator run` must not pay for Pulumi and pulumi_gcp.
_EXPORTS = {
    "ApprovalPlatform": ".platform",
    "ApprovalPlatformArgs": ".platform",
    "ApprovalWorkflow": ".workflow",
    "ApprovalWorkflowArgs": ".workflow",
    "Collections": ".database",
    "Escalation": ".workflow",
    "InvalidArgumentError": ".errors",
    "PLATFORM_OUTPUT": ".reference",
    "PlatformReference": ".reference",
}

__all__ = [
    "PLATFORM_OUTPUT",
    "ApprovalPlatform",
    "ApprovalPlatformArgs",
    "ApprovalWorkflow",
    "ApprovalWorkflowArgs",
    "Collections",
    "Escalation",
    "InvalidArgumentError",
    "PlatformReference",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
