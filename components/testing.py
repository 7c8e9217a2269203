"""Run a Pulumi program offline, under mocks, and capture its resource graph.

The Pulumi CLI is not needed: the program runs in this process against a mock
engine that answers like Google would for the outputs the components read
(service account e-mails, function URLs, hosting URLs). Tests, benchmarks, the
policy pack and the local stack runner all look at the same captured graph.
"""

import hashlib
import json
import runpy
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import yaml

from approvals.policies.pulumi_internals import RegistrationRecorder, plain, run_under_mocks

DEFAULT_PROJECT_ID = "approvals-test"


@dataclass(frozen=True)
class CapturedResource:
    """One registered resource: what the program asked for, and where it hangs."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    dependencies: tuple[str, ...]
    property_dependencies: dict[str, tuple[str, ...]]
    """Which resources each input property's value came from."""
    delete_before_replace: bool
    protect: bool


@dataclass(frozen=True)
class Graph:
    """The resources a program registered, in order, and its stack outputs."""

    resources: tuple[CapturedResource, ...]
    outputs: dict[str, Any]

    def of_type(self, type_token: str) -> list[CapturedResource]:
        return [r for r in self.resources if r.type == type_token]

    def named(self, name: str, type_token: str | None = None) -> CapturedResource:
        """The one resource called `name` (a component and its main child often share it)."""
        matches = [r for r in self.resources if r.name == name and type_token in (None, r.type)]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources are named {name!r} (type {type_token})")
        return matches[0]

    def by_urn(self, urn: str) -> CapturedResource:
        return next(r for r in self.resources if r.urn == urn)

    def children(self, parent: CapturedResource) -> list[CapturedResource]:
        return [r for r in self.resources if r.parent == parent.urn]

    def within(self, component_type: str, type_token: str) -> list[CapturedResource]:
        """The ``type_token`` resources whose parent is a ``component_type`` component, e.g. the
        approval workflows (in ApprovalWorkflow) and not the platform's own.
        """
        parents = {r.urn for r in self.of_type(component_type)}
        return [r for r in self.of_type(type_token) if r.parent in parents]


STACK_REFERENCE = "pulumi:pulumi:StackReference"


