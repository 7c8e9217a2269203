"""The approval page in Chromium against the local dev stack, through its accessible names only.

The page is driven as a person would (labels, roles, visible text, the
keyboard); other users act beside it over HTTP (tests/e2e's Client), so the
page must pick their changes up live. Approvers are Pulumi.dev.yaml's: alice,
bob and group:reviewers validate translations, alice approves expenses. Requests outlive
their test on the module's stack, so each test names its own (a fresh
expense reason, a fresh text) and looks only for those.
"""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.stack_client import Client, Started

ALICE = "alice@example.com"  # validates translations, approves expenses
REQUESTER = "carol@example.com"  # asks, approves nothing
REVIEWER = "rex@example.com"  # validates translations as a member of group:reviewers
NOT_AN_APPROVER = "you are not an approver of this request"  # decide's 403 reason
PHONE = {"width": 375, "height": 667}
# More than one screen of controls: how many Tabs may pass before the target must have focus.
TAB_LIMIT = 100


def fresh(label: str) -> str:
    """A text no other test uses, so that locators find only this test's request."""
    return f"{label} {uuid.uuid4().hex[:8]}"


def start_expense(client: Client, reason: str) -> tuple[Started, str]:
    """Start a one-stage expense (alice approves it) as the requester; (what start answered, subject)."""
    given = {"amount": 250, "currency": "EUR", "reason": reason}
    return client.start(REQUESTER, "expense-approval", given), f"Expense of 250 EUR - {reason}"


def sign_in(page: Page, email: str) -> None:
    page.goto("/")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text(f"Signed in as {email}")).to_be_visible()


def pending(page: Page) -> Locator:
    return page.get_by_role("region", name="Pending approvals", exact=True)


def decided(page: Page, subject: str, status: str) -> None:
    """The request left the pending ones and shows its final status in the history."""
    expect(pending(page).get_by_role("article", name=subject, exact=True)).to_have_count(0)
    expect(page.get_by_role("heading", name="History", exact=True)).to_be_visible()
    expect(page.get_by_role("article", name=subject, exact=True)).to_contain_text(f"Status: {status}")


def has_focus(target: Locator) -> bool:
    return target.evaluate("element => element === document.activeElement")


def tab_to(page: Page, target: Locator) -> None:
    """Press Tab until `target` has the focus, as a keyboard-only user would."""
    expect(target).to_be_visible()
    for _ in range(TAB_LIMIT):
        page.keyboard.press("Tab")
        if has_focus(target):
            return
    raise AssertionError(f"{TAB_LIMIT} presses of Tab never reached {target}")


def test_page_loads_within_its_security_policy(page: Page, console: list[str]) -> None:
    """The origin serves the page, and it runs without uncaught errors or CSP violations."""
    page.goto("/")
    expect(page).to_have_title("Approvals")
    expect(page.get_by_role("heading", name="Approvals", level=1)).to_be_visible()
    assert [line for line in console if "pageerror" in line or "Content Security Policy" in line] == []


def test_approver_sees_a_new_request_live_and_approves_it(page: Page, client: Client) -> None:
    sign_in(page, ALICE)
    expect(pending(page)).to_be_visible()
    # Marks this document: gone if anything reloads the page.
    page.evaluate("() => { window.notReloaded = true; }")

    reason = fresh("Train tickets")
    started, subject = start_expense(client, reason)

    article = pending(page).get_by_role("article", name=subject, exact=True)
    expect(article).to_be_visible()
    assert page.evaluate("() => window.notReloaded === true"), "the page reloaded to show the request"
    for shown in ("250", "EUR", reason, "Status: pending"):
        expect(article).to_contain_text(shown)

    article.get_by_label("Comment", exact=True).fill("Receipts attached")
    article.get_by_role("button", name="Approve", exact=True).click()

    decided(page, subject, "approved")
    document = client.request(ALICE, started.request_id)
    assert (document["status"], document["decided_by"], document["comment"]) == (
        "approved",
        ALICE,
        "Receipts attached",
    )


