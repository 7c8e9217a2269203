"""The approval page in Chromium against the local dev stack, through its accessible names only.

The page is driven as a person would (labels, roles, visible text, the
keyboard); other users act beside it over HTTP (tests/e2e's Client), so the
page must pick their changes up live. Approvers are Pulumi.dev.yaml's: alice,
bob and group:reviewers (rex, in its approvals:groups) validate translations,
alice approves expenses. A request whose voting no dev workflow produces on
demand (a 2-of-3 quorum, an escalation) is written to Firestore as the workflow
would (tests/support/seed.py). Requests outlive their test on the module's
stack, so each test names its own (a fresh expense reason, a fresh text) and
looks only for those.
"""

from __future__ import annotations

import datetime as dt

import pytest
from google.cloud import firestore
from playwright.sync_api import Locator, Page, expect

from tests.e2e.stack_client import Client, Started
from tests.support import seed
from tests.web.pages import decided, fresh, pending, sign_in, sign_out, translate

ALICE = "alice@example.com"  # validates translations, approves expenses
REQUESTER = "carol@example.com"  # asks, approves nothing
REVIEWER = "rex@example.com"  # validates translations as a member of group:reviewers
BOB = "bob@example.com"
DAVE = "dave@example.com"  # approves only the seeded requests
NEWCOMER = "nina@example.com"  # in no group of Pulumi.dev.yaml; a test adds her to one
NOT_AN_APPROVER = "you are not an approver of this request"  # decide's 403 reason
PHONE = {"width": 375, "height": 667}
# More than one screen of controls: how many Tabs may pass before the target must have focus.
TAB_LIMIT = 100


def start_expense(client: Client, reason: str) -> tuple[Started, str]:
    """Start a one-stage expense (alice approves it) as the requester; (what start answered, subject)."""
    given = {"amount": 250, "currency": "EUR", "reason": reason}
    return client.start(REQUESTER, "expense-approval", given), f"Expense of 250 EUR - {reason}"


def mine(page: Page) -> Locator:
    return page.get_by_role("region", name="My requests", exact=True)


def out_of_office(page: Page) -> Locator:
    return page.get_by_role("region", name="Out of office", exact=True)


def seed_vote(db: firestore.Client, text: str, approvers: list[str], quorum: int, **fields: object) -> str:
    """A pending quorum request, as the workflow stores it, with `fields` on top; its id."""
    request_id = seed.request(
        db,
        approvers=approvers,
        quorum=quorum,
        mode="quorum",
        requester=REQUESTER,
        payload={
            "text": text,
            "translation": f"[fr] {text}",
            "source_language": "en",
            "target_language": "fr",
        },
    )
    if fields:
        db.collection(seed.REQUESTS).document(request_id).update(fields)
    return request_id


def fact(article: Locator, term: str) -> Locator:
    """The description of `term` in a card's facts (Mode, Approvals, Voted, ...)."""
    return article.locator(f'dt:text-is("{term}") + dd')


def open_history(article: Locator) -> Locator:
    """Open a card's audit trail; the list of its events."""
    toggle = article.get_by_role("button", name="History", exact=True)
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    return article.get_by_role("list", name="Request history", exact=True)


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
    """group:reviewers validates translations: Pulumi.dev.yaml's approvals:groups declares rex in it."""
    sign_in(page, REVIEWER)

    text = fresh("Good morning")
    started = client.start(REQUESTER, "translation-validation", {"text": text})

    article = pending(page).get_by_role("article").filter(has_text=text)
    expect(article).to_be_visible()
    article.get_by_role("button", name="Approve", exact=True).click()

    expect(pending(page).get_by_role("article").filter(has_text=text)).to_have_count(0)
    document = client.request(REVIEWER, started.request_id)
    assert (document["status"], document["decided_by"]) == ("approved", REVIEWER)