class GoogleCloudMocks(pulumi.runtime.Mocks):
    """Answers like the Google and random providers for the outputs the components depend on."""

    def __init__(self, project_id: str, stacks: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.project_id = project_id
        self.stacks = dict(stacks or {})
        """Other stacks' outputs, by fully qualified name: what a `StackReference` to each reads
        (to another, as to any resource, the mocks answer with its inputs)."""
        self.autonamed: dict[tuple[str, str], dict[str, str]] = {}
        """(type, logical name) -> the properties the provider named, as the engine's check would."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ == STACK_REFERENCE and args.inputs.get("name") in self.stacks:
            stack = args.inputs["name"]
            return stack, {"name": stack, "outputs": dict(self.stacks[stack]), "secretOutputNames": []}
        named = autoname(args.typ, args.name, args.inputs)
        self.autonamed[(args.typ, args.name)] = named
        inputs = {**args.inputs, **named}
        project = inputs.get("project", self.project_id)
        computed = _COMPUTED.get(args.typ)
        outputs = {**inputs, **(computed(inputs, project, args.name) if computed else {})}
        resource_id = outputs.pop("__id", None) or f"{args.name}-id"
        return resource_id, outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        # A bare dict: the mock monitor reads a (result, failures) tuple's failures as a list.
        if args.token == "gcp:firebase/getWebAppConfig:getWebAppConfig":
            project = args.args.get("project") or self.project_id
            return {
                "apiKey": f"mock-api-key-{project}",
                "authDomain": f"{project}.firebaseapp.com",
                "messagingSenderId": "000000000000",
            }
        if args.token == "gcp:organizations/getProject:getProject":
            # Programs build service agents' e-mails from the number (service-NUMBER@gcp-sa-...).
            project = args.args.get("projectId") or self.project_id
            return {"projectId": project, "name": project, "number": _project_number(project)}
        return {}


def _project_number(project: str) -> str:
    """A stable 12-digit stand-in for the number Google gives `project`."""
    return str(int(hashlib.sha256(project.encode()).hexdigest(), 16) % 10**12).zfill(12)


# Properties the Google provider names when a program leaves them out, and their longest
# value: Pulumi's autonaming gives the logical name and a random suffix.
AUTONAMED: dict[str, tuple[str, int]] = {
    "gcp:storage/bucket:Bucket": ("name", 63),
    "gcp:storage/bucketObject:BucketObject": ("name", 1024),
    "gcp:workflows/workflow:Workflow": ("name", 64),
    "gcp:cloudfunctionsv2/function:Function": ("name", 63),
    "gcp:cloudfunctions/function:Function": ("name", 63),
    "gcp:cloudrunv2/service:Service": ("name", 49),
    "gcp:cloudrun/service:Service": ("name", 63),
    "gcp:pubsub/topic:Topic": ("name", 255),
    "gcp:pubsub/subscription:Subscription": ("name", 255),
    "gcp:sql/databaseInstance:DatabaseInstance": ("name", 98),
    "gcp:sql/database:Database": ("name", 63),
    "gcp:cloudscheduler/job:Job": ("name", 500),
    "gcp:cloudtasks/queue:Queue": ("name", 100),
    "gcp:compute/network:Network": ("name", 63),
    "gcp:compute/subnetwork:Subnetwork": ("name", 63),
    "gcp:compute/instance:Instance": ("name", 63),
}


def autoname(type_token: str, name: str, inputs: Mapping[str, Any]) -> dict[str, str]:
    """What the provider would name, when the program did not: `<name>-<7 characters>`, lower-case.

    The suffix is derived from the type and the logical name, not random, so that a
    captured graph is the same on every run.
    """
    if type_token not in AUTONAMED:
        return {}
    prop, longest = AUTONAMED[type_token]
    if inputs.get(prop):
        return {}
    suffix = hashlib.sha256(f"{type_token}::{name}".encode()).hexdigest()[:7]
    return {prop: f"{name.lower()[: longest - 8]}-{suffix}"}


def _account(inputs: dict[str, Any], project: str, _: str) -> dict[str, Any]:
    email = f"{inputs['accountId']}@{project}.iam.gserviceaccount.com"
    return {
        "__id": f"projects/{project}/serviceAccounts/{email}",
        "email": email,
        "member": f"serviceAccount:{email}",
        "name": f"projects/{project}/serviceAccounts/{email}",
        "uniqueId": str(abs(hash(email)) % 10**21),
    }


def _function(inputs: dict[str, Any], project: str, name: str) -> dict[str, Any]:
    function_name = inputs.get("name", name)
    location = inputs.get("location", "europe-west1")
    return {
        "__id": f"projects/{project}/locations/{location}/functions/{function_name}",
        "url": f"https://{location}-{project}.cloudfunctions.net/{function_name}",
        "state": "ACTIVE",
    }


def _custom_role(inputs: dict[str, Any], project: str, _: str) -> dict[str, Any]:
    role_name = f"projects/{project}/roles/{inputs['roleId']}"
    return {"__id": role_name, "name": role_name}


def _hosting_site(inputs: dict[str, Any], project: str, _: str) -> dict[str, Any]:
    site = inputs["siteId"]
    return {"name": f"projects/{project}/sites/{site}", "defaultUrl": f"https://{site}.web.app"}


def _hosting_version(inputs: dict[str, Any], _project: str, name: str) -> dict[str, Any]:
    return {"name": f"sites/{inputs['siteId']}/versions/{name}-version", "versionId": f"{name}-version"}


def _ruleset(_inputs: dict[str, Any], _project: str, name: str) -> dict[str, Any]:
    return {"name": f"{name}-ruleset-id"}


def _workflow(inputs: dict[str, Any], project: str, _: str) -> dict[str, Any]:
    return {
        "__id": f"projects/{project}/locations/{inputs.get('region')}/workflows/{inputs['name']}",
        "revisionId": "000001-abc",
        "state": "ACTIVE",
    }


def _bucket(inputs: dict[str, Any], _project: str, _name: str) -> dict[str, Any]:
    return {
        "url": f"gs://{inputs['name']}",
        "selfLink": f"https://www.googleapis.com/storage/v1/b/{inputs['name']}",
    }


def _web_app(_inputs: dict[str, Any], project: str, name: str) -> dict[str, Any]:
    app_id = f"1:000000000000:web:{name}"
    return {"__id": f"projects/{project}/webApps/{app_id}", "appId": app_id}


def _secret(inputs: dict[str, Any], project: str, _: str) -> dict[str, Any]:
    name = f"projects/{project}/secrets/{inputs['secretId']}"
    return {"__id": name, "name": name}


def _secret_version(inputs: dict[str, Any], _project: str, _name: str) -> dict[str, Any]:
    # The secret's id is its name; Google answers with the project number, which tests need not know.
    name = f"{inputs['secret']}/versions/1"
    return {"__id": name, "name": name, "version": "1"}


def _subscription(inputs: dict[str, Any], project: str, _: str) -> dict[str, Any]:
    return {"__id": f"projects/{project}/subscriptions/{inputs['name']}"}


def _random_password(inputs: dict[str, Any], _project: str, name: str) -> dict[str, Any]:
    """A stable stand-in of the requested length, so a captured graph is the same on every run."""
    length = int(inputs.get("length", 16))
    text = ""
    while len(text) < length:
        text += hashlib.sha256(f"{name}:{len(text)}".encode()).hexdigest()
    return {"result": text[:length], "bcryptHash": f"mock-bcrypt-{name}"}


_COMPUTED: dict[str, Callable[[dict[str, Any], str, str], dict[str, Any]]] = {
    "gcp:serviceaccount/account:Account": _account,
    "gcp:cloudfunctionsv2/function:Function": _function,
    "gcp:projects/iAMCustomRole:IAMCustomRole": _custom_role,
    "gcp:firebase/hostingSite:HostingSite": _hosting_site,
    "gcp:firebase/hostingVersion:HostingVersion": _hosting_version,
    "gcp:firebaserules/ruleset:Ruleset": _ruleset,
    "gcp:workflows/workflow:Workflow": _workflow,
    "gcp:storage/bucket:Bucket": _bucket,
    "gcp:firebase/webApp:WebApp": _web_app,
    "gcp:secretmanager/secret:Secret": _secret,
    "gcp:secretmanager/secretVersion:SecretVersion": _secret_version,
    "gcp:pubsub/subscription:Subscription": _subscription,
    "random:index/randomPassword:RandomPassword": _random_password,
}


class RecordingMonitor(RegistrationRecorder):
    """A mock engine that also keeps each registration's parent, dependencies and options."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        # Only our mocks name what the provider would; others leave the inputs as they are.
        self.autonamed = mocks.autonamed if isinstance(mocks, GoogleCloudMocks) else {}

    def graph(self, outputs: dict[str, Any]) -> Graph:
        return Graph(
            resources=tuple(
                CapturedResource(
                    **{
                        **r._asdict(),
                        "inputs": {**plain(r.inputs), **self.autonamed.get((r.type, r.name), {})},
                        "outputs": plain(self.state(r.urn)),
                    }
                )
                for r in self.registrations
            ),
            outputs=outputs,
        )


def _load_yaml(path: Path) -> dict[str, Any]:
    """A project or stack file, with libyaml's parser when PyYAML has it (as it does from its wheels)."""
    return yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}


