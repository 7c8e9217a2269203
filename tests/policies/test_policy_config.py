"""Teams tune the pack: enforcement levels and parameters, in code and from the CLI."""

import json
from pathlib import Path
from typing import Any

import pytest

from tests.policies.bad_programs import bad_program, bucket_labelled
from tests.policies.bad_programs import check as check_program
from tests.policies.policy_cli import run_check, violation_lines


def test_required_labels_can_be_made_mandatory_and_changed(tmp_path: Path) -> None:
    config = {"required-labels": {"enforcementLevel": "mandatory", "labels": ["team"]}}

    violations = check_program(
        bucket_labelled({"app": "reports", "managed-by": "pulumi"}), tmp_path, policy_config=config
    )

    assert [(v.policy, v.level) for v in violations] == [("required-labels", "mandatory")]
    assert "team" in violations[0].message
    assert check_program(bucket_labelled({"team": "data"}), tmp_path, policy_config=config) == []


def test_a_disabled_policy_reports_nothing(tmp_path: Path) -> None:
    program = bad_program("editor-on-project").program
    config = {"no-primitive-roles": {"enforcementLevel": "disabled"}}

    assert check_program(program, tmp_path, policy_config=config) == []


def test_a_mandatory_policy_can_be_made_advisory(tmp_path: Path) -> None:
    program = bad_program("editor-on-project").program
    config = {"no-primitive-roles": {"enforcementLevel": "advisory"}}

    violations = check_program(program, tmp_path, policy_config=config)

    assert [(v.policy, v.level) for v in violations] == [("no-primitive-roles", "advisory")]


@pytest.mark.parametrize(
    ("case_id", "policy_config"),
    [
        (
            "all-users-on-service-not-behind-hosting",
            {"no-public-invokers": {"allowed_services": ["internal-*"]}},
        ),
        (
            "workflow-account-with-foreign-role",
            {"project-roles-allow-list": {"allowed_roles": {"wf-*": ["roles/logging.*", "roles/storage.*"]}}},
        ),
        (
            "await-longer-than-30-days",
            {"callback-await-bounded-and-handled": {"max_timeout_seconds": 50 * 24 * 3600}},
        ),
        ("function-above-instance-limit", {"function-ingress-and-scaling": {"max_instances_limit": 1000}}),
        ("prod-workflow-with-one-approver", {"prod-approver-count": {"min_approvers": 1}}),
        (
            "prod-database-without-delete-protection",
            {"prod-data-protection": {"prod_stacks": ["production"]}},
        ),
        (
            "prod-workflow-approving-automatically",
            {"approval-mode-not-auto-in-prod": {"prod_stacks": ["production"]}},
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_parameters_widen_what_is_allowed(
    case_id: str, policy_config: dict[str, Any], tmp_path: Path
) -> None:
    case = bad_program(case_id)

    assert check_program(case.program, tmp_path, stack=case.stack, policy_config=policy_config) == []


def test_hosting_targets_stop_being_allowed_when_switched_off(tmp_path: Path) -> None:
    program = bad_program("all-users-on-service-not-behind-hosting").program
    config = {"no-public-invokers": {"allow_hosting_targets": False}}

    violations = check_program(program, tmp_path, policy_config=config)

    assert {v.policy for v in violations} == {"no-public-invokers"}
    assert any("public-api" in v.message for v in violations)
    assert any("internal-api" in v.message for v in violations)


def test_prod_rules_apply_to_the_stacks_listed_as_prod(tmp_path: Path) -> None:
    program = bad_program("prod-database-without-delete-protection").program
    config = {"prod-data-protection": {"prod_stacks": ["staging"]}}

    violations = check_program(program, tmp_path, stack="staging", policy_config=config)

    assert {v.policy for v in violations} == {"prod-data-protection"}


# --- The CLI -------------------------------------------------------------------------------


def program_file(folder: Path, body: str) -> Path:
    path = folder / "program.py"
    path.write_text(f"from tests.policies.bad_programs import bucket\n\n{body}\n")
    return path


def test_cli_exits_0_when_only_advisory_violations(tmp_path: Path) -> None:
    result = run_check(str(program_file(tmp_path, "bucket({})")))

    assert result.returncode == 0, result.stdout + result.stderr
    [line] = violation_lines(result.stdout)
    assert line.group(1, 2) == ("ADVISORY", "required-labels")
    assert line.group(3).endswith("::reports")
    assert "managed-by" in line.group(4)


def test_cli_exits_1_on_a_mandatory_violation(tmp_path: Path) -> None:
    result = run_check(str(program_file(tmp_path, "bucket(uniform=False)")))

    assert result.returncode == 1, result.stdout + result.stderr
    [line] = violation_lines(result.stdout)
    assert line.group(1, 2) == ("MANDATORY", "bucket-access-hardened")
    assert "uniformBucketLevelAccess" in line.group(4)


def test_cli_reads_policy_config_from_a_json_file(tmp_path: Path) -> None:
    config = tmp_path / "policy-config.json"
    config.write_text(json.dumps({"bucket-access-hardened": {"enforcementLevel": "advisory"}}))

    result = run_check(str(program_file(tmp_path, "bucket(uniform=False)")), "--policy-config", str(config))

    assert result.returncode == 0, result.stdout + result.stderr
    assert [line.group(1, 2) for line in violation_lines(result.stdout)] == [
        ("ADVISORY", "bucket-access-hardened")
    ]


def test_cli_stack_config_overrides_reach_the_program() -> None:
    result = run_check("__main__.py", "--stack", "prod", "--config", "approvals:deletionProtection=false")

    assert result.returncode == 1, result.stdout + result.stderr
    lines = violation_lines(result.stdout)
    assert {line.group(2) for line in lines} == {"prod-data-protection"}
    assert all(line.group(1) == "MANDATORY" for line in lines)


def test_cli_exits_2_when_the_program_fails(tmp_path: Path) -> None:
    result = run_check(str(program_file(tmp_path, "raise ValueError('approvals:region is not a region')")))

    assert result.returncode == 2
    assert "approvals:region is not a region" in result.stderr
