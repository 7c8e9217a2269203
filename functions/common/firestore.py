"""The Firestore client, created on first use so cold starts stay light."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from common import config
from common.responses import HttpError

if TYPE_CHECKING:
    from google.cloud.firestore import Client, Transaction

_T = TypeVar("_T")
logger = logging.getLogger(__name__)


@functools.cache
def client() -> Client:
    """The client for ``APPROVALS_DATABASE`` (honours FIRESTORE_EMULATOR_HOST)."""
    from google.cloud import firestore

    return firestore.Client(project=config.project_id() or None, database=config.database())


def run_transaction(request_id: str, body: Callable[[Transaction], _T], *, busy: str) -> _T:
    """Run ``body`` in a retried transaction; lasting contention on the request is a 503 saying ``busy``."""
    from google.api_core.exceptions import Aborted
    from google.cloud.firestore import transactional

    try:
        return transactional(body)(client().transaction())
    except ValueError as exc:
        # The client retries an aborted transaction a few times, then raises
        # ValueError from the last Aborted: concurrent changes to this very
        # request. Nothing was written; the caller may retry.
        if not isinstance(exc.__cause__, Aborted):
            raise
        logger.warning("a change to %s kept conflicting: %s", request_id, exc)
        raise HttpError(503, busy) from exc
