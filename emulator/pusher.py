"""Pub/Sub push delivery, done locally the way Google's servers do it: with an ID token.

The gcloud Pub/Sub emulator pushes with no token at all (it takes a push
config's ``oidcToken`` and never signs one), so a private function would have
to take anyone's POST. Instead the local stack creates each push subscription
as a pull subscription on the emulator, and a `Pusher` pulls from it and
pushes every message as Pub/Sub does
(https://cloud.google.com/pubsub/docs/push, "How push endpoints receive
messages"; https://cloud.google.com/pubsub/docs/authenticate-push-subscriptions):

- a POST of the wrapped message, ``{"message": {data, attributes, messageId,
  message_id, publishTime, publish_time}, "subscription": name}``;
- with ``Authorization: Bearer`` an ID token of the ``oidcToken`` account whose
  audience is the configured one, else the push endpoint; no header without one;
- acknowledged by a success status: 102, 200, 201, 202 or 204;
- otherwise sent again after the retry policy's backoff
  (https://cloud.google.com/pubsub/docs/subscription-retry-policy), which
  locally never exceeds ``max_backoff`` (1 s, the pace of the emulator's own
  push retries), so that a failure costs a test a second, not ten minutes.

Each push subscription gets ``PUSH_CONCURRENCY`` worker thread(s), each
long-polling the emulator for one message, so that a message reaches the
function tens of milliseconds after it is published (the emulator's own push
took about 200 ms); ``stop()`` aborts the polls and joins the threads.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import math
import socket
import threading
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

from approvals.emulator.google_tokens import GoogleTokenSigner
from approvals.emulator.stack_plan import Subscription
from approvals.engine.api.service import LocalService

logger = logging.getLogger(__name__)

# The statuses Pub/Sub takes as an acknowledgement of a push (https://cloud.google.com/pubsub/docs/push);
# any other status, or no answer within the ack deadline, has the message sent again.
SUCCESS = frozenset({102, 200, 201, 202, 204})
# Google's push requests say who sends them (the APIs-Google user agent:
# https://developers.google.com/search/docs/crawling-indexing/apis-user-agent).
USER_AGENT = "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)"
# Pushes in flight per subscription. Pub/Sub has many, but locally notify, the Firestore emulator and
# the engine share a few cores: the e2e tests' bursts (hundreds of reminders on a virtual clock) ran
# no faster with two in flight than with one, the second push only slowing the workflows down
# (measured). The gcloud emulator's own push had two in flight, at about 200 ms each.
PUSH_CONCURRENCY = 1
LOCAL_MAX_BACKOFF = 1.0
# The emulator answers a long-poll that finds nothing after about 90 s.
PULL_TIMEOUT = 120.0
EMULATOR_TIMEOUT = 10.0
# After the emulator failed to answer a pull: wait this long before the next one.
PULL_RETRY_SECONDS = 0.5


@dataclass(frozen=True)
class PushTarget:
    """A push subscription of the plan, and the local URL its pushes go to."""

    subscription: Subscription
    url: str


def envelope(message: Mapping[str, Any], subscription: str) -> dict[str, Any]:
    """The body Pub/Sub POSTs for ``message`` (as pulled): wrapped, its id and time under both spellings."""
    wrapped = {key: message[key] for key in ("data", "attributes", "orderingKey") if message.get(key)}
    wrapped["messageId"] = wrapped["message_id"] = message["messageId"]
    wrapped["publishTime"] = wrapped["publish_time"] = message["publishTime"]
    return {"message": wrapped, "subscription": subscription}


def backoff(subscription: Subscription, attempt: int, ceiling: float = LOCAL_MAX_BACKOFF) -> float:
    """Seconds before the ``attempt``-th failed delivery is tried again, at most ``ceiling``.

    With a retry policy: exponential from its minimum to its maximum. Without
    one Pub/Sub redelivers at once, but slows its pushes to an endpoint that
    fails ("Pub/Sub dynamically adjusts the rate of push requests"): ``ceiling``.
    """
    if subscription.minimum_backoff is None:
        return ceiling
    wanted = subscription.minimum_backoff * 2 ** max(0, attempt - 1)
    return min(wanted, subscription.maximum_backoff or wanted, ceiling)


def post_json(url: str, body: Any, headers: Mapping[str, str], timeout: float) -> int | None:
    """POST ``body`` as JSON to ``url`` (no redirect followed); the status, or None without an answer."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", target, json.dumps(body).encode(), {**headers})
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