def config_value(value: Any) -> str:
    """Stack config as the engine hands it to a program: strings, JSON for the rest."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def stack_config(project_dir: Path, stack: str) -> dict[str, str]:
    """The `config:` of `Pulumi.<stack>.yaml`, as the engine would pass it."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"no stack config {path}")
    document = _load_yaml(path)
    return {key: config_value(value) for key, value in (document.get("config") or {}).items()}


def capture(
    program: Callable[[], object],
    *,
    project: str = "approvals",
    stack: str = "dev",
    config: Mapping[str, str] | None = None,
    preview: bool = False,
    stacks: Mapping[str, Mapping[str, Any]] | None = None,
) -> Graph:
    """Run `program` under mocks and return everything it registered.

    `preview`: as `pulumi preview` runs it, outputs the mocks do not know are unknown, and
    an apply over one does not run (instead of running on None). `stacks`: the outputs of
    the stacks the program references (`org/project/stack` -> outputs).
    """
    config = dict(config or {})
    mocks = GoogleCloudMocks(config.get("gcp:project", DEFAULT_PROJECT_ID), stacks)
    monitor = RecordingMonitor(mocks)
    exported = run_under_mocks(
        program,
        mock_provider=mocks,
        monitor=monitor,
        project=project,
        stack=stack,
        config=config,
        preview=preview,
    )
    return monitor.graph(exported)


