"""A platform that renames every collection (`approvals:collections`, Collections): the page,
the functions and the workflows all follow the new names, through the contract's env vars and
the page's config.json, and nothing lands in a collection of the default names."""

from __future__ import annotations

import json

from google.cloud import firestore
from playwright.sync_api import Page, expect

from approvals.functions.common.contract import COLLECTIONS
from tests.support.stacks import stack_configured
from tests.web.pages import decided, fresh, pending, sign_in, sign_out, translate

RENAMED = {key: f"team_{key}" for key in COLLECTIONS}
ALICE, BOB = "alice@example.com", "bob@example.com"  # both validate translations in the dev stack
SUBJECT = "Validate the en to fr translation"
WORKFLOW = "translation-validation"


stack = stack_configured({"approvals:collections": json.dumps(RENAMED)})


def test_a_translation_runs_through_the_page_in_renamed_collections(page: Page, db: firestore.Client) -> None:
    text = fresh("Good evening")
    sign_in(page, ALICE)
    request_id, translation = translate(page, text)
    expect(translation).to_contain_text("Validation: pending")

    sign_out(page)
    sign_in(page, BOB)
    article = pending(page).get_by_role("article", name=SUBJECT, exact=True)
    expect(article).to_contain_text(text)
    article.get_by_role("button", name="Approve", exact=True).click()
    decided(page, SUBJECT, "approved")

    assert db.collection(RENAMED["requests"]).document(request_id).get().get("status") == "approved"
    mine = firestore.FieldFilter("request_id", "==", request_id)
    events = db.collection(RENAMED["audit"]).where(filter=mine).stream()
    assert {event.get("event") for event in events} >= {"requested", "voted", "decided"}
    extension = db.collection(RENAMED["extensions"]).document(WORKFLOW)
    [translated] = extension.collection("translations").where(filter=mine).stream()
    assert translated.get("approved") is True
    for key, default in ((key, entry.default) for key, entry in COLLECTIONS.items()):
        assert not list(db.collection(default).limit(1).stream()), f"{key} was written under {default}"


def test_a_workflow_without_its_extension_shows_no_panel(page: Page, db: firestore.Client) -> None:
    sign_in(page, ALICE)
    expect(page.get_by_role("heading", name="Translate", exact=True)).to_be_visible()
    extension = db.collection(RENAMED["extensions"]).document(WORKFLOW)
    saved = extension.get().to_dict()
    extension.delete()
    try:
        # No translation workflow, no translation UI: the page drops the panel live.
        expect(page.get_by_role("heading", name="Translate", exact=True)).to_have_count(0)
        expect(page.get_by_label("Text to translate", exact=True)).to_have_count(0)
    finally:
        extension.set(saved)
