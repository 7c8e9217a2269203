"""Pulumi components for human-approval workflows on Google Cloud.

`ApprovalPlatform` once per environment, then one `ApprovalWorkflow` per approval
process. See the README for a walk-through.
"""

from .database import Collections
from .errors import InvalidArgumentError
from .platform import ApprovalPlatform, ApprovalPlatformArgs
from .workflow import ApprovalWorkflow, ApprovalWorkflowArgs, Escalation

__all__ = [
    "ApprovalPlatform",
    "ApprovalPlatformArgs",
    "ApprovalWorkflow",
    "ApprovalWorkflowArgs",
    "Collections",
    "Escalation",
    "InvalidArgumentError",
]
