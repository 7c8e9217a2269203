"""What every page test does: sign people in and out, and find the page's regions by their names."""

from __future__ import annotations

import uuid

from playwright.sync_api import Locator, Page, expect


def fresh(label: str) -> str:
    """A text no other test uses, so that locators find only this test's request."""
    return f"{label} {uuid.uuid4().hex[:8]}"


def sign_in(page: Page, email: str) -> None:
    page.goto("/")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text(f"Signed in as {email}")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_label("Email", exact=True)).to_be_visible()


def pending(page: Page) -> Locator:
    return page.get_by_role("region", name="Pending approvals", exact=True)


def decided(page: Page, subject: str, status: str) -> None:
    """The request left the pending ones and shows its final status in the history."""
    expect(pending(page).get_by_role("article", name=subject, exact=True)).to_have_count(0)
    expect(page.get_by_role("heading", name="History", exact=True)).to_be_visible()
    expect(page.get_by_role("article", name=subject, exact=True)).to_contain_text(f"Status: {status}")


def translate(page: Page, text: str) -> tuple[str, Locator]:
    """Ask for `text`'s translation in the Translate panel and see it arrive: (request id, the result)."""
    page.get_by_label("Text to translate", exact=True).fill(text)
    with page.expect_response("**/api/start") as started:
        page.get_by_role("button", name="Translate", exact=True).click()
    translation = page.get_by_role("region", name="Translation", exact=True)
    # The local translator marks the text instead of translating it.
    expect(translation).to_contain_text(f"[local translation en→fr] {text}")
    return started.value.json()["request_id"], translation
