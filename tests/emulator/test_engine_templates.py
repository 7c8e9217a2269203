"""Every catalog template on the engine, end to end, through approve, reject and timeout.

The Firestore emulator holds the requests, callbacks and audit trail; the
local translation server translates; a recording server is the deploy
webhook. Decisions arrive as the decide function sends them: a JSON POST with
a bearer token to the callback URL the workflow stored in Firestore. Time is
the engine's virtual clock, so a one-day approval timeout passes at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from google.cloud import firestore

from approvals.emulator.firestore import FirestoreEmulator
from approvals.emulator.translation import TranslationServer
from approvals.engine.api.server import WorkflowsServer, loopback_url
from approvals.engine.runtime.clock import VirtualClock
from approvals.engine.runtime.connectors import ConnectorSettings
from approvals.engine.runtime.engine import Engine
from approvals.engine.runtime.store import Store
from approvals.engine.runtime.tokens import StaticTokens
from approvals.workflow_templates import load_template, render
from tests.support import PROJECT, seed
from tests.support.servers import RecordingServer
from tests.templates.examples import PLATFORM_ENV

WORKFLOWS = f"projects/{PROJECT}/locations/us-central1/workflows"  # the engine's default location
DAY = 86400  # PLATFORM_ENV's APPROVAL_TIMEOUT_SECONDS
HOUR = 3600  # how long an approver takes to decide, so that every event has its own time
REQUEST_ID = "r1"
REQUESTER = "bob@example.com"
APPROVERS = json.loads(PLATFORM_ENV["APPROVERS"])
# translation_validation's own collection, under the workflow's extension document.
TRANSLATIONS = "/".join(
    (PLATFORM_ENV["APPROVALS_EXTENSIONS_COLLECTION"], PLATFORM_ENV["APPROVAL_WORKFLOW_KEY"], "translations")
)
APPROVER_GROUPS = ["reviewers"]  # the NAMEs of APPROVERS' group:NAME entries
FINANCE_APPROVERS = ["cfo@example.com"]
OIDC_TOKEN = "workflow-oidc-token"
WEBHOOK_PATH = "/deploy"

CallBack = Callable[..., requests.Response]
Event = tuple[str, str, dict[str, Any]]  # an audit event's (event, actor, details)


@dataclass(frozen=True)
class Decision:
    """What an approver decides, sent as the decide function's callback body."""

    outcome: str
    approver: str
    principal: str
    comment: str

    def body(self, request_id: str, decided_at: datetime) -> dict[str, str]:
        return {
            "request_id": request_id,
            "outcome": self.outcome,
            "approver": self.approver,
            "principal": self.principal,
            "comment": self.comment,
            "decided_at": decided_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }


APPROVE = Decision("approved", "ada@example.com", "ada@example.com", "looks right")
# A group member: the principal is the approvers entry that matched, not the e-mail.
REJECT = Decision("rejected", "rex@example.com", "group:reviewers", "not like this")
FINANCE_APPROVE = Decision("approved", "cfo@example.com", "cfo@example.com", "within budget")
FINANCE_REJECT = Decision("rejected", "cfo@example.com", "cfo@example.com", "over budget")
TIMEOUT = None  # nobody decides
# A closed request carries no delegates' stamps.
NO_STAMPS = {"delegates": [], "stand_in_for": {}}

PATHS = pytest.mark.parametrize("decision", [APPROVE, REJECT, TIMEOUT], ids=["approve", "reject", "timeout"])


@dataclass(frozen=True)
class Pending:
    """A request the workflow is waiting on, as Firestore showed it."""

    request_id: str
    document: dict[str, Any]
    callback_url: str

    @property
    def stage(self) -> str:
        return self.document["stage"]


