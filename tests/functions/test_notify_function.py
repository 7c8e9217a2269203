"""The notify function, pushed to as Pub/Sub would, mailing through a local webhook."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from google.cloud import firestore

from approvals.emulator.functions import FunctionServer
from approvals.engine.api.local_server import free_port
from functions.common import links
from tests.e2e.stack_client import link_token
from tests.functions.link_support import LINK_KEY, submit
from tests.support import seed
from tests.support.servers import CallbackServer, RecordingServer, Reply

ALICE = "alice@example.com"
BOB = "bob@example.com"
CAROL = "carol@example.com"
REX = "rex@example.com"


@pytest.fixture(scope="module")
def mail_server() -> Iterator[RecordingServer]:
    """The mail relay: records each mail notify hands over."""
    with RecordingServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_mails(mail_server: RecordingServer) -> None:
    mail_server.reset()


@pytest.fixture(scope="module")
def link(function_env: dict[str, str], callback_server: CallbackServer) -> Iterator[FunctionServer]:
    env = {**function_env, "APPROVALS_LINK_KEY": LINK_KEY, "WORKFLOWS_EMULATOR_HOST": callback_server.host}
    with FunctionServer("link", env) as function:
        yield function


@pytest.fixture(scope="module")
def notify_env(function_env: dict[str, str], link: FunctionServer) -> dict[str, str]:
    # The site is the link function itself: its /link path is what Hosting rewrites to it.
    return {**function_env, "APPROVALS_LINK_KEY": LINK_KEY, "APPROVALS_SITE_URL": link.url}


@pytest.fixture(scope="module")
def notify(notify_env: dict[str, str], mail_server: RecordingServer) -> Iterator[FunctionServer]:
    env = {**notify_env, "APPROVALS_MAIL_WEBHOOK_URL": f"{mail_server.url}/mail"}
    with FunctionServer("notify", env) as function:
        yield function


def _deliver(function: FunctionServer, data: dict[str, Any], attributes: dict[str, str]) -> requests.Response:
    """POST ``data`` as one message the way a Pub/Sub push subscription does."""
    envelope = {
        "message": {
            "data": base64.b64encode(json.dumps(data).encode()).decode(),
            "attributes": attributes,
            "messageId": "1",
        },
        "subscription": "projects/demo-approvals/subscriptions/approvals-notify",
    }
    return requests.post(f"{function.url}/", json=envelope, timeout=30)


def push(function: FunctionServer, request_id: str, event: str, **fields: Any) -> requests.Response:
    """Deliver one request's event as the workflow publishes it."""
    data = {
        "request_id": request_id,
        "event": event,
        "actor": "workflow",
        "at": "2026-01-05T10:00:00Z",
        **fields,
    }
    return _deliver(function, data, {"event": event, "request_id": request_id})


def push_moment(function: FunctionServer, event: str, delegator: str, at: dt.datetime) -> requests.Response:
    """Deliver a delegation event as the delegation timer publishes it."""
    data = {"event": event, "delegator": delegator, "actor": "workflow", "at": at.isoformat(), "details": {}}
    return _deliver(function, data, {"event": event, "delegator": delegator})


def mails(mail_server: RecordingServer) -> dict[str, dict[str, Any]]:
    """The mails handed to the relay, by recipient."""
    sent = [call.json() for call in mail_server.calls]
    assert all(call.path == "/mail" and call.method == "POST" for call in mail_server.calls)
    by_recipient = {mail["to"]: mail for mail in sent}
    assert len(by_recipient) == len(sent), "one mail per person"
    return by_recipient


