"""Every private part of Pulumi and pulumi-policy this package relies on, in one place.

Running a program offline needs more than Pulumi's public mock API gives: the options
each resource was registered with (parent, dependencies, protect, delete-before-replace),
the stack's exports, and properties as the engine sends them to a policy (secrets plain,
unknowns as sentinels). Checking it as the CLI's analyzer would needs pulumi-policy's
unknown-value proxy and its not-applicable signal, neither of which the package exports.

Each name here has a contract test (tests/policies/test_pulumi_internals.py), so a
Pulumi upgrade that moves one fails that test first, not the local stack and the policy
check at once. The module lives in the pack because the pack is the one part that ships
on its own: the Pulumi CLI installs only the pack's requirements.txt beside it.

pulumi-policy stays an optional extra (it pins protobuf to 5.29, which a team's stack may
not allow), so its names load on first use and running a program under mocks does not
need it.
"""

import asyncio
import importlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple

import pulumi
from pulumi.output import Unknown
from pulumi.runtime import mocks, rpc

if TYPE_CHECKING:
    from pulumi_policy.policy import _NotApplicableError as NotApplicableError
    from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

__all__ = [
    "UNKNOWN",
    "NotApplicableError",
    "Registration",
    "RegistrationRecorder",
    "UnknownValueError",
    "plain",
    "run_under_mocks",
    "unknown_checking_proxy",
]

UNKNOWN = rpc.UNKNOWN
"""The sentinel the engine sends a policy for a value a preview cannot know (a string's)."""

_FROM_PULUMI_POLICY = {
    # What a policy's `args.not_applicable()` raises; the analyzer reports nothing then.
    "NotApplicableError": ("pulumi_policy.policy", "_NotApplicableError"),
    # What reading an unknown value through the proxy raises; the analyzer reports
    # "can't run policy during preview" then.
    "UnknownValueError": ("pulumi_policy.proxy", "UnknownValueError"),
    # The mapping the analyzer hands a policy, raising UnknownValueError on an unknown.
    "unknown_checking_proxy": ("pulumi_policy.proxy", "unknown_checking_proxy"),
}


def __getattr__(name: str) -> Any:
    if name not in _FROM_PULUMI_POLICY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = _FROM_PULUMI_POLICY[name]
    return getattr(importlib.import_module(module), attribute)


class Registration(NamedTuple):
    """One resource as the program registered it with the engine."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    dependencies: tuple[str, ...]
    property_dependencies: dict[str, tuple[str, ...]]
    delete_before_replace: bool
    protect: bool


class RegistrationRecorder(mocks.MockMonitor):
    """Pulumi's mock engine, also keeping each registration's options, which `Mocks` never sees."""

    def __init__(self, mock_provider: mocks.Mocks) -> None:
        super().__init__(mock_provider)
        self.registrations: list[Registration] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the engine's RPC name
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registrations.append(
                Registration(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent,
                    custom=request.custom,
                    # The base class has deserialized the same struct on this thread's loop.
                    inputs=rpc.deserialize_properties(request.object),
                    dependencies=tuple(request.dependencies),
                    property_dependencies={
                        key: tuple(deps.urns) for key, deps in request.propertyDependencies.items()
                    },
                    delete_before_replace=request.deleteBeforeReplace,
                    protect=request.protect,
                )
            )
        return response

    def state(self, urn: str) -> dict[str, Any]:
        """The outputs the mocks answered for `urn`."""
        return dict(self.get_registered_resources()[urn].state)


def plain(properties: dict[str, Any]) -> dict[str, Any]:
    """Properties as a policy receives them: secret values plain (the engine marks a secret nested
    anywhere in a property on the top-level property), and a value unknown during a preview as
    the sentinel the engine sends for it."""

    def wire(value: Any) -> Any:
        if isinstance(value, Unknown):
            return UNKNOWN
        if isinstance(value, dict):
            return {key: wire(item) for key, item in value.items()}
        if isinstance(value, list):
            return [wire(item) for item in value]
        return value

    return {key: wire(rpc.unwrap_rpc_secret(value)) for key, value in properties.items()}


def run_under_mocks(
    program: Callable[[], object],
    *,
    mock_provider: mocks.Mocks,
    monitor: mocks.MockMonitor,
    project: str,
    stack: str,
    config: dict[str, str],
    preview: bool,
) -> dict[str, Any]:
    """Run `program` on a fresh root stack against `monitor`; return what it exported.

    During a preview an export that depends on an unknown value is left out; the others are
    returned, as `pulumi preview` shows them.
    """
    pulumi.runtime.set_all_config(config)
    # A fresh root stack per run, so the exports of an earlier run do not leak in.
    pulumi.runtime.reset_options(project=project, stack=stack, preview=preview)
    pulumi.runtime.set_mocks(mock_provider, project=project, stack=stack, preview=preview, monitor=monitor)
    exported: dict[str, Any] = {}

    @pulumi.runtime.test
    def run() -> pulumi.Output[list[None]]:
        program()
        # `pulumi.export` keeps the values on the root stack resource's `outputs`. Each is
        # resolved alone, so one unknown during a preview leaves the others, as the CLI shows them.
        stack_outputs = getattr(pulumi.runtime.get_root_resource(), "outputs", {})
        return pulumi.Output.all(
            *(
                pulumi.Output.from_input(value).apply(lambda known, key=key: exported.__setitem__(key, known))
                for key, value in stack_outputs.items()
            )
        )

    with _rpc_threads():
        run()
    return exported


@contextmanager
def _rpc_threads() -> Iterator[None]:
    """For one run, the threads the runtime sends its RPCs from, each with an event loop that
    is closed when the run ends; then the host's loop gets its own executor back.

    Left to itself, the runtime gives each thread a loop that nothing closes; at interpreter
    exit the garbage collector may close a loop's socket before the loop, which prints
    "Exception ignored ... Invalid file descriptor" under a check that passed.
    """
    loops: list[asyncio.AbstractEventLoop] = []

    def give_thread_a_loop() -> None:
        loops.append(asyncio.new_event_loop())
        asyncio.set_event_loop(loops[-1])

    host = _current_loop()
    # asyncio has no public getter: the executor `run_in_executor(None, ...)` uses, or None.
    previous = host._default_executor
    workers = ThreadPoolExecutor(thread_name_prefix="pulumi-rpc", initializer=give_thread_a_loop)
    host.set_default_executor(workers)
    try:
        yield
    finally:
        workers.shutdown(wait=True)
        host._default_executor = previous
        for loop in loops:
            loop.close()


def _current_loop() -> asyncio.AbstractEventLoop:
    """The loop the runtime will run on: this thread's, made if it has none (as the runtime does)."""
    try:
        return asyncio.get_event_loop()
    except RuntimeError:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        return loop
