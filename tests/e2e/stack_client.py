"""The e2e tests' hands on a running LocalStack: HTTP to its origin, the Firestore emulator, the engine.

Everything goes over HTTP, as a page or another client would: sign-in, start
and decide on the origin; documents from the Firestore emulator's REST API
with a user's ID token (so the security rules apply); executions from the
engine's REST Executions API; the mails the stack sent from the origin's local
outbox, and their decision links as a mail reader would follow them.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import requests

HTTP_TIMEOUT = 30.0
# The engine and the functions finish asynchronously: how long to wait for a result, and how often to look.
SETTLE_SECONDS = 10.0
POLL_SECONDS = 0.02

T = TypeVar("T")


def poll(read: Callable[[], T], done: Callable[[T], bool], what: str) -> T:
    """Read until `done` holds (waiting for an asynchronous result, not timing it); returns the last read."""
    deadline = time.monotonic() + SETTLE_SECONDS
    value = read()
    while not done(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still {value!r} after {SETTLE_SECONDS}s")
        time.sleep(POLL_SECONDS)
        value = read()
    return value


def firestore_value(value: dict[str, Any]) -> Any:
    """A Firestore REST typed Value as plain Python (timestamps as aware datetimes)."""
    [(kind, content)] = value.items()
    match kind:
        case "nullValue":
            return None
        case "integerValue":
            return int(content)
        case "timestampValue":
            return datetime.fromisoformat(content)
        case "arrayValue":
            return [firestore_value(item) for item in content.get("values", [])]
        case "mapValue":
            return firestore_fields(content.get("fields", {}))
        case _:
            return content


def firestore_fields(fields: dict[str, Any]) -> dict[str, Any]:
    return {name: firestore_value(value) for name, value in fields.items()}


def link_token(link: str) -> str:
    """The token of a decision link (…/link?token=T)."""
    [token] = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["token"]
    return token


def link_request_id(link: str) -> str:
    """The request a decision link is for, read (not verified) from its token's signed part."""
    claims = link_token(link).split(".", 1)[0]
    return json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["r"]


@dataclass(frozen=True)
class Started:
    """What /api/start answered: the request id and the execution's full resource name."""

    request_id: str
    execution: str
    execution_id: str

    @property
    def workflow_id(self) -> str:
        """W of projects/P/locations/L/workflows/W/executions/E."""
        return self.execution.split("/")[5]


