"""Writes the documents the workflow and Pulumi would write."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from typing import Any

from google.cloud import firestore

REQUESTS = "approval_requests"
CALLBACKS = "approval_callbacks"
WORKFLOWS = "approval_workflows"


def request(
    db: firestore.Client,
    *,
    approvers: Sequence[str],
    status: str = "pending",
    due_in: dt.timedelta = dt.timedelta(hours=1),
    callback_url: str | None = None,
    request_id: str | None = None,
) -> str:
    """A request as the request_approval subworkflow stores it; returns its id."""
    request_id = request_id or uuid.uuid4().hex
    now = dt.datetime.now(dt.UTC)
    db.collection(REQUESTS).document(request_id).set(
        {
            "request_id": request_id,
            "template": "translation_validation",
            "stage": "approval",
            "status": status,
            "approvers": list(approvers),
            "requester": "requester@example.com",
            "subject": "Check the translation",
            "payload": {"text": "Hello", "translation": "Bonjour"},
            "workflow_id": "wf",
            "execution_id": "exec-1",
            "created_at": now,
            "due_at": now + due_in,
        }
    )
    if callback_url:
        db.collection(CALLBACKS).document(request_id).set(
            {"url": callback_url, "method": "POST", "execution_id": "exec-1", "created_at": now}
        )
    return request_id


def workflow(db: firestore.Client, key: str, workflow_name: str, input_schema: dict[str, Any]) -> None:
    """A registry entry as the Pulumi component writes it."""
    db.collection(WORKFLOWS).document(key).set(
        {
            "workflow_name": workflow_name,
            "template": "translation_validation",
            "input_schema": json.dumps(input_schema),
        }
    )


def get(db: firestore.Client, collection: str, document: str) -> dict[str, Any] | None:
    """A document's data, or None."""
    return db.collection(collection).document(document).get().to_dict()