def granted(mail: dict[str, Any]) -> links.Link:
    """What the mail's link grants, checked with the functions' key."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("APPROVALS_LINK_KEY", LINK_KEY)
        return links.verify(link_token(mail["link"]), dt.datetime.now(dt.UTC))


def test_each_approver_gets_a_link_that_records_their_vote(
    notify: FunctionServer,
    link: FunctionServer,
    db: firestore.Client,
    mail_server: RecordingServer,
    callback_server: CallbackServer,
) -> None:
    request_id = seed.request(
        db, approvers=[ALICE, "Bob@Example.com", "group:reviewers"], callback_url=callback_server.url_for("x")
    )

    response = push(notify, request_id, "requested", details={"stage": "approval"})

    assert response.status_code == 200, response.text
    assert response.json() == {"request_id": request_id, "event": "requested", "mails": 2}
    sent = mails(mail_server)
    assert set(sent) == {ALICE, BOB}
    for person, mail in sent.items():
        assert mail["subject"] == "Approval requested: Check the translation"
        assert mail["link"].startswith(f"{link.url}/link?token=")
        assert mail["link"] in mail["text"]
        assert "translation: Bonjour" in mail["text"]
        assert granted(mail).approver == person
        assert granted(mail).request_id == request_id
    page = requests.get(sent[BOB]["link"], timeout=30)
    assert page.status_code == 200, page.text
    assert seed.votes(db, request_id) == {}

    decided = submit(page, "approved")

    assert decided.status_code == 200, decided.text
    [vote] = seed.votes(db, request_id).values()
    assert (vote["voter"], vote["principals"], vote["identity_source"]) == (
        BOB,
        ["Bob@Example.com"],
        "signed-link",
    )
    [call] = callback_server.calls
    assert call.json()["approver"] == BOB


def test_each_group_member_gets_a_link_that_records_their_vote(
    notify: FunctionServer,
    link: FunctionServer,
    db: firestore.Client,
    mail_server: RecordingServer,
    callback_server: CallbackServer,
) -> None:
    """The declared members of a `group:` approver are mailed; a link's vote counts for the group."""
    request_id = seed.request(
        db, approvers=[ALICE, "group:reviewers"], quorum=2, callback_url=callback_server.url_for("x")
    )
    seed.membership(db, REX, ["legal", "reviewers"])
    seed.membership(db, ALICE, ["reviewers"])  # an approver twice over gets one mail
    seed.membership(db, seed.REQUESTER, ["reviewers"])  # may not vote on their own request
    seed.membership(db, CAROL, ["legal"])  # not in this request's groups

    assert push(notify, request_id, "requested").json()["mails"] == 2

    sent = mails(mail_server)
    assert set(sent) == {ALICE, REX}
    assert granted(sent[REX]).approver == REX
    response = submit(requests.get(sent[REX]["link"], timeout=30), "approved")

    assert response.status_code == 200, response.text
    vote = seed.votes(db, request_id)[REX]
    assert (vote["principals"], vote["identity_source"]) == (["group:reviewers"], "signed-link")
    assert seed.stored(db, request_id)["tally"]["approvals"] == 1
    # Whoever voted is not reminded.
    mail_server.reset()
    assert push(notify, request_id, "reminder").json()["mails"] == 1
    assert set(mails(mail_server)) == {ALICE}


def test_links_expire_with_the_request(
    notify: FunctionServer, db: firestore.Client, mail_server: RecordingServer
) -> None:
    expires_at = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=2)
    request_id = seed.request(db, approvers=[ALICE], expires_at=expires_at)

    assert push(notify, request_id, "requested").status_code == 200

    assert granted(mails(mail_server)[ALICE]).expires_at == int(expires_at.timestamp())


def test_active_delegate_gets_a_link_of_their_own(
    notify: FunctionServer,
    link: FunctionServer,
    db: firestore.Client,
    mail_server: RecordingServer,
    callback_server: CallbackServer,
) -> None:
    request_id = seed.request(db, approvers=[ALICE, BOB], callback_url=callback_server.url_for("x"))
    seed.delegation(db, ALICE, CAROL)
    seed.delegation(db, BOB, "dave@example.com", ends_in=dt.timedelta(hours=-1))

    assert push(notify, request_id, "escalated").status_code == 200

    sent = mails(mail_server)
    assert set(sent) == {ALICE, BOB, CAROL}
    assert sent[CAROL]["subject"] == "Escalated: approval requested: Check the translation"
    assert f"standing in for {ALICE}" in sent[CAROL]["text"]
    assert granted(sent[CAROL]).approver == CAROL

    response = submit(requests.get(sent[CAROL]["link"], timeout=30), "approved")

    assert response.status_code == 200, response.text
    vote = seed.votes(db, request_id)[CAROL]
    assert (vote["on_behalf_of"], vote["principals"]) == (ALICE, [ALICE])