@dataclass
class Approvals:
    """The test's hands: starts executions, decides through the stored callback URL, reads Firestore."""

    engine: Engine
    db: firestore.Client
    call_back: CallBack

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.engine.clock.now(), UTC)

    def start(self, template: str, argument: dict[str, Any]) -> str:
        """Start `template` as the start function does: request_id and requester added, the start recorded."""
        seed.start_record(self.db, REQUEST_ID, REQUESTER, template)
        execution = self.engine.start(
            template, {**argument, "request_id": REQUEST_ID, "requester": REQUESTER}
        )
        self.engine.wait_idle()
        self.assert_waiting(execution.id)
        return execution.id

    def assert_waiting(self, execution_id: str) -> None:
        record = self.engine.get(execution_id)
        assert record.state == "ACTIVE", record.error

    def result(self, execution_id: str) -> Any:
        record = self.engine.get(execution_id)
        assert record.state == "SUCCEEDED", record.error
        return record.result

    def document(self, collection: str, document_id: str) -> dict[str, Any] | None:
        return seed.get(self.db, collection, document_id)

    def audit(self, request_id: str) -> list[Event]:
        """(event, actor, details) of one request, oldest first."""
        return seed.trail(self.db, request_id)

    def pending(
        self,
        execution_id: str,
        template: str,
        *,
        stage: str,
        subject: str,
        payload: dict[str, Any],
        request_id: str = REQUEST_ID,
        approvers: list[str] = APPROVERS,
        approver_groups: list[str] = APPROVER_GROUPS,
    ) -> Pending:
        """Check the request is pending in Firestore with its callback stored apart; return it."""
        created = self.now()
        document = self.document("approval_requests", request_id)
        assert document == {
            "request_id": request_id,
            "origin_request_id": REQUEST_ID,
            "requester_verified": True,
            "template": template,
            "stage": stage,
            "status": "pending",
            "approvers": approvers,
            "approver_groups": approver_groups,
            "requester": REQUESTER,
            "subject": subject,
            "payload": payload,
            "workflow_id": template,
            "execution_id": execution_id,
            "execution_name": f"{WORKFLOWS}/{template}/executions/{execution_id}",
            **seed.default_options(approvers, "single"),
            "created_at": created,
            "due_at": created + timedelta(seconds=DAY),
            "expires_at": created + timedelta(seconds=DAY),
        }
        callback = self.document("approval_callbacks", request_id)
        assert callback is not None
        assert callback == {
            "url": callback["url"],
            "method": "POST",
            "execution_id": execution_id,
            "created_at": created,
        }
        assert callback["url"].startswith(f"{self.engine.base_url}/v1/projects/")
        assert f"/executions/{execution_id}/callbacks/" in callback["url"]
        assert self.audit(request_id) == [requested_event(document)]
        return Pending(request_id, document, callback["url"])

    def send(self, pending: Pending, decision: Decision, *, recorded: bool = True) -> None:
        """POST `decision` to the stored callback URL an hour later, as the decide function would
        (recording the vote and the decision first), or as whoever holds the URL could.
        """
        self.engine.advance(HOUR)
        body = decision.body(pending.request_id, self.now())
        if recorded:
            seed.claim(self.db, body)
        response = self.call_back(pending.callback_url, body)
        assert response.status_code == 200, response.text
        self.engine.wait_idle()

    def conclude(
        self, pending: Pending, decision: Decision | None, *, audited_meanwhile: tuple[Event, ...] = ()
    ) -> dict[str, Any]:
        """Decide `pending` (or let it expire), check Firestore, and return the step's expected outcome.

        `audited_meanwhile`: the events expected between the request and its outcome.
        """
        if decision is None:
            self.engine.advance(DAY - 1)
            assert self.document("approval_requests", pending.request_id)["status"] == "pending"
            self.engine.advance(1)
            recorded = {"status": "expired", "expired_at": self.now(), **NO_STAMPS}
            last_event = ("expired", "workflow", {})
            outcome = {
                "status": "expired",
                "approved": False,
                "approver": None,
                "comment": "",
                "decided_at": None,
                "votes": [],
            }
        else:
            self.send(pending, decision)
            recorded = {
                "status": decision.outcome,
                "decided_by": decision.approver,
                "comment": decision.comment,
                "decided_at": self.now(),
                **NO_STAMPS,
                "decision": {
                    "outcome": decision.outcome,
                    "approver": decision.approver,
                    "principal": decision.principal,
                    "comment": decision.comment,
                    "round": "initial",
                },
            }
            votes = [
                {"approver": decision.approver, "outcome": decision.outcome, "comment": decision.comment}
            ]
            last_event = (
                "decided",
                decision.approver,
                {
                    "outcome": decision.outcome,
                    "principal": decision.principal,
                    "comment": decision.comment,
                    "identity_source": "approvers",
                    "votes": votes,
                },
            )
            outcome = {
                "status": decision.outcome,
                "approved": decision.outcome == "approved",
                "approver": decision.approver,
                "comment": decision.comment,
                "decided_at": self.now(),
                "votes": votes,
            }
        assert self.document("approval_requests", pending.request_id) == {**pending.document, **recorded}
        assert self.audit(pending.request_id) == [
            requested_event(pending.document),
            *audited_meanwhile,
            last_event,
        ]
        self.assert_callback_url_private(pending.callback_url)
        return {"request_id": pending.request_id, **outcome}

    def assert_callback_url_private(self, url: str) -> None:
        """Whoever holds the URL can decide: only approval_callbacks may hold it."""
        for collection in ("approval_requests", "approval_audit", TRANSLATIONS):
            for snapshot in self.db.collection(collection).stream():
                assert url not in repr(snapshot.to_dict()), (
                    f"{collection}/{snapshot.id} leaks the callback URL"
                )


