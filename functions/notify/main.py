"""notify: mails the people an approval event concerns (a Pub/Sub push subscriber).

requested, reminder, escalated: each e-mail approver still to vote, each
member of a `group:` approver still to vote (the platform's declared groups),
and the active delegate of each e-mail approver, gets a mail with a signed link
of their own. Before mailing, a pending request is stamped with who stands in
for its approvers (``delegates``, ``stand_in_for``), so the delegates find it
on the page: the only documents notify writes. Each asking event refreshes
them, e.g. for a delegation that started after the request. decided, expired,
cancelled: the requester hears how it ended. delegation_started,
delegation_ended (from the platform's delegation timer): the delegator's pending
requests are restamped, so a delegate reads them only while the delegation
lasts. A "mail" is one JSON POST to
APPROVALS_MAIL_WEBHOOK_URL (a relay that sends it); without one it is logged.
Any failure to hand a mail over answers 500, so Pub/Sub delivers the event
again (mails sent before the failure are then sent again: at least once).
"""

from __future__ import annotations

import base64
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import flask
import functions_framework

from common import config, delegations, documents, firestore, inputs, links, memberships, tally, times, votes
from common.responses import HttpError, is_request_id, post_json_endpoint, request_json

if TYPE_CHECKING:
    from google.cloud.firestore import DocumentReference

ASKING = {
    "requested": "Approval requested",
    "reminder": "Reminder: approval requested",
    "escalated": "Escalated: approval requested",
}
SETTLED = {"decided", "expired", "cancelled"}
DELEGATION_MOMENTS = {"delegation_started", "delegation_ended"}
# The statuses a request has once each of those events really happened.
_ENDED_AS = {"decided": ("approved", "rejected"), "expired": ("expired",), "cancelled": ("cancelled",)}
WEBHOOK_TIMEOUT_SECONDS = 10

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """One approval event, as the workflow or a function published it."""

    request_id: str
    event: str
    actor: str
    details: dict[str, Any]


def _message(envelope: dict[str, Any]) -> dict[str, Any]:
    """The JSON object in a push envelope {message: {data: base64 JSON}}, or a 400."""
    message = envelope.get("message")
    data = message.get("data") if isinstance(message, dict) else None
    if not isinstance(data, str):
        raise HttpError(400, "not a Pub/Sub push envelope")
    try:
        event = json.loads(base64.b64decode(data, validate=True))
    except ValueError as exc:  # binascii.Error included
        raise HttpError(400, "the message data is not base64 JSON") from exc
    if not isinstance(event, dict):
        raise HttpError(400, "the event must be a JSON object")
    return event


def _event(event: dict[str, Any]) -> Event:
    """A request's event, or a 400."""
    request_id, name = event.get("request_id"), event.get("event")
    if not is_request_id(request_id) or not isinstance(name, str):
        raise HttpError(400, "the event needs a request_id and an event name")
    details = event.get("details")
    return Event(
        request_id, name, str(event.get("actor") or ""), details if isinstance(details, dict) else {}
    )


def _restamp_delegator(event: dict[str, Any]) -> dict[str, Any]:
    """Restamp the pending requests of the delegator whose delegation starts or ends now."""
    delegator, moment = event.get("delegator"), times.parse(event.get("at"))
    if not tally.is_email(delegator) or moment is None:
        raise HttpError(400, "a delegation event needs a delegator and the time it is about")
    delegator, now = delegator.lower(), datetime.now(UTC)
    # The timer announces a moment once it has come on the workflow's clock, which may run
    # ahead of this one (the local stack's is virtual). A moment still ahead here counts only
    # if it is the stored delegation's start or end: a workflow publishing a made-up one
    # must not stamp a delegate early, nor unstamp one whose delegation goes on.
    if moment > now and moment in _boundaries(delegator):
        now = moment
    delegations.restamp_delegators_requests(
        delegator, now, lambda _transaction, _found: None, busy="the requests are changing; try again"
    )
    return {"event": event["event"], "delegator": delegator, "mails": 0}


def _boundaries(delegator: str) -> tuple[Any, ...]:
    """When ``delegator``'s stored delegation starts and ends (nothing without one)."""
    stored = delegations.lookup([delegator]).get(delegator) or {}
    return tuple(stored[f] for f in ("starts_at", "ends_at") if isinstance(stored.get(f), datetime))


def _recipients(
    ref: DocumentReference,
    approval: dict[str, Any],
    now: datetime,
    found: Mapping[str, Mapping[str, Any]] | None,
) -> dict[str, str | None]:
    """Who may still vote: e-mail -> the approver they stand in for (None: themselves).

    E-mail approvers and the members of the `group:` approvers (one query for all the
    groups) vote as themselves; delegations are the e-mail approvers' only.
    ``found``: the approvers' delegations as the stamp read them (None: look them up).
    """
    # An approver whose delegate voted has voted, and so has the delegate of one who did.
    voted = votes.taken(ref, approval)
    if approval.get("prevent_self_approval"):
        voted.add(str(approval.get("requester") or "").lower())
    approvers = [
        a.lower() for a in approval.get("approvers") or () if tally.is_email(a) and a.lower() not in voted
    ]
    members = memberships.members_of(memberships.group_names(approval.get("approvers") or ()))
    recipients: dict[str, str | None] = dict.fromkeys([*approvers, *(m for m in members if m not in voted)])
    for delegate, delegator in delegations.stand_ins(approvers, now, found).items():
        if delegate not in voted:
            recipients.setdefault(delegate, delegator)
    return recipients