def find_program(path: Path) -> tuple[Path, Path]:
    """(the program file, the project folder holding Pulumi.yaml) for a program file or folder.

    As the CLI does: a project folder runs its `Pulumi.yaml`'s `main:` (a file, or a folder's
    `__main__.py`; default the folder itself); a program file's project is the nearest folder
    above it with a `Pulumi.yaml`, else its own folder.
    """
    path = path.resolve()
    if path.is_dir() and (path / "Pulumi.yaml").is_file():
        main = _load_yaml(path / "Pulumi.yaml").get("main") or "."
        program = (path / main).resolve()
        return (program / "__main__.py" if program.is_dir() else program), path
    program = path / "__main__.py" if path.is_dir() else path
    project = next((p for p in program.parents if (p / "Pulumi.yaml").is_file()), program.parent)
    return program, project


def _top_level_names(folder: Path) -> set[str]:
    """The names `import` finds first in `folder`: its modules, packages and namespace packages."""
    modules = {path.stem for path in folder.glob("*.py")}
    packages = {path.name for path in folder.iterdir() if path.is_dir() and path.name.isidentifier()}
    return (modules | packages) - set(sys.stdlib_module_names) - {"__main__"}


@contextmanager
def _program_imports(folder: Path) -> Iterator[None]:
    """For a whole run, applies included, `folder` comes first on `sys.path`, as under the CLI.

    In one process that runs many programs (tests, benchmarks), a module the program has
    (`settings.py`, `lib/`) must not resolve to one of the same name imported before, and must
    be gone for the next program. Only names the folder itself holds are touched: a virtualenv
    inside the project keeps its packages, and the standard library stays, as under the CLI.
    """
    own = _top_level_names(folder)
    saved_path = list(sys.path)
    shadowed = {name: module for name, module in sys.modules.items() if name.split(".")[0] in own}
    for name in shadowed:
        del sys.modules[name]
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        # The program may have changed sys.path too; the next one starts from the host's.
        sys.path[:] = saved_path
        for name in [name for name in sys.modules if name.split(".")[0] in own]:
            del sys.modules[name]
        sys.modules.update(shadowed)


def capture_program(
    program_path: Path,
    *,
    stack: str = "dev",
    config: Mapping[str, str] | None = None,
    project: str | None = None,
    preview: bool = False,
) -> Graph:
    """Run a Pulumi program (its `__main__.py`, or its project folder) the way `pulumi up` would, offline.

    Stack config comes from `Pulumi.<stack>.yaml` in the project folder when it exists;
    `config` entries override it. The program's folder is on `sys.path`, so a program split
    across modules imports them as under the CLI.
    """
    program_path, project_dir = find_program(program_path)
    settings = _load_yaml(project_dir / "Pulumi.yaml") if (project_dir / "Pulumi.yaml").is_file() else {}
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    merged = {**(stack_config(project_dir, stack) if stack_file.is_file() else {}), **(config or {})}
    with _program_imports(program_path.parent):
        return capture(
            lambda: runpy.run_path(str(program_path), run_name="__main__"),
            project=project or settings.get("name", "project"),
            stack=stack,
            config=merged,
            preview=preview,
        )