def requested_event(document: dict[str, Any]) -> Event:
    """The audit event request_approval writes when it asks `document`'s approvers."""
    details = {
        "stage": document["stage"],
        "mode": document["mode"],
        "approvers": document["approvers"],
        "rules": document["rules"],
    }
    return ("requested", REQUESTER, details)


def outcome_of(step: dict[str, Any]) -> dict[str, Any]:
    """A request_approval result with its RFC 3339 decided_at read back as a time."""
    decided_at = step["decided_at"]
    return {**step, "decided_at": None if decided_at is None else datetime.fromisoformat(decided_at)}


@pytest.fixture
def translation() -> Iterator[TranslationServer]:
    with TranslationServer() as server:
        yield server


@pytest.fixture
def approvals(
    store: Store,
    clock: VirtualClock,
    firestore_emulator: FirestoreEmulator,
    translation: TranslationServer,
    target: RecordingServer,
    db: firestore.Client,
    call_back: CallBack,
) -> Iterator[Approvals]:
    """Every catalog template deployed under its own name, as ApprovalWorkflow configures it.

    `target` (conftest's recording server) is the deploy webhook.
    """
    settings = ConnectorSettings(
        firestore_host=firestore_emulator.host, translate_url=translation.url, project=PROJECT
    )
    engine = Engine(
        store,
        clock,
        project=PROJECT,
        connector_settings=settings,
        tokens=StaticTokens(identity=OIDC_TOKEN),
        base_url=loopback_url(),
    )
    params: dict[str, dict[str, object]] = {
        "translation_validation": {},
        "expense_approval": {"FINANCE_APPROVERS": FINANCE_APPROVERS},
        "deploy_approval": {"DEPLOY_WEBHOOK_URL": target.url + WEBHOOK_PATH},
    }
    for name, values in params.items():
        template = load_template(name)
        env = {**PLATFORM_ENV, "APPROVAL_TEMPLATE": name, **template.env_for(values)}
        engine.deploy(name, render(template, env), env)
    with WorkflowsServer(engine):
        yield Approvals(engine, db, call_back)
    engine.close()


@PATHS
def test_translation_validation(approvals: Approvals, decision: Decision | None) -> None:
    """The translation waits for validation; its translations document records whether it was approved."""
    translated = "[local translation en→fr] Hello"
    execution_id = approvals.start("translation_validation", {"text": "Hello"})
    pending = approvals.pending(
        execution_id,
        "translation_validation",
        stage="validation",
        subject="Validate the en to fr translation",
        payload={
            "text": "Hello",
            "translation": translated,
            "source_language": "en",
            "target_language": "fr",
        },
    )

    approvals.conclude(pending, decision)

    approved = decision is APPROVE
    assert approvals.result(execution_id) == {
        "text": "Hello",
        "translation": translated,
        "approved": approved,
    }
    assert approvals.document(TRANSLATIONS, execution_id) == {
        "text": "Hello",
        "translation": translated,
        "approved": approved,
        "requester": REQUESTER,
        "request_id": REQUEST_ID,
    }


EXPENSE = {"amount": 2500, "currency": "EUR", "reason": "Conference"}
EXPENSE_SUBJECT = "Expense of 2500 EUR - Conference"


def start_expense(approvals: Approvals, expense: dict[str, Any], subject: str) -> tuple[str, Pending]:
    execution_id = approvals.start("expense_approval", expense)
    pending = approvals.pending(
        execution_id, "expense_approval", stage="manager", subject=subject, payload=expense
    )
    return execution_id, pending


@PATHS
def test_expense_at_the_threshold_has_one_stage(approvals: Approvals, decision: Decision | None) -> None:
    """Only amounts above EXPENSE_SECOND_STAGE_THRESHOLD (default 1000) go to finance."""
    expense = {"amount": 1000, "currency": "EUR", "reason": "Laptop"}
    execution_id, pending = start_expense(approvals, expense, "Expense of 1000 EUR - Laptop")

    manager = approvals.conclude(pending, decision)

    result = approvals.result(execution_id)
    assert result["approved"] is (decision is APPROVE)
    assert [outcome_of(stage) for stage in result["stages"]] == [manager]
    assert approvals.document("approval_requests", f"{REQUEST_ID}-finance") is None