def test_a_membership_change_shows_without_a_reload(page: Page, client: Client, db: firestore.Client) -> None:
    """Joining a group (a `pulumi up` away) brings its requests in live; leaving it takes them away."""
    sign_in(page, NEWCOMER)
    page.evaluate("() => { window.notReloaded = true; }")
    text = fresh("Good evening")
    started = client.start(REQUESTER, "translation-validation", {"text": text})
    client.wait_until_awaiting(started.execution)
    expect(pending(page)).to_contain_text("Nothing to approve")

    seed.membership(db, NEWCOMER, ["reviewers"])

    article = pending(page).get_by_role("article").filter(has_text=text)
    expect(article).to_be_visible()
    assert page.evaluate("() => window.notReloaded === true"), "the page reloaded to show the request"

    db.collection(seed.MEMBERSHIPS).document(NEWCOMER).delete()

    expect(article).to_have_count(0)
    expect(pending(page)).to_contain_text("Nothing to approve")
    client.decide(ALICE, started.request_id, "rejected")


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


def test_translate_then_another_approver_validates(page: Page, client: Client) -> None:
    """The seed's flow: translate a text, see the translation arrive live; as one may not approve
    one's own request, bob validates it and the page shows the outcome."""
    text = fresh("Good morning")
    sign_in(page, ALICE)
    request_id, translation = translate(page, text)
    expect(translation).to_contain_text("Validation: pending (another approver validates it)")
    expect(page.get_by_role("button", name="Validate", exact=True)).to_have_count(0)

    validated = client.decide(BOB, request_id, "approved")
    assert validated.status_code == 200, validated.text
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


def test_quorum_vote_is_recorded_and_waits_for_the_others(
    page: Page, db: firestore.Client, client: Client
) -> None:
    """2 of 3: after alice's vote the card counts 1 of 2, alice has no buttons left, bob still has his."""
    text = fresh("Quorum")
    request_id = seed_vote(db, text, [ALICE, BOB, DAVE], quorum=2)

    sign_in(page, ALICE)
    article = pending(page).get_by_role("article").filter(has_text=text)
    expect(fact(article, "Mode")).to_have_text("quorum")
    expect(fact(article, "Approvals")).to_have_text("0 of 2 approvals")
    expect(fact(article, "Voted")).to_have_text("nobody yet")
    article.get_by_role("button", name="Approve", exact=True).click()

    expect(article.get_by_role("status")).to_have_text(
        "Your approval was recorded; waiting for the other approvers (1 of 2 approvals so far)."
    )
    expect(fact(article, "Approvals")).to_have_text("1 of 2 approvals")
    expect(fact(article, "Voted")).to_have_text(ALICE)
    expect(article).to_contain_text("Status: pending")
    expect(article.get_by_role("button", name="Approve", exact=True)).to_have_count(0)
    expect(article.get_by_role("button", name="Reject", exact=True)).to_have_count(0)
    document = client.request(ALICE, request_id)
    assert (document["status"], document["tally"]["approvals"], document["tally"]["voters"]) == (
        "pending",
        1,
        [ALICE],
    )

    # Another load knows from the tally alone that alice voted.
    page.reload()
    article = pending(page).get_by_role("article").filter(has_text=text)
    expect(article.get_by_role("status")).to_contain_text("Your vote was recorded")
    expect(article.get_by_role("button", name="Approve", exact=True)).to_have_count(0)

    sign_out(page)
    sign_in(page, BOB)
    article = pending(page).get_by_role("article").filter(has_text=text)
    expect(fact(article, "Approvals")).to_have_text("1 of 2 approvals")
    expect(article.get_by_role("button", name="Approve", exact=True)).to_be_enabled()


