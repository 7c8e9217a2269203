"""`python -m approvals.policies check` on programs written the way Pulumi's own examples are.

They let Pulumi name their resources, and join outputs only the provider knows (a Cloud
SQL instance's connection name) in an apply: a real preview handles both, so the check
must too, rather than crash with exit 2.
"""

import contextlib
import io
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

from approvals.policies.check import main
from approvals.testing import capture_program
from tests.policies.policy_cli import violation_lines

PROJECT = """
name: reports
runtime: python
"""
STACK = """
config:
  gcp:project: reports-dev
  reports:token:
    secure: AAABAKc=
"""
HEADER = """
import pulumi
import pulumi_gcp as gcp

LABELS = {"app": "reports", "managed-by": "pulumi"}
"""
AUTONAMED = """
bucket = gcp.storage.Bucket(
    "reports", location="EU", uniform_bucket_level_access=True, public_access_prevention="enforced",
    labels=LABELS,
)
account = gcp.serviceaccount.Account("nightly", account_id="wf-nightly")
gcp.workflows.Workflow(
    "nightly", region="europe-west1", service_account=account.id, labels=LABELS, deletion_protection=False,
    source_contents="main:\\n  steps:\\n    - done:\\n        return: 1\\n",
)
gcp.pubsub.Topic("events", labels=LABELS)
gcp.cloudfunctions.Function(
    "legacy", runtime="python311", entry_point="main", trigger_http=True, region="europe-west1",
    source_archive_bucket=bucket.name, source_archive_object="legacy.zip",
    ingress_settings="ALLOW_INTERNAL_ONLY", max_instances=3, labels=LABELS,
)
gcp.cloudfunctionsv2.Function(
    "current", location="europe-west1", labels=LABELS,
    build_config=gcp.cloudfunctionsv2.FunctionBuildConfigArgs(runtime="python311", entry_point="main"),
    service_config=gcp.cloudfunctionsv2.FunctionServiceConfigArgs(
        ingress_settings="ALLOW_INTERNAL_ONLY", max_instance_count=3
    ),
)
pulumi.export("bucket", bucket.name)
"""
COMPUTED_JOIN = """
database = gcp.sql.DatabaseInstance(
    "reports", database_version="POSTGRES_15", region="europe-west1",
    settings=gcp.sql.DatabaseInstanceSettingsArgs(tier="db-f1-micro"),
)
dsn = pulumi.Output.all("postgres://", database.connection_name, "/reports").apply("".join)
pulumi.export("dsn", dsn)
"""
MANY_FEATURES = """
import pulumi_random as random

network = pulumi.StackReference("acme/network/prod")
eu = gcp.Provider("eu", project="reports-eu", region="europe-west1")
suffix = random.RandomId("suffix", byte_length=4)
buckets = [
    gcp.storage.Bucket(
        f"exports-{index}", location="EU", uniform_bucket_level_access=True,
        public_access_prevention="enforced", labels=LABELS,
        opts=pulumi.ResourceOptions(provider=eu, protect=index == 0),
    )
    for index in range(3)
]
vpc = network.get_output("vpc_name").apply(lambda name: str(name)[:10])
gcp.pubsub.Topic("events", labels={**LABELS, "vpc": vpc}, opts=pulumi.ResourceOptions(depends_on=buckets))
pulumi.export("suffix", suffix.hex)
pulumi.export("token", pulumi.Config().require_secret("token"))
"""
OPEN_BUCKET = """
gcp.storage.Bucket("exports", location="EU", labels=LABELS)
"""


