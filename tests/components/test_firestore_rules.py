"""The platform's Firestore rules, enforced by the real emulator on users' ID tokens.

The rules are loaded for a project of their own, so the session's emulator keeps
serving the other tests' projects without rules. Group members are declared as
the platform stores them (a membership document per member), never by a token claim.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from approvals.database import Collections, firestore_rules
from approvals.emulator.firestore import FirestoreEmulator
from approvals.emulator.identity import IdentityProvider

PROJECT = "rules-approvals"
APPROVER = "alice@example.com"
GROUP_MEMBER = "gina@example.com"
REQUESTER = "carol@example.com"
DELEGATE = "dave@example.com"
STRANGER = "mallory@example.com"
FORGER = "fred@example.com"  # signs in with a token that claims group `reviewers`


def text(value: str) -> dict[str, Any]:
    return {"stringValue": value}


def texts(*values: str) -> dict[str, Any]:
    return {"arrayValue": {"values": [text(v) for v in values]}}


def compare(field: str, op: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"fieldFilter": {"field": {"fieldPath": field}, "op": op, "value": value}}


def equals(field: str, value: str) -> dict[str, Any]:
    return compare(field, "EQUAL", text(value))


def inbox(field: str, email: str, *statuses: str) -> dict[str, Any]:
    """The page's inbox query: `field` array-contains `email`, and a status among `statuses`."""
    filters = [compare(field, "ARRAY_CONTAINS", text(email)), compare("status", "IN", texts(*statuses))]
    return {"compositeFilter": {"op": "AND", "filters": filters}}


def group_inbox(*groups: str) -> dict[str, Any]:
    """The page's inbox query for a member of `groups`: approver_groups array-contains-any them."""
    filters = [
        compare("approver_groups", "ARRAY_CONTAINS_ANY", texts(*groups)),
        compare("status", "IN", texts("pending", "deciding")),
    ]
    return {"compositeFilter": {"op": "AND", "filters": filters}}


class Client:
    """The emulator's REST API as a signed-in user (the rules decide) for PROJECT."""

    def __init__(self, emulator: FirestoreEmulator, token: str) -> None:
        self.documents = f"{emulator.url}/v1/projects/{PROJECT}/databases/(default)/documents"
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str) -> int:
        return requests.get(f"{self.documents}/{path}", headers=self.headers, timeout=10).status_code

    def query(self, collection: str, where: dict[str, Any] | None = None, **order: str) -> int:
        query: dict[str, Any] = {"from": [{"collectionId": collection}]}
        if where:
            query["where"] = where
        if order:
            query["orderBy"] = [{"field": {"fieldPath": f}, "direction": d} for f, d in order.items()]
        response = requests.post(
            f"{self.documents}:runQuery", json={"structuredQuery": query}, headers=self.headers, timeout=10
        )
        return response.status_code

    def create(self, collection: str) -> int:
        response = requests.post(
            f"{self.documents}/{collection}",
            json={"fields": {"request_id": text("r1")}},
            headers=self.headers,
            timeout=10,
        )
        return response.status_code