def test_request_is_stamped_with_the_delegates_in_force(
    notify: FunctionServer, db: firestore.Client, mail_server: RecordingServer
) -> None:
    request_id = seed.request(db, approvers=["Alice@Example.com", BOB, CAROL, "group:reviewers"], quorum=3)
    seed.delegation(db, ALICE, "dave@example.com")
    seed.delegation(db, BOB, "erin@example.com", starts_in=dt.timedelta(hours=1))
    seed.delegation(db, CAROL, "frank@example.com", ends_in=dt.timedelta(hours=-1))

    assert push(notify, request_id, "requested").status_code == 200

    assert seed.stamps(db, request_id) == (["dave@example.com"], {"dave@example.com": ALICE})
    assert set(mails(mail_server)) == {ALICE, BOB, CAROL, "dave@example.com"}


def test_reminder_stamps_a_delegation_that_started_since(
    notify: FunctionServer, db: firestore.Client, mail_server: RecordingServer
) -> None:
    request_id = seed.request(db, approvers=[ALICE, BOB], quorum=2)
    assert push(notify, request_id, "requested").status_code == 200
    assert seed.stamps(db, request_id) == (None, None)
    seed.delegation(db, BOB, CAROL)
    mail_server.reset()

    assert push(notify, request_id, "reminder").status_code == 200

    assert seed.stamps(db, request_id) == ([CAROL], {CAROL: BOB})
    assert f"standing in for {BOB}" in mails(mail_server)[CAROL]["text"]


def test_the_timer_ends_a_delegates_stamps_when_the_delegation_ends(
    notify: FunctionServer, db: firestore.Client, mail_server: RecordingServer
) -> None:
    pending = seed.request(db, approvers=[ALICE, BOB], quorum=2)
    decided = seed.request(db, approvers=[ALICE], status="approved")
    seed.delegation(db, ALICE, "dave@example.com", ends_in=dt.timedelta(hours=1))
    assert push(notify, pending, "requested").status_code == 200
    assert seed.stamps(db, pending) == (["dave@example.com"], {"dave@example.com": ALICE})
    mail_server.reset()

    # The timer's clock may run ahead of notify's (the local stack's is virtual): the
    # delegation's stored end counts, though it is an hour ahead here.
    ends_at = seed.get(db, seed.DELEGATIONS, ALICE)["ends_at"]
    response = push_moment(notify, "delegation_ended", "Alice@Example.com", ends_at)

    assert response.status_code == 200, response.text
    assert seed.stamps(db, pending) == ([], {})
    assert seed.stamps(db, decided) == (None, None), "only pending requests are stamped"
    assert mail_server.calls == [], "nobody is mailed"


def test_the_timer_stamps_a_delegate_when_the_delegation_starts(
    notify: FunctionServer, db: firestore.Client
) -> None:
    request_id = seed.request(db, approvers=[ALICE, BOB], quorum=2)
    seed.delegation(db, BOB, CAROL, starts_in=dt.timedelta(hours=2), ends_in=dt.timedelta(days=1))
    assert push(notify, request_id, "requested").status_code == 200
    assert seed.stamps(db, request_id) == (None, None)

    starts_at = seed.get(db, seed.DELEGATIONS, BOB)["starts_at"]
    assert push_moment(notify, "delegation_started", BOB, starts_at).status_code == 200

    assert seed.stamps(db, request_id) == ([CAROL], {CAROL: BOB})


@pytest.mark.parametrize("event", ["delegation_started", "delegation_ended"])
def test_a_made_up_moment_ahead_changes_no_stamp(
    notify: FunctionServer, db: firestore.Client, event: str
) -> None:
    """Any workflow may publish to the topic: a moment ahead counts only as the stored delegation's."""
    request_id = seed.request(db, approvers=[ALICE, BOB], quorum=2)
    seed.delegation(db, ALICE, "dave@example.com", ends_in=dt.timedelta(days=1))
    seed.delegation(db, BOB, CAROL, starts_in=dt.timedelta(hours=2), ends_in=dt.timedelta(days=1))
    assert push(notify, request_id, "requested").status_code == 200
    stamped = (["dave@example.com"], {"dave@example.com": ALICE})
    assert seed.stamps(db, request_id) == stamped

    # After dave's delegation ends / once carol's has started: both would change the stamps.
    made_up = dt.datetime.now(dt.UTC) + dt.timedelta(days=2 if event == "delegation_ended" else 0.5)
    for delegator in (ALICE, BOB):
        assert push_moment(notify, event, delegator, made_up).status_code == 200

    assert seed.stamps(db, request_id) == stamped


