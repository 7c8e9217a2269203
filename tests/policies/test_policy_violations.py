"""Each policy catches the mistake it is about, alone, and says how to fix it."""

from pathlib import Path

import pytest

from approvals.policies.google_names import RULES
from approvals.policies.pack import POLICIES
from tests.policies.bad_deployments import DEPLOYABILITY_PROGRAMS
from tests.policies.bad_programs import (
    ADVISORY,
    BAD_PROGRAMS,
    POLICY_NAMES,
    BadProgram,
    bad_program,
    hosting,
    project_role,
    public_invoker,
    service_account,
)
from tests.policies.bad_programs import check as check_program

ALL_BAD_PROGRAMS = (*BAD_PROGRAMS, *DEPLOYABILITY_PROGRAMS)


def test_the_pack_has_its_eighteen_policies() -> None:
    assert {policy.name for policy in POLICIES} == POLICY_NAMES


def test_every_policy_has_a_bad_program() -> None:
    assert {case.policy for case in ALL_BAD_PROGRAMS} == POLICY_NAMES


@pytest.mark.parametrize("case", ALL_BAD_PROGRAMS, ids=lambda case: case.id)
def test_bad_program_violates_exactly_its_policy(case: BadProgram, tmp_path: Path) -> None:
    violations = check_program(case.program, tmp_path, stack=case.stack)

    assert {v.policy for v in violations} == {case.policy}, violations
    assert all("Fix" in v.message for v in violations), violations
    assert any(all(name in v.message for name in case.names) for v in violations), (
        f"no message names {case.names}: {violations}"
    )
    assert all(v.urn.startswith(f"urn:pulumi:{case.stack}::") for v in violations), violations
    expected_level = "advisory" if case.policy in ADVISORY else "mandatory"
    assert {v.level for v in violations} == {expected_level}


@pytest.mark.parametrize(
    "case", [case for case in BAD_PROGRAMS if case.stack == "prod"], ids=lambda case: case.id
)
def test_prod_rules_leave_other_stacks_alone(case: BadProgram, tmp_path: Path) -> None:
    assert check_program(case.program, tmp_path, stack="dev") == []


def test_a_service_behind_hosting_may_be_public(tmp_path: Path) -> None:
    def program(_: Path) -> None:
        hosting("public-api")
        public_invoker("public-api")

    assert check_program(program, tmp_path) == []


def test_a_public_service_is_named_only_when_hosting_does_not_reach_it(tmp_path: Path) -> None:
    violations = check_program(bad_program("all-users-on-service-not-behind-hosting").program, tmp_path)

    assert [v for v in violations if "public-api" in v.message] == []


def test_a_role_on_the_accounts_allow_list_passes(tmp_path: Path) -> None:
    def program(_: Path) -> None:
        project_role("reports-log-writer", service_account("wf-reports"), "roles/logging.logWriter")

    assert check_program(program, tmp_path) == []


@pytest.mark.parametrize(
    ("collection", "problem"),
    [
        ("reports", None),
        ("teams/eng/members", None),
        ("teams/eng", "has characters or a shape Google does not accept"),
        ("teams//members", "has characters or a shape Google does not accept"),
        ("__reports__", "has characters or a shape Google does not accept"),
        ("teams/../members", "has characters or a shape Google does not accept"),
    ],
)
def test_a_document_may_live_in_a_subcollection(collection: str, problem: str | None) -> None:
    rule = RULES["gcp:firestore/document:Document"]["collection"]

    assert rule.problem(collection) == problem


def test_a_stack_enabling_no_api_is_checked_as_for_a_fresh_project_only_when_asked(tmp_path: Path) -> None:
    def program(_: Path) -> None:
        service_account("reports-runner")

    strict = {"apis-enabled-before-use": {"fresh_project": True}}
    told = {
        "apis-enabled-before-use": {
            "fresh_project": True,
            "enabled_outside_the_stack": ["iam.googleapis.com"],
        }
    }

    assert check_program(program, tmp_path) == []
    [violation] = check_program(program, tmp_path, policy_config=strict)
    assert (violation.policy, violation.level) == ("apis-enabled-before-use", "mandatory")
    assert "iam.googleapis.com" in violation.message
    assert check_program(program, tmp_path, policy_config=told) == []
