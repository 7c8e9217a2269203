"""A corpus of other teams' Pulumi programs, each checked offline as `pulumi preview --policy-pack` would.

Teams gate their own stacks with `python -m approvals.policies check`, and their programs are
not written like the reference stack: auto-named resources, 1st and 2nd gen functions, Cloud Run,
Cloud SQL, Pub/Sub, other providers (random, time), their own component libraries, stack
references, secrets from config, explicit providers for other projects and regions, loops and
config-driven construction, programs split across modules. Every program must be checkable, and
the check must find what the CLI would: nothing mandatory in a clean program, and in a broken one
exactly the one mandatory violation its authors got wrong.

Each folder under corpus/ is a Pulumi project (`Pulumi.yaml`, `Pulumi.<stack>.yaml`). EXPECTED
below says what the check finds in each. The programs run in this process one after the other,
as a CI job checking many stacks would; several have modules of the same name (`database.py`,
`network.py`, `settings.py`), and each program must get its own.
"""

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from approvals.policies.check import main
from tests.policies.policy_cli import violation_lines

CORPUS = Path(__file__).resolve().parent / "corpus"

BUCKET = "gcp:storage/bucket:Bucket"
WORKFLOW = "gcp:workflows/workflow:Workflow"
FUNCTION_V2 = "gcp:cloudfunctionsv2/function:Function"
ACCOUNT = "gcp:serviceaccount/account:Account"


@dataclass(frozen=True)
class Expected:
    """What the check reports on a program run with its stack."""

    stack: str
    mandatory: tuple[str, str, str] | None = None
    """The one mandatory violation: (policy, resource type token, logical name); None when clean."""
    advisory: frozenset[str] = field(default_factory=frozenset)
    """The policies with advisory findings (they never fail the check)."""

    @property
    def exit_code(self) -> int:
        return 0 if self.mandatory is None else 1


def clean(stack: str, *advisory: str) -> Expected:
    return Expected(stack, None, frozenset(advisory))


def violates(stack: str, policy: str, type_token: str, name: str, *advisory: str) -> Expected:
    return Expected(stack, (policy, type_token, name), frozenset(advisory))