def test_rules_reminders_and_escalation_are_shown(page: Page, db: firestore.Client) -> None:
    """Per-rule progress, the voters, the reminders and the Escalated badge with its new deadline."""
    text = fresh("Escalated")
    now = dt.datetime.now(dt.UTC)
    rules = [
        {"name": "finance", "approvers": [DAVE], "quorum": 1},
        {"name": "legal", "approvers": [ALICE], "quorum": 1},
    ]
    seed_vote(
        db,
        text,
        [DAVE, ALICE],
        quorum=1,
        rules=rules,
        tally={"approvals": 1, "rejections": 0, "rules": {"finance": 1, "legal": 0}, "voters": [DAVE]},
        reminder_every_seconds=600,
        reminders_sent=2,
        last_reminder_at=now - dt.timedelta(minutes=5),
        escalated=True,
        escalated_at=now - dt.timedelta(minutes=1),
        due_at=now + dt.timedelta(hours=2),
    )

    sign_in(page, ALICE)
    article = pending(page).get_by_role("article").filter(has_text=text)
    expect(fact(article, "Approvals")).to_have_text("1 of 2 approvals")
    expect(fact(article, "Per rule")).to_have_text("finance 1/1, legal 0/1")
    expect(fact(article, "Voted")).to_have_text(DAVE)
    expect(fact(article, "Reminders sent")).to_contain_text("2, last at")
    expect(article.get_by_text("Escalated", exact=True)).to_be_visible()
    expect(fact(article, "Escalation")).to_contain_text("new deadline")
    expect(article.get_by_role("button", name="Approve", exact=True)).to_be_visible()


def test_sealed_votes_name_nobody_and_hidden_characters_show(page: Page, db: firestore.Client) -> None:
    """votes_visible after_decision: counts, not voters; a bidi override shows as [U+202E]."""
    text = fresh("Sealed")
    seed_vote(
        db,
        text,
        [ALICE, BOB, DAVE],
        quorum=2,
        votes_visible="after_decision",
        tally={"approvals": 1, "rejections": 0, "rules": {"approvers": 1}},
        subject=f"Pay \u202egnp.exe {text}",
    )

    sign_in(page, ALICE)
    article = pending(page).get_by_role("article").filter(has_text=text)
    expect(fact(article, "Approvals")).to_have_text("1 of 2 approvals")
    expect(fact(article, "Voted")).to_have_text("hidden until the decision")
    expect(article).to_contain_text("Pay [U+202E]gnp.exe")
    assert "\u202e" not in article.inner_text()


def test_requester_cancels_from_my_requests(page: Page, client: Client) -> None:
    started, subject = start_expense(client, fresh("Conference"))
    client.wait_until_awaiting(started.execution)

    sign_in(page, REQUESTER)
    article = mine(page).get_by_role("article", name=subject, exact=True)
    expect(article).to_contain_text("Status: pending")
    article.get_by_role("button", name="Cancel request", exact=True).click()
    reason = article.get_by_label("Reason for cancelling (optional)", exact=True)
    expect(reason).to_be_focused()
    reason.fill("Booked by the team instead")
    article.get_by_role("button", name="Confirm cancellation", exact=True).click()

    expect(article.get_by_role("status")).to_have_text("The request was cancelled.")
    expect(article).to_contain_text("Status: cancelled")
    expect(article).to_contain_text("Booked by the team instead")
    expect(article.get_by_role("button", name="Cancel request", exact=True)).to_have_count(0)
    document = client.request(REQUESTER, started.request_id)
    assert (document["status"], document["cancelled_by"]) == ("cancelled", REQUESTER)
    assert client.wait_until_ended(started.execution)["state"] == "CANCELLED"

    # The requester may read the trail of their own request.
    events = open_history(article)
    expect(events).to_contain_text(f"Requested by {REQUESTER}")
    expect(events).to_contain_text(f"Cancelled by {REQUESTER}")


