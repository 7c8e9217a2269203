"""The private parts of Pulumi and pulumi-policy the package relies on, one contract each.

They all live in `approvals.policies.pulumi_internals`. When a Pulumi or pulumi-policy
upgrade changes one of them, the test named after it fails here, with what changed,
before the local stack and the policy check fail in ways that say nothing about why.
"""

import asyncio
import subprocess
import sys
import threading
from typing import Any

import pulumi
import pytest
from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy

from approvals.policies import pulumi_internals
from approvals.policies.pulumi_internals import (
    UNKNOWN,
    NotApplicableError,
    Registration,
    RegistrationRecorder,
    UnknownValueError,
    plain,
    run_under_mocks,
    unknown_checking_proxy,
)


class Echo(pulumi.runtime.Mocks):
    """Answers each resource with its inputs, plus an id; a `hostname` only outside a preview."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


class Thing(pulumi.CustomResource):
    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("test:index:Thing", name, props, opts)


def run(program: Any, *, preview: bool = False) -> tuple[RegistrationRecorder, dict[str, Any]]:
    mocks = Echo()
    monitor = RegistrationRecorder(mocks)
    exported = run_under_mocks(
        program, mock_provider=mocks, monitor=monitor, project="p", stack="s", config={}, preview=preview
    )
    return monitor, exported


def registered(monitor: RegistrationRecorder, name: str) -> Registration:
    return next(r for r in monitor.registrations if r.name == name)


def test_the_recorder_sees_each_registrations_parent_dependencies_and_options() -> None:
    def program() -> None:
        group = pulumi.ComponentResource("test:index:Group", "group")
        first = Thing("first", {"size": 1}, pulumi.ResourceOptions(parent=group))
        Thing(
            "second",
            {"after": first.id},
            pulumi.ResourceOptions(
                parent=group, depends_on=[first], protect=True, delete_before_replace=True
            ),
        )

    monitor, _ = run(program)
    group, first, second = (registered(monitor, name) for name in ("group", "first", "second"))

    assert [r.name for r in monitor.registrations] == ["group", "first", "second"]
    assert (group.custom, first.custom) == (False, True)
    assert first.parent == second.parent == group.urn
    assert first.urn in second.dependencies
    assert second.property_dependencies["after"] == (first.urn,)
    assert (second.protect, second.delete_before_replace) == (True, True)
    assert (first.protect, first.delete_before_replace) == (False, False)
    assert second.inputs == {"after": "first-id"}


def test_the_recorder_reads_back_what_the_mocks_answered() -> None:
    class Answering(Echo):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
            return f"{args.name}-id", {**args.inputs, "selfLink": f"https://storage/{args.name}"}

    mocks = Answering()
    monitor = RegistrationRecorder(mocks)
    run_under_mocks(
        lambda: Thing("bucket", {"location": "EU"}),
        mock_provider=mocks,
        monitor=monitor,
        project="p",
        stack="s",
        config={},
        preview=False,
    )

    bucket = registered(monitor, "bucket")
    assert bucket.inputs == {"location": "EU"}
    assert monitor.state(bucket.urn) == {"location": "EU", "selfLink": "https://storage/bucket"}


def test_plain_reveals_secrets_as_the_engine_hands_them_to_a_policy() -> None:
    def program() -> None:
        Thing("db", {"password": pulumi.Output.secret("s3cret"), "settings": {"tier": "small"}})

    monitor, _ = run(program)
    inputs = registered(monitor, "db").inputs

    assert inputs["password"] != "s3cret", "the secret arrives wrapped, or there is nothing to unwrap"
    assert plain(inputs) == {"password": "s3cret", "settings": {"tier": "small"}}


def test_plain_turns_a_preview_unknown_into_the_sentinel_the_policy_proxy_refuses() -> None:
    def program() -> None:
        server = Thing("server", {})
        # An output no one set is unknown during a preview.
        address = server.id.apply(lambda _: pulumi.Output.from_input(pulumi.UNKNOWN))
        Thing("record", {"target": address, "nested": {"items": [address]}})

    monitor, _ = run(program, preview=True)
    properties = unknown_checking_proxy(plain(registered(monitor, "record").inputs))

    assert plain(registered(monitor, "record").inputs)["target"] == UNKNOWN
    with pytest.raises(UnknownValueError) as raised:
        properties["target"]
    assert "can't be known during preview" in raised.value.message
    assert ".target" in raised.value.message
    with pytest.raises(UnknownValueError):
        properties["nested"]["items"][0]


def test_a_preview_returns_the_exports_it_knows_and_leaves_out_the_unknown_one() -> None:
    def program() -> None:
        pulumi.export("site", "https://a.example")
        pulumi.export(
            "address", Thing("server", {}).id.apply(lambda _: pulumi.Output.from_input(pulumi.UNKNOWN))
        )

    _, exported = run(program, preview=True)

    assert exported == {"site": "https://a.example"}


def test_run_under_mocks_returns_the_exports_of_this_run_only() -> None:
    _, first = run(lambda: pulumi.export("site", "https://a.example"))
    _, second = run(lambda: pulumi.export("other", Thing("x", {"v": 2}).id))

    assert first == {"site": "https://a.example"}
    assert second == {"other": "x-id"}


def test_run_under_mocks_raises_the_programs_own_error_with_its_frames() -> None:
    def program() -> None:
        raise ValueError("bad region")

    with pytest.raises(ValueError, match="bad region") as raised:
        run(program)
    assert any(frame.name == "program" for frame in raised.traceback)


def test_a_policy_marking_itself_not_applicable_raises_the_private_signal() -> None:
    def validate(args: ResourceValidationArgs, report: Any) -> None:
        args.not_applicable("only buckets")

    policy = ResourceValidationPolicy("only-buckets", "Buckets only.", validate, EnforcementLevel.MANDATORY)
    args = ResourceValidationArgs("test:index:Thing", {}, "urn", "x", None, None, {}, {})

    with pytest.raises(NotApplicableError):
        policy.validate(args, lambda message, urn=None: None)


def test_an_unknown_name_is_an_attribute_error_naming_it() -> None:
    with pytest.raises(AttributeError, match="private_thing"):
        _ = pulumi_internals.private_thing


def test_running_a_program_under_mocks_does_not_need_pulumi_policy() -> None:
    """It pins protobuf 5.29, so it is an extra; approvals.testing must import without it."""
    probe = "import sys, approvals.testing; print('pulumi_policy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "False"


def test_the_runtime_sends_its_rpcs_from_threads_that_end_with_the_run() -> None:
    """Their event loops are closed then, not left for the interpreter's exit, where closing
    them prints "Exception ignored ... Invalid file descriptor" after a passing check."""
    seen: list[str] = []

    class Watching(Echo):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
            seen.append(threading.current_thread().name)
            return super().new_resource(args)

    mocks = Watching()
    run_under_mocks(
        lambda: Thing("x", {}),
        mock_provider=mocks,
        monitor=RegistrationRecorder(mocks),
        project="p",
        stack="s",
        config={},
        preview=False,
    )

    assert seen and all(name.startswith("pulumi-rpc") for name in seen)
    assert not [t for t in threading.enumerate() if t.name.startswith("pulumi-rpc")]


def test_after_a_run_the_host_loop_and_pulumi_s_own_test_runner_still_work() -> None:
    """The run lends the host's event loop an executor of its own and gives the host's back."""
    run(lambda: Thing("first", {}))
    loop = asyncio.get_event_loop()

    assert loop.run_until_complete(loop.run_in_executor(None, lambda: "from a thread")) == "from a thread"

    mocks = Echo()
    pulumi.runtime.set_mocks(mocks, project="p", stack="s", preview=False)

    @pulumi.runtime.test
    def plain_pulumi_test() -> pulumi.Output[str]:
        return Thing("second", {"size": 2}).id.apply(lambda id_: id_)

    plain_pulumi_test()


def test_an_unknown_value_error_is_built_from_a_sentinel_and_a_path() -> None:
    """Stack policies build one naming the resource, to report after checking the others."""
    error = UnknownValueError(UNKNOWN, ["api-invoker", "member"])

    assert (error.unknown_type_sentinel, error.props) == (UNKNOWN, ["api-invoker", "member"])
    assert error.message == "string value at .api-invoker.member can't be known during preview"