@pytest.mark.parametrize(
    "data",
    [
        {"event": "delegation_ended", "at": "2026-01-05T10:00:00Z"},
        {"event": "delegation_ended", "delegator": "group:x", "at": "2026-01-05T10:00:00Z"},
        {"event": "delegation_started", "delegator": ALICE, "at": "2026-01-05T10:00:00"},
        {"event": "delegation_started", "delegator": ALICE, "at": "soon"},
    ],
    ids=["no-delegator", "not-a-person", "naive-time", "not-a-time"],
)
def test_malformed_delegation_event_is_a_bad_request(notify: FunctionServer, data: dict[str, Any]) -> None:
    response = requests.post(f"{notify.url}/", json=_envelope(json.dumps(data).encode()), timeout=30)

    assert response.status_code == 400
    assert response.json()["error"] == "a delegation event needs a delegator and the time it is about"


def test_reminder_skips_those_who_voted_and_the_requester(
    notify: FunctionServer, db: firestore.Client, mail_server: RecordingServer
) -> None:
    request_id = seed.request(db, approvers=[ALICE, BOB, seed.REQUESTER], quorum=2)
    seed.vote(db, request_id, (ALICE, [ALICE], "approved", ""))

    assert push(notify, request_id, "reminder").json()["mails"] == 1

    [mail] = mail_server.calls
    assert mail.json()["to"] == BOB
    assert mail.json()["subject"].startswith("Reminder: ")


def test_reminder_skips_an_approver_whose_delegate_voted_and_the_delegate_of_one_who_did(
    notify: FunctionServer, db: firestore.Client, mail_server: RecordingServer
) -> None:
    request_id = seed.request(db, approvers=[ALICE, BOB, CAROL], quorum=3)
    seed.delegation(db, ALICE, "dave@example.com")
    seed.delegation(db, BOB, "erin@example.com")
    # dave voted for alice, bob voted himself: neither seat, nor either delegate, is asked again.
    seed.vote(db, request_id, ("dave@example.com", [ALICE], "approved", ""))
    seed.vote(db, request_id, (BOB, [BOB], "approved", ""))

    assert push(notify, request_id, "reminder").json()["mails"] == 1

    [mail] = mail_server.calls
    assert mail.json()["to"] == CAROL


@pytest.mark.parametrize(
    ("event", "stored"),
    [
        ("reminder", {"status": "deciding"}),
        # Still pending for an instant in auto mode: the bot approves right after it is stored.
        ("requested", {"mode": "auto"}),
    ],
    ids=["settled", "auto-mode"],
)
def test_nobody_is_asked_of_a_settled_or_automatic_request(
    notify: FunctionServer,
    db: firestore.Client,
    mail_server: RecordingServer,
    event: str,
    stored: dict[str, str],
) -> None:
    request_id = seed.request(db, approvers=[ALICE], **stored)
    seed.delegation(db, ALICE, CAROL)

    response = push(notify, request_id, event)

    assert response.json()["mails"] == 0
    assert mail_server.calls == []
    assert seed.stamps(db, request_id) == (None, None)


# The event message claims mallory decided; the mail says what the request stores.
LYING_DETAILS = {"actor": "mallory@example.com", "details": {"outcome": "approved", "comment": "forged"}}


@pytest.mark.parametrize(
    ("event", "stored", "subject", "text"),
    [
        (
            "decided",
            {"status": "approved", "decided_by": BOB, "comment": "ok"},
            "Approved: Check the translation",
            f"{BOB} approved your request: Check the translation\n\nComment: ok",
        ),
        ("expired", {"status": "expired"}, "Expired: Check the translation", "Nobody decided"),
        (
            "cancelled",
            {"status": "cancelled", "cancel_reason": "typo"},
            "Cancelled: Check the translation",
            "Reason: typo",
        ),
    ],
    ids=["decided", "expired", "cancelled"],
)
def test_requester_hears_how_it_ended_as_stored(
    notify: FunctionServer,
    db: firestore.Client,
    mail_server: RecordingServer,
    event: str,
    stored: dict[str, Any],
    subject: str,
    text: str,
) -> None:
    request_id = seed.request(db, approvers=[ALICE])
    db.collection(seed.REQUESTS).document(request_id).update(stored)

    assert push(notify, request_id, event, **LYING_DETAILS).status_code == 200

    [mail] = mail_server.calls
    assert set(mail.json()) == {"to", "subject", "text"}
    assert mail.json()["to"] == seed.REQUESTER
    assert mail.json()["subject"] == subject
    assert text in mail.json()["text"]
    assert "mallory" not in mail.json()["text"] and "forged" not in mail.json()["text"]


