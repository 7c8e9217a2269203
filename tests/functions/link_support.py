"""Helpers for the signed-link tests: issuing links, and following one as a browser would."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
import requests
from google.cloud import firestore

from functions.common import links
from tests.support import seed

# The functions refuse keys under 32 bytes.
LINK_KEY = "test-link-key-of-at-least-32-bytes!"


def issue(
    db: firestore.Client, request_id: str, approver: str, expires_in: dt.timedelta = dt.timedelta(hours=1)
) -> str:
    """A token for the request as stored now, as notify would mail it."""
    document = seed.get(db, seed.REQUESTS, request_id) or {}
    expires_at = dt.datetime.now(dt.UTC) + expires_in
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("APPROVALS_LINK_KEY", LINK_KEY)
        return links.sign(
            request_id, approver, links.digest(document.get("subject"), document.get("payload")), expires_at
        )


class Form(HTMLParser):
    """The page's form: where it posts, its hidden fields and its submit buttons."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.outcomes: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.action = attributes.get("action")
        elif tag == "input" and attributes.get("type") == "hidden":
            self.fields[attributes["name"]] = attributes.get("value", "")
        elif tag == "button" and attributes.get("name") == "outcome":
            self.outcomes.append(attributes["value"])


def submit(page: requests.Response, outcome: str, comment: str = "") -> requests.Response:
    """Press ``outcome`` on the confirmation ``page``, as a browser posts the form."""
    form = Form(page.text)
    assert form.action is not None, page.text
    assert outcome in form.outcomes
    return requests.post(
        requests.compat.urljoin(page.url, form.action),
        data={**form.fields, "outcome": outcome, "comment": comment},
        timeout=30,
    )