def check(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    """Write a program folder and check it as the CLI does (its `main`, in this process to keep
    the suite fast; the subfolder test below and test_ci_example run the command itself)."""
    (tmp_path / "Pulumi.yaml").write_text(PROJECT)
    (tmp_path / "Pulumi.dev.yaml").write_text(STACK)
    (tmp_path / "__main__.py").write_text(HEADER + body)
    argv = [str(tmp_path / "__main__.py"), "--stack", "dev"]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


@pytest.mark.parametrize(
    "body",
    [AUTONAMED, COMPUTED_JOIN, MANY_FEATURES],
    ids=["auto-named", "computed-output-join", "providers-references-secrets-loops"],
)
def test_a_clean_program_in_pulumi_s_style_passes(tmp_path: Path, body: str) -> None:
    result = check(tmp_path, body)

    assert result.returncode == 0, result.stdout + result.stderr
    assert violation_lines(result.stdout) == []


def test_an_auto_named_resource_that_breaks_a_policy_is_reported_by_its_name(tmp_path: Path) -> None:
    result = check(tmp_path, OPEN_BUCKET)

    assert result.returncode == 1, result.stdout + result.stderr
    lines = violation_lines(result.stdout)
    assert {line.group(1, 2) for line in lines} == {("MANDATORY", "bucket-access-hardened")}
    assert all(line.group(3).endswith("::exports") for line in lines)
    assert {"uniformBucketLevelAccess", "publicAccessPrevention"} <= {
        word for line in lines for word in line.group(4).split()
    }


def test_a_failing_program_shows_its_own_frames_and_none_of_the_check_s(tmp_path: Path) -> None:
    body = 'def labels():\n    return {"app": reports}\n\n\ngcp.storage.Bucket("exports", labels=labels())\n'

    result = check(tmp_path, body)

    program = (tmp_path / "__main__.py").read_text().splitlines()
    mistake = program.index('    return {"app": reports}') + 1
    caller = program.index('gcp.storage.Bucket("exports", labels=labels())') + 1
    assert result.returncode == 2
    assert f'{tmp_path / "__main__.py"}", line {caller}, in <module>' in result.stderr
    assert f'line {mistake}, in labels\n    return {{"app": reports}}' in result.stderr
    assert "NameError: name 'reports' is not defined" in result.stderr
    assert "approvals" not in result.stderr.replace("approvals.policies", "")
    assert "site-packages" not in result.stderr


def test_a_missing_config_key_is_named_with_the_flag_that_sets_it(tmp_path: Path) -> None:
    result = check(tmp_path, 'owner = pulumi.Config().require("owner")\n')

    assert result.returncode == 2
    assert "Missing required configuration variable 'reports:owner'" in result.stderr
    assert "--config reports:owner=VALUE" in result.stderr


UNKNOWN_SOURCE = """
database = gcp.sql.DatabaseInstance(
    "reports", database_version="POSTGRES_15", region="europe-west1",
    settings=gcp.sql.DatabaseInstanceSettingsArgs(tier="db-f1-micro"),
)
account = gcp.serviceaccount.Account("nightly", account_id="wf-nightly")
gcp.workflows.Workflow(
    "nightly", region="europe-west1", service_account=account.id, labels=LABELS, deletion_protection=False,
    source_contents=database.connection_name.apply(
        lambda name: f"main:\\n  steps:\\n    - done:\\n        return: {name}\\n"
    ),
)
"""


def test_a_value_known_only_at_deploy_is_said_so_not_guessed(tmp_path: Path) -> None:
    result = check(tmp_path, UNKNOWN_SOURCE)

    assert result.returncode == 0, result.stdout + result.stderr
    lines = violation_lines(result.stdout)
    assert lines, result.stdout
    assert {line.group(1) for line in lines} == {"ADVISORY"}
    assert all("cannot be checked until deploy" in line.group(4) for line in lines)
    assert any(line.group(2) == "callback-await-bounded-and-handled" for line in lines)


@pytest.mark.parametrize("target", [".", "src/__main__.py"], ids=["project-folder", "program-file"])
def test_a_project_whose_main_is_a_subfolder_of_modules_is_checked(tmp_path: Path, target: str) -> None:
    (tmp_path / "Pulumi.yaml").write_text(PROJECT + "main: src/\n")
    (tmp_path / "Pulumi.dev.yaml").write_text(STACK)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "storage.py").write_text(
        HEADER
        + "\n\ndef bucket(name: str) -> gcp.storage.Bucket:\n"
        + '    return gcp.storage.Bucket(name, location="EU", labels=LABELS)\n'
    )
    (tmp_path / "src" / "__main__.py").write_text('from storage import bucket\n\nbucket("exports")\n')

    result = subprocess.run(
        [sys.executable, "-m", "approvals.policies", "check", target, "--stack", "dev"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 1, result.stdout + result.stderr
    lines = violation_lines(result.stdout)
    assert {line.group(2) for line in lines} == {"bucket-access-hardened"}
    # The project's name and stack config come from the folder above the program.
    assert all(line.group(3).startswith("urn:pulumi:dev::reports::") for line in lines)


def test_programs_checked_in_one_process_each_import_their_own_modules(tmp_path: Path) -> None:
    """A test suite or a benchmark checks many programs in one process; two may both have a
    `storage.py`, and the second must not get the first one's."""
    graphs = []
    for team, location in (("one", "EU"), ("two", "US"), ("one", "EU")):
        folder = tmp_path / team
        if not folder.exists():
            (folder / "lib").mkdir(parents=True)
            (folder / "Pulumi.yaml").write_text(f"name: {team}\nruntime: python\n")
            bucket = f'gcp.storage.Bucket("{team}", location="{location}")'
            (folder / "storage.py").write_text(HEADER + f"\n\ndef bucket() -> None:\n    {bucket}\n")
            # A namespace package (no __init__.py), as many programs' `lib/` is.
            (folder / "lib" / "owner.py").write_text(f'TEAM = "{team}"\n')
            (folder / "__main__.py").write_text(
                "import pulumi\nimport storage\nfrom lib import owner\n\n"
                'storage.bucket()\npulumi.export("team", owner.TEAM)\n'
            )
        graphs.append(capture_program(folder, config={"gcp:project": team}, preview=True))

    assert [g.resources[0].name for g in graphs] == ["one", "two", "one"]
    assert [g.resources[0].inputs["location"] for g in graphs] == ["EU", "US", "EU"]
    assert [g.outputs["team"] for g in graphs] == ["one", "two", "one"]


def test_a_module_imported_while_outputs_resolve_is_the_program_s_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under the CLI the program's folder stays first on sys.path until the run ends, so an
    import inside an apply finds the program's module, not one this process loaded before."""
    monkeypatch.setitem(sys.modules, "naming", types.ModuleType("naming"))
    (tmp_path / "Pulumi.yaml").write_text("name: late\nruntime: python\n")
    (tmp_path / "naming.py").write_text(
        'def bucket_name(project: str) -> str:\n    return f"{project}-exports"\n'
    )
    (tmp_path / "__main__.py").write_text(
        HEADER
        + "def named(topic: str) -> str:\n    import naming\n\n    return naming.bucket_name(topic)\n\n\n"
        + 'topic = gcp.pubsub.Topic("events", name="events")\n'
        + 'gcp.storage.Bucket("exports", location="EU", name=topic.name.apply(named))\n'
    )

    graph = capture_program(tmp_path, config={"gcp:project": "late"})

    assert graph.named("exports").inputs["name"] == "events-exports"
    assert "exports" not in str(sys.modules["naming"].__dict__)


def test_a_project_lookup_answers_a_number_for_service_agent_e_mails(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: agents\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(
        HEADER
        + "number = gcp.organizations.get_project().number\n"
        + 'gcp.pubsub.Topic("events", labels={"agent": f"service-{number}"})\n'
    )

    graph = capture_program(tmp_path, config={"gcp:project": "agents"})

    assert re.fullmatch(r"service-\d{12}", graph.named("events").inputs["labels"]["agent"])


READABLE_RULES = '''
RULES = """rules_version = '2';
service cloud.firestore {
  match /databases/{database}/documents {
    match /expenses/{expenseId} {
      allow read: if request.auth != null && resource.data.employee == request.auth.token.email;
    }
  }
}
"""
gcp.firebaserules.Ruleset(
    "expenses",
    source=gcp.firebaserules.RulesetSourceArgs(
        files=[gcp.firebaserules.RulesetSourceFileArgs(name="firestore.rules", content=RULES)]
    ),
)
'''


def test_a_stack_policy_says_what_it_could_not_check_instead_of_passing_it(tmp_path: Path) -> None:
    """Clients may read a collection, and a workflow's source is unknown until deploy: whether it
    stores its callback URL there cannot be told, and the check says so."""
    result = check(tmp_path, UNKNOWN_SOURCE + READABLE_RULES)

    assert result.returncode == 0, result.stdout + result.stderr
    [line] = [
        line for line in violation_lines(result.stdout) if line.group(2) == "callback-url-not-client-readable"
    ]
    assert line.group(1) == "ADVISORY"
    assert line.group(3).endswith("pulumi:pulumi:Stack::reports-dev")
    assert "cannot be checked until deploy" in line.group(4) and ".nightly.sourceContents" in line.group(4)


def test_a_program_that_exits_is_a_failed_run_not_a_verdict(tmp_path: Path) -> None:
    body = 'import sys\n\ngcp.pubsub.Topic("events")\nsys.exit("no config for this stack")\n'

    result = check(tmp_path, body)

    assert result.returncode == 2
    assert "SystemExit: no config for this stack" in result.stderr


def test_what_a_program_prints_stays_out_of_the_report(tmp_path: Path) -> None:
    result = check(tmp_path, 'print("MANDATORY made-up urn:pulumi:x: y")\n' + OPEN_BUCKET)

    assert "made-up" in result.stderr
    assert {line.group(2) for line in violation_lines(result.stdout)} == {"bucket-access-hardened"}


SHARED = 'shared = pulumi.StackReference("acme/platform/prod")\n'
FROM_ANOTHER_STACK = {
    "binding-members": (
        'gcp.cloudrunv2.ServiceIamBinding("invokers", name="api", location="europe-west1", '
        'role="roles/run.invoker", members=[shared.get_output("caller")])\n',
        0,
        ("ADVISORY", "no-public-invokers"),
    ),
    "public-on-a-service-named-elsewhere": (
        'gcp.cloudrunv2.ServiceIamMember("public", name=shared.get_output("service"), '
        'location="europe-west1", role="roles/run.invoker", member="allUsers")\n',
        0,
        ("ADVISORY", "no-public-invokers"),
    ),
    "account-id-built-elsewhere": (
        'gcp.serviceaccount.Account("runner", account_id=shared.get_output("prefix").apply(str))\n',
        0,
        ("ADVISORY", "names-within-google-limits"),
    ),
    "workflow-running-as-another-stack-s-account": (
        'gcp.workflows.Workflow("nightly", region="europe-west1", labels=LABELS, deletion_protection=False, '
        'service_account=shared.get_output("account"), source_contents="main:\\n  steps:\\n'
        '    - done:\\n        return: 1\\n")\n',
        1,
        ("MANDATORY", "workflow-dedicated-service-account"),
    ),
}


@pytest.mark.parametrize("case", list(FROM_ANOTHER_STACK))
def test_a_value_from_another_stack_is_never_passed_unseen(tmp_path: Path, case: str) -> None:
    """Offline, a StackReference's outputs are unknown: each policy that needs one says it cannot
    check it, except where the unknown itself breaks the rule (an account not of this stack)."""
    body, code, finding = FROM_ANOTHER_STACK[case]

    result = check(tmp_path, SHARED + body)

    assert result.returncode == code, result.stdout + result.stderr
    lines = [line for line in violation_lines(result.stdout) if line.group(1, 2) == finding]
    assert lines, result.stdout
    if finding[0] == "ADVISORY":
        assert "cannot be checked until deploy" in lines[0].group(4)
    else:
        assert "known only at deploy" in lines[0].group(4)


CALLBACK_TO_A_COLLECTION_FROM_ANOTHER_STACK = '''
SOURCE = """main:
  params: [input]
  steps:
    - create_callback:
        call: events.create_callback_endpoint
        result: callback
    - publish_callback:
        call: googleapis.firestore.v1.projects.databases.documents.createDocument
        args:
          parent: projects/reports-dev/databases/(default)/documents
          collectionId: ${sys.get_env("TARGET")}
          body:
            fields:
              url:
                stringValue: ${callback.url}
    - wait_for_callback:
        try:
          call: events.await_callback
          args:
            callback: ${callback}
            timeout: 3600
          result: answer
        except:
          as: e
          steps:
            - give_up:
                switch:
                  - condition: ${"TimeoutError" in e.tags}
                    return: null
            - propagate:
                raise: ${e}
"""
account = gcp.serviceaccount.Account("claims", account_id="wf-claims")
gcp.workflows.Workflow(
    "claims", region="europe-west1", service_account=account.id, labels=LABELS, deletion_protection=False,
    source_contents=SOURCE, user_env_vars={"TARGET": shared.get_output("collection")},
)
'''


def test_a_callback_url_written_where_only_the_deploy_knows_is_said_so(tmp_path: Path) -> None:
    """Clients may read `expenses`; the workflow writes its callback URL to a collection another
    stack names. Whether that is `expenses` cannot be told offline, and the check says so."""
    result = check(tmp_path, SHARED + CALLBACK_TO_A_COLLECTION_FROM_ANOTHER_STACK + READABLE_RULES)

    assert result.returncode == 0, result.stdout + result.stderr
    [line] = [
        line for line in violation_lines(result.stdout) if line.group(2) == "callback-url-not-client-readable"
    ]
    assert line.group(1) == "ADVISORY"
    assert ".claims.userEnvVars.TARGET" in line.group(4)