@pytest.mark.parametrize("event", ["decided", "expired", "cancelled"])
def test_an_ending_the_stored_request_does_not_show_sends_no_mail(
    notify: FunctionServer, db: firestore.Client, mail_server: RecordingServer, event: str
) -> None:
    request_id = seed.request(db, approvers=[ALICE])

    assert push(notify, request_id, event, **LYING_DETAILS).status_code == 200

    assert mail_server.calls == []


def test_subjects_are_one_line_and_show_hidden_characters(
    notify: FunctionServer, db: firestore.Client, mail_server: RecordingServer
) -> None:
    request_id = seed.request(db, approvers=[ALICE])
    db.collection(seed.REQUESTS).document(request_id).update(
        {"subject": "Pay\r\nBcc: all@example.com \u202epay 10\u202c", "payload": {"note": "a\u2066b"}}
    )

    assert push(notify, request_id, "requested").status_code == 200

    [mail] = mail_server.calls
    assert mail.json()["subject"] == ("Approval requested: Pay Bcc: all@example.com [U+202E]pay 10[U+202C]")
    assert "[U+202E]pay 10[U+202C]" in mail.json()["text"]
    assert "note: a[U+2066]b" in mail.json()["text"]
    assert not any(c in mail.json()["subject"] + mail.json()["text"] for c in "\r\u202e\u2066")


@pytest.mark.parametrize("event", ["voted", "invalid_callback", "vote_withdrawn"])
def test_other_events_are_acknowledged_without_mail(
    notify: FunctionServer, db: firestore.Client, mail_server: RecordingServer, event: str
) -> None:
    request_id = seed.request(db, approvers=[ALICE])

    response = push(notify, request_id, event)

    assert response.status_code == 200
    assert response.json()["mails"] == 0
    assert mail_server.calls == []


def test_event_of_an_unknown_request_is_acknowledged(
    notify: FunctionServer, mail_server: RecordingServer
) -> None:
    response = push(notify, "gone", "requested")

    assert response.status_code == 200
    assert mail_server.calls == []


def _envelope(data: bytes) -> dict[str, Any]:
    return {"message": {"data": base64.b64encode(data).decode(), "messageId": "1"}}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"message": "x"},
        {"message": {"data": "not base64!"}},
        _envelope(b"not json"),
        _envelope(b"[]"),
        _envelope(b'{"event": "requested"}'),
        _envelope(b'{"request_id": "a/b", "event": "requested"}'),
        _envelope(b'{"request_id": "r1"}'),
    ],
    ids=[
        "empty",
        "message-not-object",
        "not-base64",
        "not-json",
        "not-object",
        "no-id",
        "id-path",
        "no-event",
    ],
)
def test_malformed_push_is_a_bad_request(
    notify: FunctionServer, mail_server: RecordingServer, body: dict[str, Any]
) -> None:
    response = requests.post(f"{notify.url}/", json=body, timeout=30)

    assert response.status_code == 400
    assert response.json()["error"]
    assert mail_server.calls == []


@pytest.mark.parametrize("status", [400, 503])
def test_refused_mail_makes_pub_sub_redeliver(
    notify: FunctionServer, db: firestore.Client, mail_server: RecordingServer, status: int
) -> None:
    request_id = seed.request(db, approvers=[ALICE])
    mail_server.default = Reply(status)

    response = push(notify, request_id, "requested")

    assert response.status_code == 500
    assert "mail webhook failed" in response.json()["error"]


def test_unreachable_webhook_makes_pub_sub_redeliver(
    notify_env: dict[str, str], db: firestore.Client
) -> None:
    request_id = seed.request(db, approvers=[ALICE])
    env = {**notify_env, "APPROVALS_MAIL_WEBHOOK_URL": f"http://127.0.0.1:{free_port()}/mail"}

    with FunctionServer("notify", env) as function:
        response = push(function, request_id, "requested")

    assert response.status_code == 500


def test_without_a_webhook_mails_are_logged(notify_env: dict[str, str], db: firestore.Client) -> None:
    request_id = seed.request(db, approvers=[ALICE])

    with FunctionServer("notify", notify_env) as function:
        response = push(function, request_id, "requested")
        output = function.output()

    assert response.status_code == 200
    assert response.json()["mails"] == 1
    assert "no mail webhook configured" in output
    assert ALICE in output
