"""A workflow joins a platform another stack deployed, by that stack's outputs; values known
only later (Outputs) are checked as they resolve, plain ones at construction."""

from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from approvals import (
    PLATFORM_OUTPUT,
    ApprovalPlatform,
    ApprovalPlatformArgs,
    ApprovalWorkflow,
    ApprovalWorkflowArgs,
    InvalidArgumentError,
    PlatformReference,
)
from approvals.testing import Graph, capture

PLATFORM_STACK = "acme/approvals/dev"
CONFIG = {"gcp:project": "approvals-dev"}
EXPENSE_PARAMS = {"FINANCE_APPROVERS": ["finance@example.com"]}
CI = "serviceAccount:ci@approvals-dev.iam.gserviceaccount.com"


@pytest.fixture(scope="module")
def exported(dev_graph: Graph) -> dict[str, Any]:
    """What the reference stack exports for other stacks."""
    return dev_graph.outputs[PLATFORM_OUTPUT]


def payments(platform: ApprovalPlatform | PlatformReference, approvers: list[str]) -> ApprovalWorkflow:
    workflow = ApprovalWorkflow(
        "payments",
        ApprovalWorkflowArgs(
            platform=platform, template="expense_approval", approvers=approvers, params=EXPENSE_PARAMS
        ),
    )
    workflow.grant_invoke("ci", CI)
    return workflow


def in_workflow_stack(program: Callable[[], object], outputs: dict[str, Any]) -> Graph:
    return capture(program, config=CONFIG, stacks={PLATFORM_STACK: {PLATFORM_OUTPUT: outputs}})


def test_a_workflow_joins_the_platform_another_stack_exported(dev_graph: Graph, exported: dict) -> None:
    graph = in_workflow_stack(
        lambda: payments(ApprovalPlatform.from_stack_reference(PLATFORM_STACK), ["group:reviewers"]), exported
    )

    assert not graph.of_type("approvals:index:ApprovalPlatform")
    component = graph.named("payments", "approvals:index:ApprovalWorkflow")
    workflow = graph.named("payments", "gcp:workflows/workflow:Workflow")
    assert (workflow.inputs["project"], workflow.inputs["region"]) == ("approvals-dev", "europe-west1")
    assert workflow.inputs["labels"]["app"] == "approvals"
    # The platform's env vars, as a workflow of the platform's own stack gets them.
    own = dev_graph.named("translation-validation", "gcp:workflows/workflow:Workflow").inputs["userEnvVars"]
    platform_env = {key: value for key, value in own.items() if key.startswith("APPROVALS_")}
    assert platform_env
    assert platform_env.items() <= workflow.inputs["userEnvVars"].items()

    registration = graph.named("payments-registration", "gcp:firestore/document:Document")
    assert registration.inputs["collection"] == exported["collections"]["workflows"]
    assert registration.inputs["database"] == exported["database_name"]
    # The default requesters come from the referenced platform's group members.
    assert '\\"domain:example.com\\"' in registration.inputs["fields"]

    # The grants a live platform would own hang under the workflow here.
    owned = graph.children(component)
    database_user = next(r for r in owned if r.inputs.get("role") == "roles/datastore.user")
    assert database_user.inputs["condition"]["expression"] == (
        'resource.name == "projects/approvals-dev/databases/(default)"'
    )
    publisher = next(r for r in owned if r.type == "gcp:pubsub/topicIAMMember:TopicIAMMember")
    assert publisher.inputs["topic"] == exported["events_topic_name"]
    invoker = next(r for r in owned if r.inputs.get("member") == CI)
    assert invoker.inputs["role"] == exported["execution_starter_role"]


def test_by_ids_a_workflow_joins_a_platform_with_plain_values(exported: dict) -> None:
    graph = in_workflow_stack(
        lambda: payments(ApprovalPlatform.from_outputs(exported), ["rex@example.com"]), {}
    )
    workflow = graph.named("payments", "gcp:workflows/workflow:Workflow")
    assert workflow.inputs["userEnvVars"]["APPROVALS_EVENTS_TOPIC"] == exported["events_topic_name"]


