"""notify is private: only Pub/Sub, pushing as the pusher account, gets a request through to it.

In the cloud, notify's Cloud Run service grants run.invoker to the pusher
account alone, and Google's front end refuses anything else before notify
sees it. Locally the stack's front end does the same, and its pusher pushes
the events as Pub/Sub does, with an ID token of the pusher account. The
attacker here knows notify's URL and replays what Pub/Sub would push: a
"requested" event for a pending request, which would mail every approver
again. Without a valid token of an invoker, nobody gets mailed.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import pytest
import requests

from approvals.emulator.google_tokens import GoogleTokenSigner
from approvals.emulator.hosting import BadRequestError
from approvals.emulator.jwt import signing_input
from approvals.emulator.stack import LocalStack
from tests.e2e.stack_client import HTTP_TIMEOUT, Client, link_request_id
from tests.security.conftest import function_name, identity_token_of
from tests.security.test_vote_attacks import ALICE, BOB, CAROL, start_release

ENGINEERS = (ALICE, BOB, CAROL)
PUSHER = "approvals-pusher@approvals-dev.iam.gserviceaccount.com"


def notify_url(stack: LocalStack) -> str:
    """notify's URL, as the stack hands it out (GET /local/config)."""
    config = requests.get(f"{stack.origin_url}/local/config", timeout=HTTP_TIMEOUT).json()
    return config["functions"][function_name(stack, "notify")]


def cloud_url(stack: LocalStack, role: str) -> str:
    """The function's URL in the cloud, the audience Pub/Sub puts in its push tokens."""
    [url] = [f.url for f in stack.plan.functions if f.name == function_name(stack, role)]
    assert url is not None
    return url


def asking_mails(client: Client, request_id: str) -> list[dict[str, Any]]:
    return [m for m in client.outbox() if "link" in m and link_request_id(m["link"]) == request_id]


def mailed_release(client: Client, **given: str) -> str:
    """A release waiting for its engineers, once each engineer has been mailed; the stage's request id."""
    _, engineering = start_release(
        client, {"subject": "Release 2.0", "details": "The 2.0 milestone", **given}
    )
    mails = client.wait_for_mails(lambda m: "link" in m and link_request_id(m["link"]) == engineering, 3)
    assert sorted(m["to"] for m in mails) == sorted(ENGINEERS)
    return engineering


def replayed_push(stack: LocalStack, request_id: str) -> dict[str, Any]:
    """What Pub/Sub would push for the request's "requested" event (notify would mail all engineers)."""
    event = {"request_id": request_id, "event": "requested", "actor": "rita@example.com", "details": {}}
    return {
        "message": {
            "data": base64.b64encode(json.dumps(event).encode()).decode(),
            "attributes": {"event": "requested", "request_id": request_id},
            "messageId": "1",
            "message_id": "1",
            "publishTime": "2026-01-01T00:00:00Z",
            "publish_time": "2026-01-01T00:00:00Z",
        },
        "subscription": stack.plan.subscriptions[0].name,
    }


def push_as(stack: LocalStack, request_id: str, headers: Mapping[str, str]) -> requests.Response:
    return requests.post(
        notify_url(stack), json=replayed_push(stack, request_id), headers=dict(headers), timeout=HTTP_TIMEOUT
    )


def test_a_push_without_a_token_is_refused_and_mails_nobody(client: Client, stack: LocalStack) -> None:
    request_id = mailed_release(client)

    response = push_as(stack, request_id, {})

    # Cloud Run answers a call that carries no token 403 ("The request was not authenticated").
    assert response.status_code == 403, response.text
    assert "not authenticated" in response.text
    # notify mails before it answers: had it been reached, the engineers would have a second mail.
    assert len(asking_mails(client, request_id)) == 3


# A key of the attacker's own, and tokens of the pusher's that went astray (signed by the stack's key).
FORGER = GoogleTokenSigner()
FORGERIES: dict[str, Callable[[LocalStack], str]] = {
    "alg-none": lambda stack: (
        signing_input({"alg": "none", "typ": "JWT"}, FORGER.claims(PUSHER, cloud_url(stack, "notify"))) + "."
    ),
    "forged-key": lambda stack: FORGER.id_token(PUSHER, cloud_url(stack, "notify")),
    "forged-kid": lambda stack: FORGER.sign(
        FORGER.claims(PUSHER, cloud_url(stack, "notify")), {"kid": stack.google_tokens.kid}
    ),
    "expired": lambda stack: stack.google_tokens.id_token(
        PUSHER, cloud_url(stack, "notify"), expires_in=-600
    ),
    "other-audience": lambda stack: stack.google_tokens.id_token(PUSHER, cloud_url(stack, "decide")),
}


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_a_push_with_a_forged_or_misused_token_is_refused_with_401(
    client: Client, stack: LocalStack, forgery: str
) -> None:
    request_id = mailed_release(client)
    token = FORGERIES[forgery](stack)

    response = push_as(stack, request_id, {"Authorization": f"Bearer {token}"})

    assert response.status_code == 401, response.text
    assert "not authorized to invoke this service" in response.text
    assert len(asking_mails(client, request_id)) == 3


@pytest.mark.parametrize("audience", ["cloud", "local"])
def test_another_function_s_own_id_token_is_refused_with_403(
    client: Client, stack: LocalStack, audience: str
) -> None:
    """decide's identity is real (its metadata server signs its tokens), but it holds no run.invoker on
    notify: the front end knows who calls, and refuses them."""
    request_id = mailed_release(client)
    url = cloud_url(stack, "notify") if audience == "cloud" else notify_url(stack)
    token = identity_token_of(stack, "decide", url)

    response = push_as(stack, request_id, {"Authorization": f"Bearer {token}"})

    assert response.status_code == 403, response.text
    assert "does not have permission" in response.text
    assert len(asking_mails(client, request_id)) == 3


def test_pubsub_pushes_as_the_pusher_through_the_front_end(client: Client, stack: LocalStack) -> None:
    """The real path: the workflow publishes, the pusher pushes with the pusher's token, notify mails."""
    notify = function_name(stack, "notify")
    assert notify_url(stack) == stack.front_ends[notify].url != stack.functions[notify].url
    [subscription] = stack.plan.subscriptions
    assert (subscription.oidc_service_account, subscription.token_audience) == (
        PUSHER,
        cloud_url(stack, "notify"),
    )

    mailed_release(client)  # each engineer is mailed once


def test_a_push_that_notify_answers_500_is_delivered_again(
    client: Client, stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mail relay fails once: notify answers 500, and Pub/Sub (the pusher) delivers the event again."""
    marker = f"Release {uuid.uuid4().hex[:8]}"
    refused: list[str] = []
    send_mail = stack.send_mail

    def relay_down_once(mail: Mapping[str, Any]) -> int:
        if marker in mail.get("subject", "") and not refused:
            refused.append(mail["to"])
            raise BadRequestError("the mail relay is down (simulated)")
        return send_mail(mail)

    monkeypatch.setattr(stack, "send_mail", relay_down_once)

    request_id = mailed_release(client, subject=marker)

    assert len(refused) == 1
    # The failed push sent nothing; the second one sent every mail, once.
    assert sorted(m["to"] for m in asking_mails(client, request_id)) == sorted(ENGINEERS)
