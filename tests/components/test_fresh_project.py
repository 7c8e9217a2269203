"""A team's first `pulumi up` on an empty project, rehearsed offline.

The captured graph is replayed in dependency order against a model of a brand-new
project (policies/fresh_project.py): every API off, Firebase not added. Each finding
is something Google would refuse, or a later deploy would trip on.
"""

import functools
import itertools
import json
from pathlib import Path

import pytest
import yaml

from approvals import ApprovalPlatform, ApprovalPlatformArgs
from approvals.iam import IAM_PROPAGATION
from approvals.naming import CUSTOM_ROLE_ID_LENGTH
from approvals.platform import PLATFORM_APIS
from approvals.policies.check import stack_resources
from approvals.policies.deployability import rehearse
from approvals.policies.fresh_project import upstream
from approvals.testing import Graph, capture
from tests.components.test_reference_stack import function_of
from tests.policies.bad_deployments import DEPLOYABILITY_PROGRAMS, deploys_on_a_fresh_project
from tests.policies.bad_programs import BadProgram, service_account

REPO = Path(__file__).resolve().parents[2]
CONFIG = {"gcp:project": "approvals-test"}
SERVICE = "gcp:projects/service:Service"


def findings(graph: Graph, enabled_outside: tuple[str, ...] = ()) -> list[str]:
    return [
        f"{f.rule} {f.urn.rsplit('::', 1)[-1]}: {f.message}"
        for f in rehearse(stack_resources(graph), enabled_outside)
    ]


def waits_for(graph: Graph) -> dict[str, set[str]]:
    """urn -> every urn it waits for, directly or through others."""
    return upstream(stack_resources(graph))


def enabling(graph: Graph, api: str) -> str:
    return next(r.urn for r in graph.of_type(SERVICE) if r.inputs["service"] == api)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_reference_stack_deploys_on_a_fresh_project(stack: str, request: pytest.FixtureRequest) -> None:
    graph = request.getfixturevalue(f"{stack}_graph")

    assert findings(graph) == []


@pytest.mark.parametrize("case", DEPLOYABILITY_PROGRAMS, ids=lambda case: case.id)
def test_a_program_breaking_one_rule_fails_the_rehearsal(case: BadProgram, tmp_path: Path) -> None:
    graph = capture(functools.partial(case.program, tmp_path), config=CONFIG)

    failed = rehearse(stack_resources(graph))

    assert {f.rule for f in failed} >= {case.policy}
    assert any(all(name in f.message for name in case.names) for f in failed if f.rule == case.policy)


def test_the_same_program_done_right_passes(tmp_path: Path) -> None:
    graph = capture(functools.partial(deploys_on_a_fresh_project, tmp_path), config=CONFIG)

    assert findings(graph) == []


def test_a_stack_enabling_no_api_fails_on_a_fresh_project_unless_told_they_are_on() -> None:
    graph = capture(lambda: service_account("reports-runner"), config=CONFIG)

    assert [f.split(":")[0] for f in findings(graph)] == ["apis-enabled-before-use reports-runner"]
    assert findings(graph, enabled_outside=("iam.googleapis.com",)) == []


def test_accounts_and_roles_wait_for_iam_and_grants_for_resource_manager(dev_graph: Graph) -> None:
    before = waits_for(dev_graph)
    iam, resource_manager = (
        enabling(dev_graph, api) for api in ("iam.googleapis.com", "cloudresourcemanager.googleapis.com")
    )
    accounts = dev_graph.of_type("gcp:serviceaccount/account:Account")
    roles = dev_graph.of_type("gcp:projects/iAMCustomRole:IAMCustomRole")
    grants = dev_graph.of_type("gcp:projects/iAMMember:IAMMember")

    assert len(accounts) >= 10 and roles and grants
    assert all(iam in before[r.urn] for r in (*accounts, *roles))
    assert all(resource_manager in before[g.urn] for g in grants)


def test_the_page_signs_in_from_every_domain_hosting_serves_it_on(dev_graph: Graph) -> None:
    [site] = dev_graph.of_type("gcp:firebase/hostingSite:HostingSite")
    [config] = dev_graph.of_type("gcp:identityplatform/config:Config")
    site_id = site.inputs["siteId"]

    assert site_id == "approvals-dev-approvals"
    assert config.inputs["project"] == "approvals-dev"
    assert config.inputs["authorizedDomains"] == [
        "localhost",
        "approvals-dev.web.app",
        "approvals-dev.firebaseapp.com",
        f"{site_id}.web.app",
        f"{site_id}.firebaseapp.com",
    ]


def platform_graph(**kwargs: object) -> Graph:
    return capture(lambda: ApprovalPlatform("approvals", ApprovalPlatformArgs(**kwargs)), config=CONFIG)  # type: ignore[arg-type]