def test_a_bad_plain_value_fails_at_construction(exported: dict) -> None:
    with pytest.raises(InvalidArgumentError, match=r"PlatformReference\.project: 'Not_A_Project'"):
        ApprovalPlatform.from_outputs({**exported, "project": "Not_A_Project"})
    with pytest.raises(InvalidArgumentError, match=r"PlatformReference\.collections"):
        ApprovalPlatform.from_outputs({**exported, "collections": {"requests": "a/b"}})


@pytest.mark.parametrize(
    ("change", "approvers", "message"),
    [
        ({"project": "Not_A_Project"}, ["rex@example.com"], r"PlatformReference\.project: 'Not_A_Project'"),
        ({"events_topic_name": "topic"}, ["rex@example.com"], r"PlatformReference\.events_topic_name"),
        (
            {"groups": {"legal": ["lee@example.com"]}},
            ["group:reviewers"],
            r"ApprovalWorkflowArgs\.approvers: group:reviewers is not declared",
        ),
    ],
)
def test_a_bad_value_from_another_stack_fails_the_deployment_naming_it(
    exported: dict, change: dict, approvers: list[str], message: str
) -> None:
    program = lambda: payments(ApprovalPlatform.from_stack_reference(PLATFORM_STACK), approvers)  # noqa: E731
    # Pulumi wraps an apply's error in the resource whose input it was: the message still names the argument.
    with pytest.raises(ValueError, match=message):
        in_workflow_stack(program, {**exported, **change})


def platform_in(region: pulumi.Input[str]) -> Callable[[], object]:
    return lambda: ApprovalPlatform("approvals", ApprovalPlatformArgs(region=region))


def test_an_output_region_is_checked_when_it_resolves() -> None:
    graph = capture(platform_in(pulumi.Output.from_input("europe-west4")), config=CONFIG)
    functions = graph.of_type("gcp:cloudfunctionsv2/function:Function")
    assert functions
    assert {f.inputs["location"] for f in functions} == {"europe-west4"}

    with pytest.raises(ValueError, match=r"ApprovalPlatformArgs\.region: 'Europe West' is not valid"):
        capture(platform_in(pulumi.Output.from_input("Europe West")), config=CONFIG)


def test_a_workflow_region_plain_fails_now_and_as_an_output_when_it_resolves(exported: dict) -> None:
    def program(region: pulumi.Input[str]) -> Callable[[], object]:
        return lambda: ApprovalWorkflow(
            "payments",
            ApprovalWorkflowArgs(
                platform=ApprovalPlatform.from_outputs(exported),
                template="expense_approval",
                approvers=["rex@example.com"],
                params=EXPENSE_PARAMS,
                region=region,
            ),
        )

    with pytest.raises(InvalidArgumentError, match=r"ApprovalWorkflowArgs\.region: 'mars'"):
        in_workflow_stack(program("mars"), {})
    with pytest.raises(ValueError, match=r"ApprovalWorkflowArgs\.region: 'mars' is not valid"):
        in_workflow_stack(program(pulumi.Output.from_input("mars")), {})
    graph = in_workflow_stack(program(pulumi.Output.from_input("us-central1")), {})
    assert graph.named("payments", "gcp:workflows/workflow:Workflow").inputs["region"] == "us-central1"


class WorkflowStackMocks(pulumi.runtime.Mocks):
    """A consumer's mocks, as Pulumi's unit-testing guide writes them, plus the platform's stack."""

    def __init__(self, platform_outputs: dict[str, Any]) -> None:
        self.platform_outputs = platform_outputs

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ == "pulumi:pulumi:StackReference":
            return args.name, {**args.inputs, "outputs": {PLATFORM_OUTPUT: self.platform_outputs}}
        return f"{args.name}_id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


def test_a_consumers_unit_test_of_its_workflow_stack(exported: dict) -> None:
    pulumi.runtime.set_mocks(WorkflowStackMocks(exported), project="payments", stack="dev", preview=False)
    seen: dict[str, Any] = {}

    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        platform = ApprovalPlatform.from_stack_reference(pulumi.StackReference(PLATFORM_STACK))
        workflow = payments(platform, ["rex@example.com"])
        return pulumi.Output.all(workflow.workflow_name, workflow.workflow.user_env_vars).apply(
            lambda values: seen.update(name=values[0], env=values[1])
        )

    program()
    assert seen["name"] == "projects/approvals-dev/locations/europe-west1/workflows/payments"
    assert seen["env"]["APPROVALS_DATABASE"] == exported["database_name"]
