"""A Python Cloud Function (2nd gen) deployed from a source folder."""

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_gcp as gcp

from .errors import InvalidArgumentError
from .outputs import register_declared

_SKIPPED_DIRS = {"__pycache__", ".pytest_cache", "node_modules"}
_SKIPPED_SUFFIXES = {".pyc", ".pyo"}
INGRESS_SETTINGS = ("ALLOW_ALL", "ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB")
# Cloud Run's CPU values: a fraction of a vCPU serves one request at a time, so concurrency > 1
# needs at least 1 (https://cloud.google.com/functions/docs/configuring/concurrency).
CPUS = ("0.083", "0.167", "0.333", "0.583", "1", "2", "4", "6", "8")
MAX_CONCURRENCY = 1000


def source_files(folder: Path, prefix: str = "") -> dict[str, Path]:
    """The explicit file list of a source folder, keyed by its path in the archive.

    pip byte-compiles installed package data, so a folder taken as a whole would
    ship `__pycache__` and change hash on every machine: list real sources only.
    """
    files: dict[str, Path] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if (
            path.is_file()
            and not _SKIPPED_DIRS.intersection(relative.parts)
            and path.suffix not in _SKIPPED_SUFFIXES
        ):
            files[f"{prefix}{relative.as_posix()}"] = path
    return files