def test_out_of_office_delegation_is_set_seen_and_cleared(page: Page) -> None:
    until = dt.date.today() + dt.timedelta(days=7)
    sign_in(page, ALICE)
    panel = out_of_office(page)
    expect(panel).to_contain_text("You have not delegated your approvals.")
    panel.get_by_label("Delegate to (e-mail)", exact=True).fill(DAVE)
    panel.get_by_label("Until (last day)", exact=True).fill(until.isoformat())
    panel.get_by_role("button", name="Set delegation", exact=True).click()
    expect(panel.get_by_role("status")).to_have_text(f"Delegation saved: {DAVE} approves for you.")
    expect(panel).to_contain_text(f"Your approvals go to {DAVE} until")

    sign_out(page)
    sign_in(page, DAVE)
    delegated = out_of_office(page).get_by_role("list", name="Delegated to me", exact=True)
    expect(delegated).to_contain_text(f"{ALICE} until")

    sign_out(page)
    sign_in(page, ALICE)
    panel = out_of_office(page)
    panel.get_by_role("button", name="Clear delegation", exact=True).click()
    expect(panel.get_by_role("status")).to_have_text("Delegation cleared.")
    expect(panel).to_contain_text("You have not delegated your approvals.")
    expect(panel.get_by_role("button", name="Clear delegation", exact=True)).to_be_hidden()


def test_a_delegate_sees_the_request_they_stand_in_for_and_votes_on_it(
    page: Page, db: firestore.Client
) -> None:
    """bob delegated to dave, and the request carries the stamp the functions write: dave's inbox
    lists it as standing in for bob, dave's vote counts for bob, and dave may read its History."""
    text = fresh("Stand-in")
    seed.delegation(db, BOB, DAVE)  # decide checks the delegation itself
    try:
        request_id = seed_vote(db, text, [BOB, ALICE], quorum=2, delegates=[DAVE], stand_in_for={DAVE: BOB})

        sign_in(page, DAVE)
        article = pending(page).get_by_role("article").filter(has_text=text)
        expect(article).to_contain_text(f"Standing in for {BOB}")
        expect(fact(article, "Approvals")).to_have_text("0 of 2 approvals")
        article.get_by_role("button", name="Approve", exact=True).click()

        expect(article.get_by_role("status")).to_have_text(
            "Your approval was recorded; waiting for the other approvers (1 of 2 approvals so far)."
        )
        expect(fact(article, "Voted")).to_have_text(DAVE)
        vote = seed.votes(db, request_id)[DAVE]
        assert (vote["outcome"], vote["on_behalf_of"], vote["principals"]) == ("approved", BOB, [BOB])

        # The rules let the delegate read the request's audit trail too.
        events = open_history(article)
        expect(events).to_contain_text(f"Voted by {DAVE}")
        expect(events).to_contain_text(f"on behalf of {BOB}")

        # The note is the delegate's: bob's own card has none. bob and dave hold one seat,
        # so bob is told his vote was cast, and is not offered another.
        sign_out(page)
        sign_in(page, BOB)
        article = pending(page).get_by_role("article").filter(has_text=text)
        expect(fact(article, "Approvals")).to_have_text("1 of 2 approvals")
        expect(article.get_by_text("Standing in for", exact=False)).to_have_count(0)
        expect(article.get_by_role("status")).to_have_text(f"{DAVE} already voted for you, standing in.")
        expect(article.get_by_role("button", name="Approve", exact=True)).to_be_hidden()
    finally:
        db.collection(seed.DELEGATIONS).document(BOB).delete()


def test_history_lists_the_request_and_the_vote(page: Page, client: Client) -> None:
    _, subject = start_expense(client, fresh("Taxi"))
    sign_in(page, ALICE)
    pending(page).get_by_role("article", name=subject, exact=True).get_by_role(
        "button", name="Approve", exact=True
    ).click()
    decided(page, subject, "approved")

    events = open_history(
        page.get_by_role("region", name="History", exact=True).get_by_role("article", name=subject)
    )
    expect(events).to_contain_text(f"Requested by {REQUESTER}")
    expect(events).to_contain_text(f"Voted by {ALICE}")
    expect(events).to_contain_text("approved · via signed in ·")
    expect(events).to_contain_text("after the request")