def test_a_custom_domain_and_site_are_authorized_too() -> None:
    graph = platform_graph(hosting_site_id="team-approvals", authorized_domains=["Approvals.Example.com"])
    [config] = graph.of_type("gcp:identityplatform/config:Config")

    assert config.inputs["authorizedDomains"][-3:] == [
        "team-approvals.web.app",
        "team-approvals.firebaseapp.com",
        "approvals.example.com",
    ]
    # A service account's ID token for start may name start's URL on each of those domains.
    start = function_of(graph, "start")
    assert json.loads(start.inputs["serviceConfig"]["environmentVariables"]["APPROVALS_START_AUDIENCES"]) == [
        "https://team-approvals.web.app/api/start",
        "https://team-approvals.firebaseapp.com/api/start",
        "https://approvals.example.com/api/start",
    ]


@pytest.mark.parametrize(
    "kwargs",
    [{"manage_sign_in_domains": False}, {"firebase_project_id": "identity-hub"}],
    ids=["off", "elsewhere"],
)
def test_sign_in_domains_are_left_alone_when_asked_or_auth_lives_elsewhere(kwargs: dict[str, object]) -> None:
    assert platform_graph(**kwargs).of_type("gcp:identityplatform/config:Config") == []


def test_firebase_is_added_before_the_web_app_and_the_site(dev_graph: Graph) -> None:
    before = waits_for(dev_graph)
    [firebase] = dev_graph.of_type("gcp:firebase/project:Project")
    needing = [
        *dev_graph.of_type("gcp:firebase/webApp:WebApp"),
        *dev_graph.of_type("gcp:firebase/hostingSite:HostingSite"),
        *dev_graph.of_type("gcp:identityplatform/config:Config"),
    ]

    assert firebase.inputs["project"] == "approvals-dev"
    assert len(needing) == 3
    assert all(firebase.urn in before[r.urn] for r in needing)


def test_function_builds_wait_for_the_build_grants_to_propagate(dev_graph: Graph) -> None:
    before = waits_for(dev_graph)
    [pause] = dev_graph.of_type("time:index/sleep:Sleep")
    build_grants = [
        g.urn
        for g in dev_graph.of_type("gcp:projects/iAMMember:IAMMember")
        if g.name.startswith("approvals-build-")
    ]
    functions = dev_graph.of_type("gcp:cloudfunctionsv2/function:Function")

    assert pause.inputs["createDuration"] == IAM_PROPAGATION == "120s"
    assert len(build_grants) == 3 and set(build_grants) <= before[pause.urn]
    assert len(functions) == 8 and all(pause.urn in before[f.urn] for f in functions)


def test_a_long_platform_name_keeps_every_id_within_google_limits() -> None:
    name = "approvals-for-the-finance-and-procurement-departments-of-emea"
    graph = capture(lambda: ApprovalPlatform(name, ApprovalPlatformArgs()), config=CONFIG)
    role_ids = [r.inputs["roleId"] for r in graph.of_type("gcp:projects/iAMCustomRole:IAMCustomRole")]

    assert findings(graph) == []
    assert len(role_ids) == 4 and len(set(role_ids)) == 4
    assert all(len(role_id) <= CUSTOM_ROLE_ID_LENGTH for role_id in role_ids)
    assert {role_id.rsplit("_", 1)[-1] for role_id in role_ids} == {
        "callbackSender",
        "executionCanceller",
        "executionStarter",
        "executionViewer",
    }


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_example_stacks_bill_firebase_api_calls_to_their_project(stack: str) -> None:
    config = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]

    assert config["gcp:userProjectOverride"] is True
    assert config["gcp:billingProject"] == config["gcp:project"]


def test_a_platform_that_leaves_apis_to_others_needs_exactly_the_apis_it_lists() -> None:
    graph = platform_graph(enable_apis=False)

    assert graph.of_type(SERVICE) == []
    assert any("cloudresourcemanager.googleapis.com" in f for f in findings(graph))
    assert findings(graph, enabled_outside=PLATFORM_APIS) == []


def test_rules_release_is_replaced_delete_first(dev_graph: Graph) -> None:
    [release] = dev_graph.of_type("gcp:firebaserules/release:Release")

    assert release.delete_before_replace


def test_indexes_are_created_one_after_another(dev_graph: Graph) -> None:
    before = waits_for(dev_graph)
    indexes = dev_graph.of_type("gcp:firestore/index:Index")

    assert len(indexes) == 5
    assert all(earlier.urn in before[later.urn] for earlier, later in itertools.pairwise(indexes))


def test_functions_reading_the_link_key_wait_for_their_access(dev_graph: Graph) -> None:
    before = waits_for(dev_graph)
    accessors = {
        r.name.removeprefix("approvals-").removesuffix("-link-key-accessor"): r.urn
        for r in dev_graph.of_type("gcp:secretmanager/secretIamMember:SecretIamMember")
    }
    functions = {r.name: r for r in dev_graph.of_type("gcp:cloudfunctionsv2/function:Function")}

    assert sorted(accessors) == ["link", "notify"]
    for reader, accessor in accessors.items():
        assert accessor in before[functions[f"approvals-{reader}"].urn]
