"""The Firestore client, created on first use so cold starts stay light."""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from common import config, errors

if TYPE_CHECKING:
    from google.cloud.firestore import Client, Transaction

_T = TypeVar("_T")
logger = logging.getLogger(__name__)

# Racing transactions on one request abort each other, at commit or at a
# read that waits too long for a lock. The client library retries only aborted
# commits, and at once, so racers can stay in lockstep and all run out of
# attempts. A jittered pause that doubles before each retry (Firestore's advice
# for contention) lets them through one at a time, within about 5 s at worst.
ATTEMPTS = 10
FIRST_PAUSE_SECONDS, LONGEST_PAUSE_SECONDS = 0.02, 1.0


@functools.cache
def client() -> Client:
    """The client for ``APPROVALS_DATABASE`` (honours FIRESTORE_EMULATOR_HOST)."""
    from google.cloud import firestore

    return firestore.Client(project=config.project_id() or None, database=config.database())


def run_transaction(request_id: str, body: Callable[[Transaction], _T], *, busy: str) -> _T:
    """Run ``body`` in a retried transaction; lasting contention on the request is
    ``errors.UnavailableError`` saying ``busy``."""
    from google.api_core.exceptions import Aborted
    from google.cloud.firestore import transactional

    used = 0

    def paced(transaction: Transaction) -> _T:
        nonlocal used
        if used:
            time.sleep(random.uniform(0, min(LONGEST_PAUSE_SECONDS, FIRST_PAUSE_SECONDS * 2**used)))
        used += 1
        return body(transaction)

    last: Exception | None = None
    for _ in range(ATTEMPTS):
        if used >= ATTEMPTS:
            break
        try:
            # The library retries an aborted commit under the first try's id,
            # which keeps the transaction's place in line for locks; an aborted
            # read ends its run, and this loop starts another.
            return transactional(paced)(client().transaction(max_attempts=ATTEMPTS - used))
        except (Aborted, ValueError) as exc:
            # An aborted commit surfaces as ValueError from the Aborted, an
            # aborted read as Aborted itself; either way nothing was written.
            if not isinstance(exc, Aborted) and not isinstance(exc.__cause__, Aborted):
                raise
            last = exc
    logger.warning("a change to %s kept conflicting: %s", request_id, last)
    raise errors.UnavailableError(busy) from last
