"""Workflows connectors (`call: googleapis.…`) that the local engine can perform.

Only a few connectors exist here, each against a local stand-in: Firestore
documents (the Firestore emulator), Cloud Translation v2/v3 (a configurable,
plainly local translation endpoint) and Pub/Sub publish (the Pub/Sub emulator).
Any other name is refused with the list of what is supported, at deploy time
through `check_supported` and at run time through `call_connector`.

Not implemented: the connectors' own retries ("Workflows uses an idempotent
retry policy for GET requests ... a non-idempotent retry policy" for the rest,
Understand connectors) and long-running-operation polling, since none of
these methods starts an operation. A workflow's own `retry:` still applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from approvals.engine.runtime.connectors import firestore, pubsub, translate
from approvals.engine.runtime.connectors.rest import Connector, ConnectorSettings
from approvals.engine.runtime.errors import VALUE_ERROR, WorkflowError
from approvals.engine.runtime.tokens import TokenSource

__all__ = ["CONNECTORS", "SUPPORTED", "ConnectorSettings", "call_connector", "check_supported"]

SUPPORTED = (
    "googleapis.firestore.v1.",
    "googleapis.translate.v2.",
    "googleapis.translate.v3.",
    "googleapis.pubsub.v1.",
)
CONNECTORS: dict[str, Connector] = {
    **firestore.CONNECTORS,
    **translate.CONNECTORS,
    **pubsub.CONNECTORS,
}


def check_supported(name: str) -> str | None:
    """None when `name` is a connector method the local engine performs, else why not."""
    if name in CONNECTORS:
        return None
    family = next((prefix for prefix in SUPPORTED if name.startswith(prefix)), None)
    if family is not None:
        methods = ", ".join(sorted(n for n in CONNECTORS if n.startswith(family)))
        return f"connector method {name} is not supported by the local engine; of {family}* it has {methods}"
    return (
        f"connector {name} is not supported by the local engine; it supports "
        f"{', '.join(prefix + '*' for prefix in SUPPORTED)}: {', '.join(sorted(CONNECTORS))}"
    )


def call_connector(
    name: str, args: Mapping[str, Any], settings: ConnectorSettings, tokens: TokenSource
) -> Any:
    """Perform the connector call `name` with the step's `args`; its result or a WorkflowError."""
    problem = check_supported(name)
    if problem is not None:
        raise WorkflowError.tagged(VALUE_ERROR, problem)
    return CONNECTORS[name](args, settings, tokens)