EXPECTED: dict[str, Expected] = {
    # A hand-rolled two-person approval in prod: protected Firestore, callbacks in a closed collection.
    "access-requests": clean("prod"),
    # The platform team's StaticSite component (vendored acme_platform.py), one per configured site.
    "acme-static-sites": clean("prod"),
    # IAM as data: bindings per role in two projects; the sandbox grants roles/viewer.
    "analytics-iam": violates(
        "prod", "no-primitive-roles", "gcp:projects/iAMBinding:IAMBinding", "sandbox-viewer"
    ),
    # A local component package (acme_kit) with a shared Postgres and Cloud Run services.
    "catalog-services": clean("dev"),
    # A plain workflow waiting on a chat approval callback, with no timeout.
    "chat-approval-callback": violates(
        "dev", "callback-await-bounded-and-handled", WORKFLOW, "failover-approval"
    ),
    # A deploy gate following the platform's env conventions, switched to auto approval in prod.
    "deploy-gate": violates("prod", "approval-mode-not-auto-in-prod", WORKFLOW, "checkout-deploy-gate"),
    # Config-driven pipelines (dataclass); one leaves deletion protection off in prod.
    "etl-workflows": violates("prod", "prod-data-protection", WORKFLOW, "ledger-backfill"),
    # The callback URL is written into the expense document that employees may read.
    "expense-callbacks": violates("dev", "callback-url-not-client-readable", WORKFLOW, "expense-claim"),
    # Firestore rules from a file; the release that serves them is replaced create-first.
    "firestore-app": violates(
        "dev", "replaced-delete-first", "gcp:firebaserules/release:Release", "loyalty-rules-release"
    ),
    # Account ids built as <team>-<service>-<env>: one is 37 characters long.
    "growth-services": violates("staging", "names-within-google-limits", ACCOUNT, "recommendations-engine"),
    # Test-mode Firestore rules left in place.
    "hackathon-firebase": violates(
        "dev", "firestore-rules-not-open", "gcp:firebaserules/ruleset:Ruleset", "test-mode"
    ),
    # A public Cloud Run service that Firebase Hosting rewrites to: allowed.
    "hosted-status-page": clean("prod"),
    # Auto-named Pub/Sub, bucket and 1st gen functions, one invoker on a function.
    "ingest-pubsub-v1": clean("dev"),
    # Two secrets read by a function; it waits for one grant and not the other.
    "invoice-renderer": violates("staging", "secret-access-before-function", FUNCTION_V2, "invoice-renderer"),
    # A 1st gen Cloud Run service opened to allUsers.
    "landing-cloudrun-v1": violates(
        "prod", "no-public-invokers", "gcp:cloudrun/iamMember:IamMember", "landing-public"
    ),
    # 1st gen HTTP functions in a loop over settings.py, invokers per function.
    "legacy-functions": clean("dev"),
    # Twenty auto-named buckets from a table, eight through an archive project's provider; one
    # keeps public access prevention "inherited".
    "media-buckets": violates("dev", "bucket-access-hardened", BUCKET, "media-legacy-uploads"),
    # main: app/, secrets rotated with pulumiverse_time and pulumi_random, scheduler-invoked function.
    "ml-batch-scoring": clean("staging"),
    # Two projects and regions through explicit providers, protected Cloud SQL and its replica.
    "multi-region-dr": clean("prod"),
    # A workflow definition rendered in an apply by render.py, which imports templates.py where it is
    # used (the two import each other). The CLI keeps the program's folder on sys.path throughout.
    "newsletter-workflow": clean("dev"),
    # Scheduler -> workflow with its own account; IAM at project, bucket and account level; time.Sleep.
    "nightly-export": clean("prod"),
    # main: src/ over database.py and service.py; the API's account gets cloudsql.client on the project.
    "orders-api": violates(
        "staging", "project-roles-allow-list", "gcp:projects/iAMMember:IAMMember", "orders-api-sql-client"
    ),
    # The approvals components themselves, as a consumer uses them, beside a team bucket.
    "procurement-approvals": clean("dev"),
    # Topics and subscriptions from a config object (settings.py), topic- and subscription-level IAM.
    "pubsub-fanout": clean("dev"),
    # A team's own approval workflow in prod with a single approver.
    "release-signoff": violates("prod", "prod-approver-count", WORKFLOW, "release-signoff"),
    # database.py builds the instance; random passwords into secrets; Output.all for JDBC URLs.
    "reporting-sql": clean("prod"),
    # APIs enabled by the stack; the topic does not wait for Pub/Sub's.
    "sandbox-bootstrap": violates("dev", "apis-enabled-before-use", "gcp:pubsub/topic:Topic", "events"),
    # Every resource waits for the API it needs (apis.py).
    "search-indexer": clean("dev"),
    # A workflow shares its account with a 1st gen function. Its source is an apply over the
    # function's URL, unknown during a preview: the callback policy says so.
    "shared-etl-runner": violates(
        "dev",
        "workflow-dedicated-service-account",
        WORKFLOW,
        "etl-orchestrator",
        "callback-await-bounded-and-handled",
    ),
    # StackReferences for the network and the platform. Offline, the other stacks' outputs are
    # unknown, so the invoker's member cannot be checked (a real preview reads them); both policies
    # that read it say so rather than pass it.
    "storefront-cross-stack": clean("staging", "no-primitive-roles", "no-public-invokers"),
    # A 2nd gen function that may scale to 250 instances.
    "thumbnailer": violates("dev", "function-ingress-and-scaling", FUNCTION_V2, "thumbnailer"),
    # No labels anywhere, and two indexes created at once: advisories only.
    "unlabelled-legacy": clean("dev", "required-labels", "indexes-one-at-a-time"),
    # A 2nd gen function opened to allUsers for GitHub.
    "webhook-receiver": violates(
        "staging",
        "no-public-invokers",
        "gcp:cloudfunctionsv2/functionIamMember:FunctionIamMember",
        "github-webhooks-public",
    ),
}


def resource_of(urn: str, stack: str) -> tuple[str, str]:
    """(type token, logical name) of `urn:pulumi:<stack>::<project>::<parent$...$type>::<name>`."""
    scope, _project, qualified_type, name = urn.split("::")
    assert scope == f"urn:pulumi:{stack}", urn
    return qualified_type.rsplit("$", 1)[-1], name


def test_the_corpus_is_every_folder_and_both_kinds_of_program() -> None:
    folders = {
        path.name for path in CORPUS.iterdir() if path.is_dir() and not path.name.startswith(("_", "."))
    }

    assert folders == set(EXPECTED)
    assert len(EXPECTED) >= 26
    clean_programs = [name for name, expected in EXPECTED.items() if expected.mandatory is None]
    assert 0.4 <= len(clean_programs) / len(EXPECTED) <= 0.6, clean_programs


@pytest.mark.parametrize("program", list(EXPECTED))
def test_the_check_finds_what_the_program_gets_wrong(
    program: str, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = EXPECTED[program]

    code = main([str(CORPUS / program), "--stack", expected.stack])

    out, err = capsys.readouterr()
    assert code != 2, f"{program} could not be run:\n{err}"
    report = f"{program} (stack {expected.stack}):\n{out}{err}"
    lines = violation_lines(out)
    mandatory = {
        (line.group(2), *resource_of(line.group(3), expected.stack))
        for line in lines
        if line.group(1) == "MANDATORY"
    }
    assert mandatory == ({expected.mandatory} if expected.mandatory else set()), report
    assert {line.group(2) for line in lines if line.group(1) == "ADVISORY"} == expected.advisory, report
    assert code == expected.exit_code, report
