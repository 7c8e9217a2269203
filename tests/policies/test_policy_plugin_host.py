"""The pack as `pulumi preview --policy-pack policies` loads it: a gRPC analyzer in its own process.

The CLI's plugin host runs `python -u -m pulumi.policy <engine> <pack dir>` from
inside the pack folder, reads the port from the first line of stdout and talks
to the Analyzer service there. This starts it the same way, with nothing of
the repository on the path but the pack.
"""

import os
import select
import subprocess
import sys
from collections.abc import Iterator

import grpc
import pytest
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from tests.policies.bad_programs import ADVISORY, LABELS, POLICY_NAMES, PROJECT
from tests.policies.policy_cli import REPO

PACK_DIR = REPO / "policies"
# Generous: the pack imports pulumi and grpc before it listens.
STARTUP_LIMIT_SECONDS = 60
BUCKET_URN = "urn:pulumi:dev::approvals::gcp:storage/bucket:Bucket::reports"


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:0", "."],
        cwd=PACK_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        ready, _, _ = select.select([process.stdout], [], [], STARTUP_LIMIT_SECONDS)
        port = process.stdout.readline().strip() if ready else ""
        if not port.isdigit():
            process.kill()
            pytest.fail(f"the pack printed no port: {port!r}\n{process.communicate()[1]}")
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        process.kill()
        process.communicate()


def test_analyzer_lists_the_pack_and_its_policies(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())

    assert info.name == "approvals"
    levels = {policy.name: policy.enforcementLevel for policy in info.policies}
    assert levels == {
        name: analyzer_pb2.ADVISORY if name in ADVISORY else analyzer_pb2.MANDATORY for name in POLICY_NAMES
    }
    assert all(policy.description for policy in info.policies)


def test_analyzer_reports_a_bucket_without_uniform_access(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    properties = json_format.ParseDict(
        {
            "name": f"{PROJECT}-reports",
            "location": "EU",
            "labels": LABELS,
            "publicAccessPrevention": "enforced",
            "uniformBucketLevelAccess": False,
        },
        struct_pb2.Struct(),
    )

    response = analyzer.Analyze(
        analyzer_pb2.AnalyzeRequest(
            type="gcp:storage/bucket:Bucket", urn=BUCKET_URN, name="reports", properties=properties
        )
    )

    assert [(d.policyName, d.enforcementLevel) for d in response.diagnostics] == [
        ("bucket-access-hardened", analyzer_pb2.MANDATORY)
    ]
    [diagnostic] = response.diagnostics
    assert diagnostic.policyPackName == "approvals"
    assert "uniformBucketLevelAccess" in diagnostic.message
    assert "Fix" in diagnostic.message


def test_analyzer_applies_the_config_the_cli_sends(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    properties = json_format.ParseDict(
        {
            "name": f"{PROJECT}-reports",
            "labels": LABELS,
            "publicAccessPrevention": "enforced",
            "uniformBucketLevelAccess": True,
        },
        struct_pb2.Struct(),
    )
    required_team = analyzer_pb2.PolicyConfig(
        enforcementLevel=analyzer_pb2.MANDATORY,
        properties=json_format.ParseDict({"labels": ["team"]}, struct_pb2.Struct()),
    )
    analyzer.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={"required-labels": required_team}))
    try:
        response = analyzer.Analyze(
            analyzer_pb2.AnalyzeRequest(
                type="gcp:storage/bucket:Bucket", urn=BUCKET_URN, name="reports", properties=properties
            )
        )
    finally:
        analyzer.Configure(analyzer_pb2.ConfigureAnalyzerRequest())

    assert [(d.policyName, d.enforcementLevel) for d in response.diagnostics] == [
        ("required-labels", analyzer_pb2.MANDATORY)
    ]
    assert "team" in response.diagnostics[0].message


def stack_resource(
    type_: str,
    name: str,
    properties: dict[str, object],
    *,
    after: tuple[str, ...] = (),
    delete_first: bool = False,
) -> analyzer_pb2.AnalyzerResource:
    """A resource as the CLI sends it to AnalyzeStack during a preview."""
    return analyzer_pb2.AnalyzerResource(
        type=type_,
        urn=f"urn:pulumi:dev::approvals::{type_}::{name}",
        name=name,
        properties=json_format.ParseDict(properties, struct_pb2.Struct()),
        options=analyzer_pb2.AnalyzerResourceOptions(
            deleteBeforeReplace=delete_first, deleteBeforeReplaceDefined=delete_first
        ),
        dependencies=[f"urn:pulumi:dev::approvals::{urn}" for urn in after],
    )


def test_analyzer_checks_deployability_in_a_preview(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    # What a preview knows of new resources: their inputs; computed outputs are unknown.
    unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    api, access = (
        "gcp:projects/service:Service::iam",
        "gcp:secretmanager/secretIamMember:SecretIamMember::key",
    )
    function = "gcp:cloudfunctionsv2/function:Function"
    reads_key = {
        "project": PROJECT,
        "name": "reports",
        "serviceConfig": {
            "serviceAccountEmail": unknown,
            "secretEnvironmentVariables": [{"key": "KEY", "secret": unknown, "version": unknown}],
        },
    }
    index = {"project": PROJECT, "database": unknown, "collection": "reports"}
    resources = [
        stack_resource(
            "gcp:projects/service:Service", "iam", {"project": PROJECT, "service": "iam.googleapis.com"}
        ),
        stack_resource(
            "gcp:serviceaccount/account:Account",
            "reports",
            {"project": PROJECT, "accountId": "reports-runner", "email": unknown},
        ),
        stack_resource(
            "gcp:serviceaccount/account:Account",
            "audits",
            {"project": PROJECT, "accountId": "audits-runner", "email": unknown},
            after=(api,),
        ),
        # The stack enables no rules API: someone else does, and nothing is reported of it.
        stack_resource(
            "gcp:firebaserules/release:Release", "rules", {"project": PROJECT, "name": "cloud.firestore"}
        ),
        stack_resource(
            "gcp:firebaserules/release:Release",
            "rules-delete-first",
            {"project": PROJECT, "name": "cloud.firestore/reports"},
            delete_first=True,
        ),
        stack_resource(
            "gcp:secretmanager/secretIamMember:SecretIamMember",
            "key",
            {"secretId": unknown, "role": "roles/secretmanager.secretAccessor", "member": unknown},
        ),
        stack_resource(function, "reports-early", reads_key),
        stack_resource(function, "reports-after-access", reads_key, after=(access,)),
        stack_resource("gcp:firestore/index:Index", "by-owner", index),
        stack_resource("gcp:firestore/index:Index", "by-team", index),
        stack_resource(
            "gcp:firestore/index:Index", "by-date", index, after=("gcp:firestore/index:Index::by-team",)
        ),
    ]
    diagnostics = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources)).diagnostics

    found = sorted((d.policyName, d.urn.rsplit("::", 1)[-1], d.enforcementLevel) for d in diagnostics)
    assert found == [
        ("apis-enabled-before-use", "reports", analyzer_pb2.MANDATORY),
        # by-owner waits for neither of the others, nor they for it.
        ("indexes-one-at-a-time", "by-date", analyzer_pb2.ADVISORY),
        ("indexes-one-at-a-time", "by-team", analyzer_pb2.ADVISORY),
        # The key's grant has a member unknown during the preview: it might be allUsers.
        ("no-public-invokers", "", analyzer_pb2.ADVISORY),
        ("replaced-delete-first", "rules", analyzer_pb2.MANDATORY),
        ("secret-access-before-function", "reports-early", analyzer_pb2.MANDATORY),
    ]