def finance_stage(approvals: Approvals, execution_id: str) -> Pending:
    """The pending finance request, once the manager approved; finance sees who approved and why."""
    return approvals.pending(
        execution_id,
        "expense_approval",
        request_id=f"{REQUEST_ID}-finance",
        stage="finance",
        subject=EXPENSE_SUBJECT,
        payload={**EXPENSE, "manager_approver": APPROVE.approver, "manager_comment": APPROVE.comment},
        approvers=FINANCE_APPROVERS,
        approver_groups=[],
    )


@pytest.mark.parametrize(
    "finance_decision", [FINANCE_APPROVE, FINANCE_REJECT, TIMEOUT], ids=["approve", "reject", "timeout"]
)
def test_expense_above_the_threshold_needs_finance(
    approvals: Approvals, finance_decision: Decision | None
) -> None:
    """After the manager approves, a second request <request_id>-finance waits for FINANCE_APPROVERS."""
    execution_id, pending = start_expense(approvals, EXPENSE, EXPENSE_SUBJECT)
    manager = approvals.conclude(pending, APPROVE)
    approvals.assert_waiting(execution_id)
    finance = finance_stage(approvals, execution_id)

    second = approvals.conclude(finance, finance_decision)

    result = approvals.result(execution_id)
    assert result["approved"] is (finance_decision is FINANCE_APPROVE)
    assert [outcome_of(stage) for stage in result["stages"]] == [manager, second]


@pytest.mark.parametrize("decision", [REJECT, TIMEOUT], ids=["reject", "timeout"])
def test_expense_refused_by_the_manager_skips_finance(
    approvals: Approvals, decision: Decision | None
) -> None:
    """A first-stage rejection "ends the process" whatever the amount; so does an expiry."""
    execution_id, pending = start_expense(approvals, EXPENSE, EXPENSE_SUBJECT)

    manager = approvals.conclude(pending, decision)

    result = approvals.result(execution_id)
    assert result["approved"] is False
    assert [outcome_of(stage) for stage in result["stages"]] == [manager]
    assert approvals.document("approval_requests", f"{REQUEST_ID}-finance") is None
    assert approvals.document("approval_callbacks", f"{REQUEST_ID}-finance") is None
    assert approvals.audit(f"{REQUEST_ID}-finance") == []


def test_an_invalid_callback_is_audited_and_the_request_keeps_waiting(approvals: Approvals) -> None:
    """A callback nobody's votes back (a leaked URL) decides nothing: it is audited, and the
    finance stage goes on waiting for a recorded decision.
    """
    execution_id, pending = start_expense(approvals, EXPENSE, EXPENSE_SUBJECT)
    manager = approvals.conclude(pending, APPROVE)
    finance = finance_stage(approvals, execution_id)

    approvals.send(finance, APPROVE, recorded=False)

    approvals.assert_waiting(execution_id)
    assert approvals.document("approval_requests", finance.request_id) == finance.document
    invalid = ("invalid_callback", APPROVE.approver, {"problem": "no decision is recorded for this request"})
    assert approvals.audit(finance.request_id)[1:] == [invalid]

    second = approvals.conclude(finance, FINANCE_APPROVE, audited_meanwhile=(invalid,))

    result = approvals.result(execution_id)
    assert result["approved"] is True
    assert [outcome_of(stage) for stage in result["stages"]] == [manager, second]


DEPLOY = {"service": "billing", "version": "v42", "change_url": "https://example.com/changes/42"}


@PATHS
def test_deploy_approval(approvals: Approvals, target: RecordingServer, decision: Decision | None) -> None:
    """The deploy webhook is called once, with the workflow's OIDC token, and only once approved."""
    execution_id = approvals.start("deploy_approval", DEPLOY)
    pending = approvals.pending(
        execution_id, "deploy_approval", stage="deploy", subject="Deploy billing v42", payload=DEPLOY
    )
    assert target.calls == []

    step = approvals.conclude(pending, decision)

    result = approvals.result(execution_id)
    assert outcome_of(result.pop("decision")) == step
    if decision is not APPROVE:
        assert result == {"approved": False, "deployed": False, "service": "billing", "version": "v42"}
        assert target.calls == []
        return
    assert result == {
        "approved": True,
        "deployed": True,
        "service": "billing",
        "version": "v42",
        "webhook_status": 200,
    }
    [call] = target.calls
    assert (call.method, call.path) == ("POST", WEBHOOK_PATH)
    assert call.headers["Authorization"] == f"Bearer {OIDC_TOKEN}"
    assert call.json() == {
        **DEPLOY,
        "request_id": REQUEST_ID,
        "approved_by": APPROVE.approver,
        "comment": APPROVE.comment,
    }