@pytest.fixture(scope="module")
def as_user(firestore_emulator: FirestoreEmulator, identity: IdentityProvider) -> dict[str, Client]:
    firestore_emulator.load_rules(PROJECT, firestore_rules(Collections()))
    seed = {
        "approval_requests/r1": {
            "requester": text(REQUESTER),
            "approvers": texts(APPROVER),
            "approver_groups": texts("reviewers"),
            "status": text("pending"),
        },
        f"approval_requests/r1/votes/{APPROVER}": {"voter": text(APPROVER), "outcome": text("approved")},
        "approval_audit/e1": {"request_id": text("r1"), "event": text("requested")},
        "approval_audit/e2": {"request_id": text("r2"), "event": text("requested")},
        # alice's request r3, stamped by the functions with dave standing in for her.
        "approval_requests/r3": {
            "requester": text(REQUESTER),
            "approvers": texts(APPROVER),
            "approver_groups": texts(),
            "status": text("pending"),
            "delegates": texts(DELEGATE),
            "stand_in_for": {"mapValue": {"fields": {DELEGATE: text(APPROVER)}}},
        },
        "approval_audit/e3": {"request_id": text("r3"), "event": text("requested")},
        "approval_requests/r2": {
            "requester": text(STRANGER),
            "approvers": texts(STRANGER),
            "approver_groups": texts(),
            "status": text("pending"),
        },
        f"approval_delegations/{APPROVER}": {"delegator": text(APPROVER), "delegate": text(DELEGATE)},
        "approval_link_uses/n1": {"request_id": text("r1"), "approver": text(APPROVER)},
        "approval_callbacks/r1": {"url": text("https://workflowexecutions.googleapis.com/x")},
        # What `pulumi up` stores from ApprovalPlatformArgs.groups: gina is in reviewers.
        f"approval_memberships/{GROUP_MEMBER}": {"groups": texts("reviewers")},
        f"approval_memberships/{APPROVER}": {"groups": texts("legal")},
        # A translation workflow's extension, and the documents its template keeps for whoever asked.
        "approval_extensions/translate": {
            "template": text("translation_validation"),
            "panel": {"booleanValue": True},
            "requester_collections": texts("translations"),
        },
        "approval_extensions/translate/translations/x1": {"requester": text(REQUESTER), "text": text("Hi")},
        "approval_extensions/translate/drafts/x1": {"requester": text(REQUESTER), "text": text("Hi")},
        "approval_extensions/gone/translations/x1": {"requester": text(REQUESTER), "text": text("Hi")},
        "approval_workflows/translate": {"requesters": text("[]")},
    }
    for path, fields in seed.items():
        firestore_emulator.write_document(path, fields, project=PROJECT)
    forged = identity.sign({**identity.claims(FORGER), "groups": ["reviewers"]})
    return {
        FORGER: Client(firestore_emulator, forged),
        **{
            email: Client(firestore_emulator, identity.mint(email))
            for email in (APPROVER, GROUP_MEMBER, REQUESTER, DELEGATE, STRANGER)
        },
    }


@pytest.mark.parametrize(("email", "status"), [(APPROVER, 200), (GROUP_MEMBER, 200), (REQUESTER, 200)])
def test_whoever_may_read_a_request_may_list_its_audit_trail(
    as_user: dict[str, Client], email: str, status: int
) -> None:
    assert as_user[email].query("approval_audit", equals("request_id", "r1")) == status
    assert as_user[email].get("approval_audit/e1") == status


def test_a_declared_group_member_reads_and_lists_their_group_s_requests(as_user: dict[str, Client]) -> None:
    assert as_user[GROUP_MEMBER].get("approval_requests/r1") == 200
    assert as_user[GROUP_MEMBER].query("approval_requests", group_inbox("reviewers")) == 200
    # Asking for a group one is not in is refused as a whole.
    assert as_user[GROUP_MEMBER].query("approval_requests", group_inbox("reviewers", "legal")) == 403
    assert as_user[GROUP_MEMBER].get("approval_requests/r2") == 403


def test_a_forged_groups_claim_reads_nothing(as_user: dict[str, Client]) -> None:
    """Only declared membership counts: a token's `groups` claim opens no request, list or trail."""
    assert as_user[FORGER].get("approval_requests/r1") == 403
    assert as_user[FORGER].query("approval_requests", group_inbox("reviewers")) == 403
    assert as_user[FORGER].query("approval_audit", equals("request_id", "r1")) == 403
    assert as_user[FORGER].get("approval_audit/e1") == 403


def test_a_user_reads_their_own_membership_and_no_one_else_s(as_user: dict[str, Client]) -> None:
    assert as_user[GROUP_MEMBER].get(f"approval_memberships/{GROUP_MEMBER}") == 200
    assert as_user[GROUP_MEMBER].get(f"approval_memberships/{APPROVER}") == 403
    assert as_user[STRANGER].get(f"approval_memberships/{GROUP_MEMBER}") == 403
    assert as_user[GROUP_MEMBER].query("approval_memberships") == 403
    assert as_user[GROUP_MEMBER].query("approval_memberships", equals("groups", "reviewers")) == 403


def test_a_stranger_may_not_read_the_audit_trail(as_user: dict[str, Client]) -> None:
    assert as_user[STRANGER].query("approval_audit", equals("request_id", "r1")) == 403
    assert as_user[STRANGER].get("approval_audit/e1") == 403


