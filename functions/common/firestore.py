"""The Firestore client, created on first use so cold starts stay light."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from common import config

if TYPE_CHECKING:
    from google.cloud.firestore import Client


@functools.cache
def client() -> Client:
    """The client for ``APPROVALS_DATABASE`` (honours FIRESTORE_EMULATOR_HOST)."""
    from google.cloud import firestore

    return firestore.Client(project=config.project_id() or None, database=config.database())