def _payload_text(payload: Any) -> str:
    if not isinstance(payload, dict):
        return json.dumps(payload, ensure_ascii=False)
    return "\n".join(
        f"{key}: {value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}"
        for key, value in payload.items()
    )


def _asking_mails(
    event: Event,
    ref: DocumentReference,
    approval: dict[str, Any],
    now: datetime,
    found: Mapping[str, Mapping[str, Any]] | None,
) -> list[dict[str, str]]:
    """One mail per person who may still vote, each with a link of their own."""
    deadline = approval.get("expires_at") or approval.get("due_at")
    if approval.get("status") != "pending" or not isinstance(deadline, datetime):
        logger.info("request %s is no longer pending: no %s mails", event.request_id, event.event)
        return []
    if approval.get("mode") == "auto":
        # The bot approves it in the same breath: nobody is asked, so nobody gets a link.
        logger.info("request %s is approved automatically: no %s mails", event.request_id, event.event)
        return []
    subject = str(approval.get("subject") or event.request_id)
    digest = links.digest(approval.get("subject"), approval.get("payload"))
    requester = approval.get("requester") or "someone"
    if approval.get("requester_verified") is False:
        # Started directly, not through the start function: nobody checked who asks.
        requester = f"{requester} (not verified: the workflow was started directly)"
    mails = []
    for person, delegator in _recipients(ref, approval, now, found).items():
        url = links.link_url(links.sign(event.request_id, person, digest, deadline))
        on_behalf = f" (standing in for {delegator})" if delegator else ""
        text = (
            f"{requester} asks for your approval{on_behalf}.\n\n{subject}\n\n"
            f"{_payload_text(approval.get('payload'))}\n\n"
            f"Approve or reject here (the link is yours alone, works once, until "
            f"{deadline.astimezone(UTC):%Y-%m-%d %H:%M} UTC):\n{url}\n"
        )
        mails.append(
            {
                "to": person,
                "subject": inputs.one_line(f"{ASKING[event.event]}: {subject}"),
                "text": inputs.visible(text),
                "link": url,
            }
        )
    return mails


def _settled_mail(event: Event, approval: dict[str, Any]) -> list[dict[str, str]]:
    """The requester's mail saying how the request ended."""
    requester = approval.get("requester")
    if not tally.is_email(requester):
        return []
    if approval.get("status") not in _ENDED_AS[event.event]:
        logger.warning(
            "%s event for %s, which is %s: no mail", event.event, event.request_id, approval.get("status")
        )
        return []
    subject = str(approval.get("subject") or event.request_id)
    # Who decided and why come from the request as the workflow and the functions
    # stored it, not from the event: a message on the topic is only a nudge.
    if event.event == "decided":
        outcome = str(approval.get("status"))
        comment = approval.get("comment")
        title = outcome.capitalize()
        text = f"{approval.get('decided_by')} {outcome} your request: {subject}" + (
            f"\n\nComment: {comment}" if comment else ""
        )
    elif event.event == "expired":
        title, text = "Expired", f"Nobody decided your request in time: {subject}"
    else:
        reason = approval.get("cancel_reason")
        title = "Cancelled"
        text = f"Your request was cancelled: {subject}" + (f"\n\nReason: {reason}" if reason else "")
    return [
        {
            "to": requester,
            "subject": inputs.one_line(f"{title}: {subject}"),
            "text": inputs.visible(text) + "\n",
        }
    ]


def _send(mail: dict[str, str]) -> None:
    """Hand one mail to the relay, or log it when there is none (local runs)."""
    url = config.mail_webhook_url()
    if not url:
        # A warning so that it shows at the default log level: nothing else delivers it.
        logger.warning("no mail webhook configured; mail: %s", json.dumps(mail))
        return
    request = urllib.request.Request(
        url, data=json.dumps(mail).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS):
            return
    except OSError as exc:  # HTTPError (4xx, 5xx) included
        logger.error("mail to %s not handed over: %s", mail["to"], exc)
        raise HttpError(500, f"the mail webhook failed: {exc}") from exc


@functions_framework.http
@post_json_endpoint
def notify(request: flask.Request) -> dict[str, Any]:
    """Pub/Sub push -> {request_id, event, mails} ({event, delegator, mails: 0} for a delegation
    event); 500 makes Pub/Sub retry."""
    message = _message(request_json(request))
    if message.get("event") in DELEGATION_MOMENTS:
        return _restamp_delegator(message)
    event = _event(message)
    result = {"request_id": event.request_id, "event": event.event, "mails": 0}
    if event.event not in ASKING and event.event not in SETTLED:
        return result
    ref = firestore.client().collection(config.requests_collection()).document(event.request_id)
    snapshot = ref.get()
    if not snapshot.exists:
        logger.warning("%s event for unknown request %s: no mail", event.event, event.request_id)
        return result
    approval = documents.read("request", snapshot)
    if event.event in ASKING:
        now = datetime.now(UTC)
        # Before the mails, so whoever a mail names as standing in finds the
        # request on the page; only a pending, non-automatic one is stamped.
        found = delegations.stamp(ref, now)
        mails = _asking_mails(event, ref, approval, now, found)
    else:
        mails = _settled_mail(event, approval)
    for mail in mails:
        _send(mail)
    return {**result, "mails": len(mails)}