def archive_digest(files: Mapping[str, Path]) -> str:
    """A content hash of the archive, so a code change gives a new object name."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(files[name].read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class SecretEnv:
    """An env var read from Secret Manager when an instance starts.

    Pinned to `version`, so a new version redeploys the function. The secret is named
    by its `secret_id` input, known under any mocks, not parsed from a computed name.
    """

    secret: gcp.secretmanager.Secret
    version: gcp.secretmanager.SecretVersion


@dataclass(kw_only=True)
class PythonFunctionArgs:
    """How to build and run one function. Every field but the first four has a default."""

    source_dir: Path
    entry_point: str
    bucket: gcp.storage.Bucket
    service_account_email: pulumi.Input[str]
    project: str
    region: str
    shared_dirs: Mapping[str, Path] = field(default_factory=dict)
    """Extra folders copied into the archive, keyed by their folder name there."""
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    secrets: Mapping[str, SecretEnv] = field(default_factory=dict)
    """Env vars read from Secret Manager at start, by name."""
    runtime: str = "python311"
    memory: str = "256Mi"
    timeout_seconds: int = 60
    min_instances: int = 0
    max_instances: int = 10
    cpu: str | None = None
    """vCPUs per instance (CPUS); None: what Cloud Functions derives from `memory`."""
    concurrency: int = 1
    """Requests one instance serves at once; above 1 needs `cpu` of at least "1"."""
    ingress_settings: str = "ALLOW_ALL"
    build_service_account: pulumi.Input[str] | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    description: str | None = None
    depends_on: Sequence[pulumi.Resource] = ()

    def validate(self, owner: str) -> None:
        if not (self.source_dir / "main.py").is_file():
            raise InvalidArgumentError(f"{owner}.source_dir", f"{self.source_dir} has no main.py")
        if self.ingress_settings not in INGRESS_SETTINGS:
            raise InvalidArgumentError(
                f"{owner}.ingress_settings",
                f"unknown value {self.ingress_settings!r}",
                ", ".join(INGRESS_SETTINGS),
            )
        if not 0 <= self.min_instances <= self.max_instances:
            raise InvalidArgumentError(
                f"{owner}.max_instances",
                f"need 0 <= min_instances ({self.min_instances}) <= max_instances ({self.max_instances})",
            )
        if not 1 <= self.timeout_seconds <= 3600:
            raise InvalidArgumentError(
                f"{owner}.timeout_seconds", f"{self.timeout_seconds} is out of range", "1 to 3600"
            )
        self._validate_concurrency(owner)

    def _validate_concurrency(self, owner: str) -> None:
        if self.cpu is not None and self.cpu not in CPUS:
            raise InvalidArgumentError(f"{owner}.cpu", f"unknown value {self.cpu!r}", ", ".join(CPUS))
        if (
            isinstance(self.concurrency, bool)
            or not isinstance(self.concurrency, int)
            or not 1 <= self.concurrency <= MAX_CONCURRENCY
        ):
            raise InvalidArgumentError(
                f"{owner}.concurrency", f"{self.concurrency!r} is out of range", f"1 to {MAX_CONCURRENCY}"
            )
        if self.concurrency > 1 and (self.cpu is None or float(self.cpu) < 1):
            raise InvalidArgumentError(
                f"{owner}.cpu",
                f"concurrency {self.concurrency} needs at least 1 vCPU, not {self.cpu or 'the default'}",
                'cpu="1" or more',
            )

    def runtime_environment(self) -> dict[str, pulumi.Input[str]]:
        """The env vars, plus what lets the Python runtime serve `concurrency` requests at once."""
        if self.concurrency == 1:
            return dict(self.environment)
        # functions-framework serves with 4 threads per CPU unless told otherwise: fewer than
        # `concurrency` would queue requests Cloud Run already routed to this instance.
        return {"THREADS": str(self.concurrency), **self.environment}


class FunctionOutputs:
    """What a PythonFunction hands out, declared once: its typed attributes and registered outputs."""

    url: pulumi.Output[str]
    service_name: pulumi.Output[str]
    """A 2nd gen function runs as the Cloud Run service of the same name."""


class PythonFunction(pulumi.ComponentResource, FunctionOutputs):
    """Archive (explicit file list) -> bucket object -> `cloudfunctionsv2.Function`."""

    function: gcp.cloudfunctionsv2.Function
    files: dict[str, Path]

    def __init__(
        self, name: str, args: PythonFunctionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args.validate("PythonFunctionArgs")
        super().__init__("approvals:index:PythonFunction", name, None, opts)
        self._args = args
        self.files = source_files(args.source_dir)
        for folder_name, folder in args.shared_dirs.items():
            self.files.update(source_files(folder, prefix=f"{folder_name}/"))
        digest = archive_digest(self.files)

        source = gcp.storage.BucketObject(
            f"{name}-source",
            bucket=args.bucket.name,
            name=f"functions/{name}-{digest}.zip",
            source=pulumi.AssetArchive(
                {path: pulumi.FileAsset(str(file)) for path, file in self.files.items()}
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.function = gcp.cloudfunctionsv2.Function(
            name,
            name=name,
            project=args.project,
            location=args.region,
            description=args.description,
            labels=dict(args.labels),
            build_config=gcp.cloudfunctionsv2.FunctionBuildConfigArgs(
                runtime=args.runtime,
                entry_point=args.entry_point,
                service_account=args.build_service_account,
                source=gcp.cloudfunctionsv2.FunctionBuildConfigSourceArgs(
                    storage_source=gcp.cloudfunctionsv2.FunctionBuildConfigSourceStorageSourceArgs(
                        bucket=args.bucket.name, object=source.name
                    )
                ),
            ),
            service_config=gcp.cloudfunctionsv2.FunctionServiceConfigArgs(
                service_account_email=args.service_account_email,
                environment_variables=args.runtime_environment(),
                secret_environment_variables=[
                    gcp.cloudfunctionsv2.FunctionServiceConfigSecretEnvironmentVariableArgs(
                        key=key,
                        project_id=args.project,
                        secret=env.secret.secret_id,
                        version=env.version.version,
                    )
                    for key, env in args.secrets.items()
                ]
                or None,
                available_memory=args.memory,
                available_cpu=args.cpu,
                max_instance_request_concurrency=args.concurrency,
                timeout_seconds=args.timeout_seconds,
                min_instance_count=args.min_instances,
                max_instance_count=args.max_instances,
                ingress_settings=args.ingress_settings,
                all_traffic_on_latest_revision=True,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
        )
        register_declared(self, FunctionOutputs, url=self.function.url, service_name=self.function.name)

    def grant_invoker(self, member: pulumi.Input[str], key: str) -> gcp.cloudrunv2.ServiceIamMember:
        """Let `member` call the function (run.invoker on its Cloud Run service)."""
        return gcp.cloudrunv2.ServiceIamMember(
            f"{self.pulumi_resource_name}-invoker-{key}",
            project=self._args.project,
            location=self._args.region,
            name=self.service_name,
            role="roles/run.invoker",
            member=member,
            opts=pulumi.ResourceOptions(parent=self),
        )
