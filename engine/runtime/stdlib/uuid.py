"""uuid.generate: "a random 128-bit universally unique identifier (UUID) in string form",
taken from the Host so that a replay sees the same one."""

from __future__ import annotations

from approvals.engine.runtime.effects import Host
from approvals.engine.runtime.stdlib.base import pure


def _generate(host: Host) -> str:
    return host.uuid4()


FUNCTIONS = (pure("uuid.generate", _generate),)