class Pusher(LocalService):
    """Pushes the messages of ``targets``' pull subscriptions on the emulator at ``emulator_host``."""

    def __init__(
        self,
        emulator_host: str,
        targets: Sequence[PushTarget],
        signer: GoogleTokenSigner,
        *,
        concurrency: int = PUSH_CONCURRENCY,
        max_backoff: float = LOCAL_MAX_BACKOFF,
    ) -> None:
        self.emulator_host = emulator_host
        self.targets = tuple(targets)
        self.signer = signer
        self.concurrency = concurrency
        self.max_backoff = max_backoff
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._polls: set[http.client.HTTPConnection] = set()
        self._attempts: dict[tuple[str, str], int] = {}
        self._threads: list[threading.Thread] = []

    def start(self) -> Self:
        """Start ``concurrency`` workers per target; returns self."""
        if self._threads:
            return self
        self._stopping.clear()
        for target in self.targets:
            short = target.subscription.name.rsplit("/", 1)[-1]
            for index in range(self.concurrency):
                worker = threading.Thread(
                    target=self._work, args=(target,), name=f"pusher-{short}-{index}", daemon=True
                )
                worker.start()
                self._threads.append(worker)
        return self

    def stop(self) -> None:
        """Abort the polls in progress, then wait for the workers (a push under way finishes first)."""
        self._stopping.set()
        with self._lock:
            polls = list(self._polls)
        for connection in polls:
            if connection.sock is not None:
                abort_read(connection.sock)
        for worker in self._threads:
            worker.join(timeout=EMULATOR_TIMEOUT)
        self._threads = []

    # One worker: pull one message, push it, acknowledge it or let it come again

    def _work(self, target: PushTarget) -> None:
        while not self._stopping.is_set():
            try:
                received = self._pull(target.subscription.name)
            except (OSError, http.client.HTTPException, ValueError) as error:
                if not self._stopping.is_set():
                    logger.warning("pull from %s failed: %s", target.subscription.name, error)
                    self._stopping.wait(PULL_RETRY_SECONDS)
                continue
            for item in received:
                try:
                    self._deliver(target, item)
                except (KeyError, TypeError) as error:
                    logger.warning(
                        "the emulator gave %s a message without %s", target.subscription.name, error
                    )

    def _deliver(self, target: PushTarget, received: Mapping[str, Any]) -> None:
        subscription = target.subscription
        message_id = received["message"]["messageId"]
        status = post_json(
            target.url,
            envelope(received["message"], subscription.name),
            self._headers(subscription),
            timeout=subscription.ack_deadline_seconds,
        )
        key = (subscription.name, message_id)
        if status in SUCCESS:
            with self._lock:
                self._attempts.pop(key, None)
            self._emulator(f"{subscription.name}:acknowledge", {"ackIds": [received["ackId"]]})
            return
        with self._lock:
            attempt = self._attempts[key] = self._attempts.get(key, 0) + 1
        delay = backoff(subscription, attempt, self.max_backoff)
        logger.warning(
            "push of message %s to %s answered %s: sent again in %.1fs", message_id, target.url, status, delay
        )
        # The emulator gives the message out again once this deadline passes (0: at once).
        deadline = {"ackIds": [received["ackId"]], "ackDeadlineSeconds": math.ceil(delay)}
        self._emulator(f"{subscription.name}:modifyAckDeadline", deadline)

    def _headers(self, subscription: Subscription) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        account, audience = subscription.oidc_service_account, subscription.token_audience
        if account is not None and audience is not None:
            headers["Authorization"] = f"Bearer {self.signer.id_token(account, audience)}"
        return headers

    # The emulator's REST API

    def _pull(self, subscription: str) -> list[dict[str, Any]]:
        """Wait for one message (the emulator's long-poll); [] when none came, or when stopping."""
        connection = http.client.HTTPConnection(self.emulator_host, timeout=PULL_TIMEOUT)
        with self._lock:
            if self._stopping.is_set():
                return []
            # Connected under the lock: stop() finds every poll with a socket to shut down.
            connection.connect()
            self._polls.add(connection)
        try:
            body = json.dumps({"maxMessages": 1, "returnImmediately": False})
            connection.request("POST", f"/v1/{subscription}:pull", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            answer = response.read()
        finally:
            with self._lock:
                self._polls.discard(connection)
            connection.close()
        if response.status != 200:
            raise ValueError(f"the emulator answered {response.status}: {answer[:200]!r}")
        return json.loads(answer or b"{}").get("receivedMessages", [])

    def _emulator(self, action: str, body: Mapping[str, Any]) -> None:
        """Acknowledge or extend; a failure is logged (the message then comes back after its deadline)."""
        status = post_json(
            f"http://{self.emulator_host}/v1/{action}",
            body,
            {"Content-Type": "application/json"},
            timeout=EMULATOR_TIMEOUT,
        )
        if status != 200 and not self._stopping.is_set():
            logger.warning("%s on the Pub/Sub emulator answered %s", action, status)


def abort_read(sock: socket.socket) -> None:
    """End a blocking read on ``sock`` from another thread (shutdown wakes it; close alone may not)."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