@dataclass
class Client:
    """The test's hands on the running stack; everything goes over HTTP."""

    origin: str
    project: str
    database: str
    firestore: str
    engine: str
    _tokens: dict[str, str] = field(default_factory=dict)

    @classmethod
    def connect(cls, origin: str) -> Client:
        """Find the local services the way a page would: GET /local/config."""
        response = requests.get(f"{origin}/local/config", timeout=HTTP_TIMEOUT)
        assert response.status_code == 200, response.text
        config = response.json()
        return cls(origin, config["project"], config["database"], config["firestore"], config["engine"])

    def sign_in(self, email: str) -> str:
        """Sign `email` in; later calls as `email` use this token. Groups come from Pulumi.dev.yaml."""
        response = requests.post(f"{self.origin}/local/sign-in", json={"email": email}, timeout=HTTP_TIMEOUT)
        assert response.status_code == 200, response.text
        self._tokens[email] = response.json()["idToken"]
        return self._tokens[email]

    def token(self, email: str) -> str:
        """A Firebase-style ID token for `email` from the local sign-in endpoint."""
        return self._tokens.get(email) or self.sign_in(email)

    def _auth(self, email: str | None) -> dict[str, str]:
        return {} if email is None else {"Authorization": f"Bearer {self.token(email)}"}

    def start(self, email: str, workflow: str, given: dict[str, Any]) -> Started:
        response = requests.post(
            f"{self.origin}/api/start",
            json={"workflow": workflow, "input": given},
            headers=self._auth(email),
            timeout=HTTP_TIMEOUT,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["workflow"] == workflow
        assert body["execution"].endswith(f"/executions/{body['execution_id']}")
        return Started(body["request_id"], body["execution"], body["execution_id"])

    def decide(
        self, email: str | None, request_id: str, outcome: str, comment: str = ""
    ) -> requests.Response:
        """POST /api/decide as `email` (None: without a token); the response is the caller's to check."""
        return requests.post(
            f"{self.origin}/api/decide",
            json={"request_id": request_id, "outcome": outcome, "comment": comment},
            headers=self._auth(email),
            timeout=HTTP_TIMEOUT,
        )

    def cancel(self, email: str | None, request_id: str, reason: str | None = None) -> requests.Response:
        """POST /api/cancel as `email`; the response is the caller's to check."""
        body = {"request_id": request_id, **({"reason": reason} if reason is not None else {})}
        return requests.post(
            f"{self.origin}/api/cancel", json=body, headers=self._auth(email), timeout=HTTP_TIMEOUT
        )

    def delegate(self, email: str, delegate: str, days: float) -> requests.Response:
        """POST /api/delegations as `email`: `delegate` votes for them from now (wall clock) for `days`."""
        ends_at = (datetime.now(UTC) + timedelta(days=days)).isoformat().replace("+00:00", "Z")
        return requests.post(
            f"{self.origin}/api/delegations",
            json={"delegate": delegate, "ends_at": ends_at},
            headers=self._auth(email),
            timeout=HTTP_TIMEOUT,
        )

    def undelegate(self, email: str) -> requests.Response:
        """DELETE /api/delegations as `email`: end their delegation."""
        return requests.delete(
            f"{self.origin}/api/delegations", headers=self._auth(email), timeout=HTTP_TIMEOUT
        )

    def read_document(self, email: str | None, path: str) -> requests.Response:
        """GET a document from the Firestore emulator as `email`, so that the security rules decide."""
        url = f"{self.firestore}/v1/projects/{self.project}/databases/{self.database}/documents/{path}"
        return requests.get(url, headers=self._auth(email), timeout=HTTP_TIMEOUT)

    def document(self, email: str, path: str) -> dict[str, Any]:
        """A document `email` may read, as plain fields."""
        response = self.read_document(email, path)
        assert response.status_code == 200, response.text
        return firestore_fields(response.json().get("fields", {}))

    def request(self, email: str, request_id: str) -> dict[str, Any]:
        return self.document(email, f"approval_requests/{request_id}")

    def read_audit(self, email: str | None, request_id: str) -> requests.Response:
        """Query the request's audit events as `email` (a runQuery), so that the security rules decide."""
        query = {
            "structuredQuery": {
                "from": [{"collectionId": "approval_audit"}],
                "where": {
                    "fieldFilter": {
                        "field": {"fieldPath": "request_id"},
                        "op": "EQUAL",
                        "value": {"stringValue": request_id},
                    }
                },
            }
        }
        url = f"{self.firestore}/v1/projects/{self.project}/databases/{self.database}/documents:runQuery"
        return requests.post(url, json=query, headers=self._auth(email), timeout=HTTP_TIMEOUT)

    def audit(self, email: str, request_id: str) -> list[dict[str, Any]]:
        """The request's audit events `email` may read, as plain fields, in the order they were written.

        By creation time, not by `at`: the workflow stamps events with the virtual clock, the functions
        with the wall clock.
        """
        response = self.read_audit(email, request_id)
        assert response.status_code == 200, response.text
        documents = [item["document"] for item in response.json() if "document" in item]
        documents.sort(key=lambda document: datetime.fromisoformat(document["createTime"]))
        return [firestore_fields(document.get("fields", {})) for document in documents]

    def _engine_get(self, path: str) -> dict[str, Any]:
        """GET from the engine's Executions API with the emulators' admin credential."""
        response = requests.get(
            f"{self.engine}/v1/{path}", headers={"Authorization": "Bearer owner"}, timeout=HTTP_TIMEOUT
        )
        assert response.status_code == 200, response.text
        return response.json()

    def execution(self, name: str) -> dict[str, Any]:
        """The Executions API's view of `name` (state, result as JSON text, error)."""
        return self._engine_get(name)

    def callbacks(self, name: str) -> list[dict[str, Any]]:
        return self._engine_get(f"{name}/callbacks").get("callbacks", [])

    def wait_until_awaiting(self, name: str, callbacks: int = 1) -> list[dict[str, Any]]:
        """Wait until the execution has created `callbacks` callbacks and waits on one (its timer is set)."""
        return poll(
            lambda: self.callbacks(name),
            lambda found: len(found) >= callbacks and any(callback["waiters"] != "0" for callback in found),
            f"{name} awaiting callback #{callbacks}",
        )

    def executions(self, execution: str) -> list[dict[str, Any]]:
        """Every execution of the workflow that `execution` belongs to (the API's BASIC view)."""
        workflow = execution.rsplit("/executions/", 1)[0]
        return self._engine_get(f"{workflow}/executions").get("executions", [])

    def wait_until_ended(self, name: str) -> dict[str, Any]:
        return poll(lambda: self.execution(name), lambda e: e["state"] != "ACTIVE", f"{name} ending")

    def result(self, name: str) -> Any:
        """The result of an execution that ended, which must have succeeded."""
        execution = self.wait_until_ended(name)
        assert execution["state"] == "SUCCEEDED", execution.get("error")
        return json.loads(execution["result"])

    def advance(self, seconds: float) -> datetime:
        """Move the stack's virtual clock forward, firing the timers due on the way; the new time."""
        response = requests.post(
            f"{self.origin}/local/clock:advance", json={"seconds": seconds}, timeout=HTTP_TIMEOUT
        )
        assert response.status_code == 200, response.text
        return datetime.fromisoformat(response.json()["now"])

    def outbox(self) -> list[dict[str, Any]]:
        """Every mail the stack sent so far, oldest first (GET /local/outbox)."""
        response = requests.get(f"{self.origin}/local/outbox", timeout=HTTP_TIMEOUT)
        assert response.status_code == 200, response.text
        return response.json()["mails"]

    def wait_for_mails(self, which: Callable[[dict[str, Any]], bool], count: int) -> list[dict[str, Any]]:
        """The outbox's mails `which` selects, once there are at least `count` of them."""
        return poll(
            lambda: [mail for mail in self.outbox() if which(mail)],
            lambda mails: len(mails) >= count,
            f"{count} mails in the outbox",
        )

    def open_link(self, link: str) -> requests.Response:
        """GET a decision link, as a mail reader (or a mail scanner) would."""
        return requests.get(link, timeout=HTTP_TIMEOUT)

    def use_link(self, link: str, outcome: str, comment: str = "") -> requests.Response:
        """Press a button of the link's page: POST its form (token, outcome, comment) to /link."""
        form = {"token": link_token(link), "outcome": outcome, "comment": comment}
        return requests.post(f"{self.origin}/link", data=form, timeout=HTTP_TIMEOUT)

    def restart_engine(self) -> None:
        response = requests.post(f"{self.origin}/local/engine:restart", timeout=HTTP_TIMEOUT)
        assert response.status_code == 200, response.text
