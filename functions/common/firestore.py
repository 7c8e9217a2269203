"""The Firestore client, created on first use so cold starts stay light."""

from __future__ import annotations

import functools
import itertools
import logging
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from common import config
from common.responses import HttpError

if TYPE_CHECKING:
    from google.cloud.firestore import Client, Transaction

_T = TypeVar("_T")
logger = logging.getLogger(__name__)

# Racing transactions on one request abort each other. The client library
# retries at once, so racers can stay in lockstep and all run out of attempts;
# a jittered pause that doubles before each retry (Firestore's advice for
# contention) lets them through one at a time, within about 5 s at worst.
ATTEMPTS = 10
FIRST_PAUSE_SECONDS, LONGEST_PAUSE_SECONDS = 0.02, 1.0


@functools.cache
def client() -> Client:
    """The client for ``APPROVALS_DATABASE`` (honours FIRESTORE_EMULATOR_HOST)."""
    from google.cloud import firestore

    return firestore.Client(project=config.project_id() or None, database=config.database())


def run_transaction(request_id: str, body: Callable[[Transaction], _T], *, busy: str) -> _T:
    """Run ``body`` in a retried transaction; lasting contention on the request is a 503 saying ``busy``."""
    from google.api_core.exceptions import Aborted
    from google.cloud.firestore import transactional

    attempts = itertools.count()

    def paced(transaction: Transaction) -> _T:
        attempt = next(attempts)
        if attempt:
            ceiling = min(LONGEST_PAUSE_SECONDS, FIRST_PAUSE_SECONDS * 2**attempt)
            time.sleep(random.uniform(0, ceiling))
        return body(transaction)

    try:
        return transactional(paced)(client().transaction(max_attempts=ATTEMPTS))
    except (Aborted, ValueError) as exc:
        # The client retries an aborted commit, then raises ValueError from the
        # last Aborted; an aborted read surfaces as Aborted itself. Either way
        # concurrent changes to this very request won: nothing was written, and
        # the caller may retry.
        if not isinstance(exc, Aborted) and not isinstance(exc.__cause__, Aborted):
            raise
        logger.warning("a change to %s kept conflicting: %s", request_id, exc)
        raise HttpError(503, busy) from exc
