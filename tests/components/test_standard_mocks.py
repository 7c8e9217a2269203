"""The components under Pulumi's own documented unit-test mocks, as a consumer's tests run them.

Those mocks answer every resource with its inputs as its outputs: nothing the provider
computes (names, e-mails, URLs) is known. The components must build their graph from
what they were given, never by parsing a computed value.
"""

from typing import Any

import pulumi

from approvals import ApprovalPlatform, ApprovalPlatformArgs, ApprovalWorkflow, ApprovalWorkflowArgs
from approvals.testing import RecordingMonitor


class InputsAsOutputs(pulumi.runtime.Mocks):
    """The mocks of Pulumi's unit-testing guide."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}_id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


def test_the_platform_and_a_workflow_build_under_inputs_as_outputs_mocks() -> None:
    mocks = InputsAsOutputs()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project="team", stack="dev", preview=False, monitor=monitor)

    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        platform = ApprovalPlatform("approvals", ApprovalPlatformArgs(project="team-project"))
        deploys = ApprovalWorkflow(
            "deploys",
            ApprovalWorkflowArgs(
                platform=platform,
                template="deploy_approval",
                approvers=["release@example.com"],
                params={"DEPLOY_WEBHOOK_URL": "https://ci.example.com/deploy"},
            ),
        )
        return pulumi.Output.all(platform.database_name, deploys.workflow_name)

    program()
    graph = monitor.graph({})
    readers = {
        r.name: r.inputs["serviceConfig"]["secretEnvironmentVariables"]
        for r in graph.of_type("gcp:cloudfunctionsv2/function:Function")
        if r.inputs["serviceConfig"].get("secretEnvironmentVariables")
    }

    assert sorted(readers) == ["approvals-link", "approvals-notify"]
    assert all(env[0]["secret"] == "approvals-link-key" for env in readers.values())
    assert len(graph.within("approvals:index:ApprovalWorkflow", "gcp:workflows/workflow:Workflow")) == 1