def test_the_audit_trail_is_read_one_request_at_a_time(as_user: dict[str, Client]) -> None:
    """A list the rules cannot tie to one readable request is refused as a whole."""
    assert as_user[APPROVER].query("approval_audit") == 403
    assert as_user[APPROVER].query("approval_audit", equals("request_id", "r2")) == 403


def test_requesters_list_their_own_requests_newest_first(as_user: dict[str, Client]) -> None:
    mine = equals("requester", REQUESTER)
    assert as_user[REQUESTER].query("approval_requests", mine, created_at="DESCENDING") == 200
    assert as_user[STRANGER].query("approval_requests", mine, created_at="DESCENDING") == 403


def test_a_delegate_stamped_on_a_request_reads_it_and_lists_it(as_user: dict[str, Client]) -> None:
    assert as_user[DELEGATE].get("approval_requests/r3") == 200
    mine = inbox("delegates", DELEGATE, "pending", "deciding")
    assert as_user[DELEGATE].query("approval_requests", mine) == 200


def test_who_is_not_stamped_as_a_delegate_reads_nothing_through_delegates(as_user: dict[str, Client]) -> None:
    """The delegation alone (alice -> dave) does not open r1: only the stamp on the request does."""
    assert as_user[DELEGATE].get("approval_requests/r1") == 403
    assert as_user[STRANGER].get("approval_requests/r3") == 403
    # Asking for someone else's delegated requests, or for all delegated ones, is refused as a whole.
    assert as_user[STRANGER].query("approval_requests", inbox("delegates", DELEGATE, "pending")) == 403
    assert as_user[DELEGATE].query("approval_requests", equals("status", "pending")) == 403


def test_a_delegate_reads_the_audit_trail_of_a_request_they_stand_in_for(as_user: dict[str, Client]) -> None:
    assert as_user[DELEGATE].query("approval_audit", equals("request_id", "r3")) == 200
    assert as_user[DELEGATE].get("approval_audit/e3") == 200
    assert as_user[DELEGATE].query("approval_audit", equals("request_id", "r1")) == 403
    assert as_user[STRANGER].get("approval_audit/e3") == 403


def test_delegations_are_visible_to_the_delegator_and_the_delegate_only(as_user: dict[str, Client]) -> None:
    path = f"approval_delegations/{APPROVER}"
    assert as_user[APPROVER].get(path) == 200
    assert as_user[DELEGATE].get(path) == 200
    assert as_user[STRANGER].get(path) == 403
    assert as_user[DELEGATE].query("approval_delegations", equals("delegate", DELEGATE)) == 200
    assert as_user[STRANGER].query("approval_delegations") == 403


@pytest.mark.parametrize(
    "path",
    [f"approval_requests/r1/votes/{APPROVER}", "approval_link_uses/n1", "approval_callbacks/r1"],
)
def test_votes_used_links_and_callbacks_are_never_readable(as_user: dict[str, Client], path: str) -> None:
    for email in (APPROVER, REQUESTER):
        assert as_user[email].get(path) == 403


def test_a_template_document_is_read_by_whoever_asked_for_it_only(as_user: dict[str, Client]) -> None:
    assert as_user[REQUESTER].get("approval_extensions/translate/translations/x1") == 200
    for email in (APPROVER, STRANGER):
        assert as_user[email].get("approval_extensions/translate/translations/x1") == 403
    # Not one of the template's requester collections, or no extension (its workflow is gone).
    assert as_user[REQUESTER].get("approval_extensions/translate/drafts/x1") == 403
    assert as_user[REQUESTER].get("approval_extensions/gone/translations/x1") == 403


def test_template_documents_are_never_listed(as_user: dict[str, Client]) -> None:
    assert as_user[REQUESTER].query("translations") == 403


def test_a_signed_in_user_lists_the_extensions_but_not_the_workflow_registry(
    as_user: dict[str, Client],
) -> None:
    assert as_user[STRANGER].query("approval_extensions") == 200
    assert as_user[STRANGER].get("approval_extensions/translate") == 200
    assert as_user[APPROVER].get("approval_workflows/translate") == 403


@pytest.mark.parametrize(
    "collection",
    [
        "approval_audit",
        "approval_delegations",
        "approval_requests",
        "approval_memberships",
        "approval_extensions",
        "approval_extensions/translate/translations",
    ],
)
def test_clients_write_nothing(as_user: dict[str, Client], collection: str) -> None:
    assert as_user[APPROVER].create(collection) == 403