def test_group_member_sees_a_request_of_their_group_and_approves_it(page: Page, client: Client) -> None:
    """group:reviewers validates translations: a member's token carries `groups`; the inbox asks for them."""
    # The sign-in form takes an e-mail only: hand the page a session whose token has the claim.
    token = client.sign_in(REVIEWER, groups=["reviewers"])
    page.goto("/")
    page.evaluate(
        "([key, session]) => sessionStorage.setItem(key, JSON.stringify(session))",
        ["approvals.localSession", {"email": REVIEWER, "idToken": token}],
    )
    page.reload()
    expect(page.get_by_text(f"Signed in as {REVIEWER}")).to_be_visible()

    text = fresh("Good morning")
    started = client.start(REQUESTER, "translation-validation", {"text": text})

    article = pending(page).get_by_role("article").filter(has_text=text)
    expect(article).to_be_visible()
    article.get_by_role("button", name="Approve", exact=True).click()

    expect(pending(page).get_by_role("article").filter(has_text=text)).to_have_count(0)
    document = client.request(REVIEWER, started.request_id)
    assert (document["status"], document["decided_by"]) == ("approved", REVIEWER)


def test_non_approver_has_nothing_to_approve_and_cannot_decide(page: Page, client: Client) -> None:
    # The requester may read their request, but approves nothing.
    started, _ = start_expense(client, fresh("Hotel"))
    request_id = started.request_id
    client.wait_until_awaiting(started.execution)  # the request exists, and the requester may read it
    assert client.request(REQUESTER, request_id)["status"] == "pending"

    sign_in(page, REQUESTER)
    expect(page.get_by_text("Nothing to approve")).to_be_visible()
    expect(page.get_by_role("button", name="Approve", exact=True)).to_have_count(0)

    response = client.decide(REQUESTER, request_id, "approved")
    assert response.status_code == 403, response.text
    assert NOT_AN_APPROVER in response.text
    assert client.request(REQUESTER, request_id)["status"] == "pending"


def test_non_approver_validating_a_translation_sees_the_refusal(page: Page) -> None:
    sign_in(page, REQUESTER)
    page.get_by_label("Text to translate", exact=True).fill(fresh("Good evening"))
    page.get_by_role("button", name="Translate", exact=True).click()

    # The requester may read the request, so the page offers the seed's buttons; decide refuses.
    page.get_by_role("button", name="Validate", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text(NOT_AN_APPROVER)


def test_translate_then_validate(page: Page) -> None:
    """The seed's flow: translate a text, see the translation arrive live, validate it."""
    text = fresh("Good morning")
    sign_in(page, ALICE)
    page.get_by_label("Text to translate", exact=True).fill(text)
    page.get_by_role("button", name="Translate", exact=True).click()

    translation = page.get_by_role("region", name="Translation", exact=True)
    # The local translator marks the text instead of translating it.
    expect(translation).to_contain_text(f"[local translation en→fr] {text}")
    expect(page.get_by_role("button", name="Reject translation", exact=True)).to_be_visible()
    page.get_by_role("button", name="Validate", exact=True).click()

    # Worded apart from the inbox's "Status: ..." so the two never read as one when
    # the requester is also an approver of their own translation.
    expect(translation).to_contain_text("Validation: approved")
    expect(page.get_by_role("alert")).to_have_count(0)


@pytest.mark.parametrize("viewport", [PHONE], ids=["phone"])
def test_phone_inbox_fits_and_approves_by_keyboard_alone(page: Page, client: Client) -> None:
    _, subject = start_expense(client, fresh("Parking"))

    page.goto("/")
    tab_to(page, page.get_by_label("Email", exact=True))
    page.keyboard.type(ALICE)
    tab_to(page, page.get_by_role("button", name="Sign in", exact=True))
    page.keyboard.press("Enter")
    expect(page.get_by_text(f"Signed in as {ALICE}")).to_be_visible()

    article = pending(page).get_by_role("article", name=subject, exact=True)
    expect(article).to_be_visible()
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the inbox scrolls sideways by {overflow}px on a {PHONE['width']}px screen"

    tab_to(page, article.get_by_role("button", name="Approve", exact=True))
    page.keyboard.press("Enter")
    decided(page, subject, "approved")
