"""link: an e-mailed approver decides through a signed link, without signing in.

GET shows what the link is for and changes nothing: mail scanners prefetch
links, so only the form's POST (a person pressing a button) casts the vote.
"""

from __future__ import annotations

import html
import json
import logging
import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import flask
import functions_framework

from common import config, documents, errors, firestore, inputs, links, votes
from common.responses import HttpError, http_error, request_body

OUTCOMES = {"approved": "Approve", "rejected": "Reject"}
# Where Hosting routes this function (functions-framework serves every path), fixed rather
# than the request's path so that a crafted path such as //elsewhere cannot retarget the form.
FORM_ACTION = "/link"

HEADERS = {
    # No script at all; the inline style block is the page's only styling.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # The page embeds a live token: no cache may keep it.
    "Cache-Control": "no-store",
}

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}"
    "dt{font-weight:600}dd{margin:0 0 .5rem 1rem;white-space:pre-wrap}"
    "textarea{width:100%;min-height:4rem}button{margin:.5rem .5rem 0 0;padding:.4rem 1rem}"
)

logger = logging.getLogger(__name__)


def page(status: int, title: str, body: str) -> flask.Response:
    """A complete HTML page; ``body`` must already be escaped."""
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return flask.Response(document, status=status, mimetype="text/html", headers=HEADERS)


def error_page(error: HttpError) -> flask.Response:
    title = "This link cannot be used" if error.status < 500 else "Please try again later"
    reason = error.reason[:1].upper() + error.reason[1:]
    return page(error.status, title, f"<p>{html.escape(reason)}.</p>")


def _text_html(text: str) -> str:
    """Stored text, escaped, with any misleading character shown rather than obeyed."""
    return html.escape(inputs.visible(text))


def _value_html(value: Any) -> str:
    return _text_html(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=2))


def _payload_html(payload: Any) -> str:
    """The payload as a definition list (any other JSON value as text)."""
    if not isinstance(payload, Mapping):
        return f"<p>{_value_html(payload)}</p>"
    items = "".join(
        f"<dt>{_text_html(str(key))}</dt><dd>{_value_html(value)}</dd>" for key, value in payload.items()
    )
    return f"<dl>{items}</dl>"


def _verified(token: str) -> links.Link:
    """The link ``token`` grants, or the HttpError to show instead."""
    try:
        return links.verify(token, datetime.now(UTC))
    except links.ExpiredLinkError as exc:
        raise HttpError(409, "the link has expired") from exc
    except links.InvalidLinkError as exc:
        raise HttpError(401, str(exc)) from exc


def _confirmation(request: flask.Request) -> flask.Response:
    """GET: what the link decides, and the form that decides it; reads only."""
    link = _verified(request.args.get("token", ""))
    snapshot = firestore.client().collection(config.requests_collection()).document(link.request_id).get()
    if not snapshot.exists:
        raise HttpError(404, "no such request")
    approval = documents.read("request", snapshot)
    # Say now what the vote would say, rather than after the approver has typed a comment.
    votes.refuse_unvotable(
        approval, datetime.now(UTC), expected_digest=link.digest, use=votes.link_use(link.nonce)
    )
    votes.refuse_voted(snapshot.reference, approval, link.approver)
    buttons = "".join(
        f'<button type="submit" name="outcome" value="{outcome}">{label}</button>'
        for outcome, label in OUTCOMES.items()
    )
    expires = datetime.fromtimestamp(link.expires_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = (
        f"<p>This link is for <strong>{html.escape(link.approver)}</strong> and works once, "
        f"until {expires}.</p>"
        f"<h2>{_text_html(str(approval.get('subject') or ''))}</h2>"
        f"{_payload_html(approval.get('payload'))}"
        f'<form method="post" action="{FORM_ACTION}">'
        f'<input type="hidden" name="token" value="{html.escape(request.args["token"])}">'
        f'<p><label for="comment">Comment (optional)</label><br>'
        f'<textarea id="comment" name="comment" maxlength="{votes.MAX_COMMENT_LENGTH}"></textarea></p>'
        f"<p>{buttons}</p></form>"
    )
    return page(200, "Approval requested", body)


def _form(request: flask.Request) -> dict[str, str]:
    """The posted form's fields (one value each), or a 400/413."""
    if request.mimetype != "application/x-www-form-urlencoded":
        raise HttpError(400, "the decision must be posted from the link's page")
    data = request_body(request)
    try:
        fields = urllib.parse.parse_qs(data.decode(), keep_blank_values=True, max_num_fields=10)
    except (UnicodeDecodeError, ValueError) as exc:
        raise HttpError(400, "the form is malformed") from exc
    if any(len(values) != 1 for values in fields.values()):
        raise HttpError(400, "the form is malformed")
    return {name: values[0] for name, values in fields.items()}


def _decision(request: flask.Request) -> flask.Response:
    """POST: verify the token and cast its holder's vote."""
    form = _form(request)
    if "token" not in form:
        raise HttpError(400, "the form has no link token")
    link = _verified(form["token"])
    outcome = form.get("outcome", "")
    comment = form.get("comment", "").strip()
    if outcome not in OUTCOMES:
        raise HttpError(400, "choose approve or reject")
    if len(comment) > votes.MAX_COMMENT_LENGTH:
        raise HttpError(400, f"the comment may have at most {votes.MAX_COMMENT_LENGTH} characters")
    problem = inputs.text_problem(comment)
    if problem:
        raise HttpError(400, f"the comment {problem}")
    result = votes.cast(
        link.request_id,
        votes.Voter(uid="", email=link.approver),
        outcome,
        comment,
        "signed-link",
        link_nonce=link.nonce,
        expected_digest=link.digest,
    )
    logger.info("%s %s request %s through a signed link", link.approver, outcome, link.request_id)
    verdict = "approval" if outcome == "approved" else "rejection"
    effect = (
        "It decided the request."
        if result.get("status") == "deciding"
        else "The request now waits for the other approvers."
    )
    return page(200, "Decision recorded", f"<p>Thank you: your {verdict} is recorded. {effect}</p>")


@functions_framework.http
def link(request: flask.Request) -> flask.Response:
    """GET ?token= -> the confirmation page; POST token, outcome, comment -> the vote."""
    try:
        if request.method in ("GET", "HEAD"):
            return _confirmation(request)
        if request.method == "POST":
            return _decision(request)
        response = error_page(HttpError(405, "method not allowed"))
        response.headers["Allow"] = "GET, HEAD, POST"
        return response
    except (HttpError, errors.DomainError) as error:
        return error_page(http_error(error))
    except Exception:
        logger.exception("unhandled error in link")
        return error_page(HttpError(500, "something went wrong on our side; try again later"))
