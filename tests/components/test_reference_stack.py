"""The reference stack registers the whole platform, each piece under its owner."""

import json
from pathlib import Path

from approvals.engine.language.definition import parse
from approvals.testing import CapturedResource, Graph, capture_program

REPO = Path(__file__).resolve().parents[2]

FUNCTION = "approvals:index:PythonFunction"
COMPONENTS = {
    "approvals:index:ApprovalPlatform",
    "approvals:index:ApprovalWorkflow",
    "approvals:index:ApprovalDatabase",
    "approvals:index:ApprovalHosting",
    "approvals:index:PythonFunction",
}
EVENTS_TOPIC = "projects/approvals-dev/topics/approvals-approval-events"
ROLES = ("start", "decide", "cancel", "delegate", "link", "status", "notify", "web")
COLLECTION_ENV = {
    "APPROVALS_REQUESTS_COLLECTION": "approval_requests",
    "APPROVALS_CALLBACKS_COLLECTION": "approval_callbacks",
    "APPROVALS_AUDIT_COLLECTION": "approval_audit",
    "APPROVALS_WORKFLOWS_COLLECTION": "approval_workflows",
    "APPROVALS_DELEGATIONS_COLLECTION": "approval_delegations",
    "APPROVALS_LINK_USES_COLLECTION": "approval_link_uses",
    "APPROVALS_MEMBERSHIPS_COLLECTION": "approval_memberships",
    "APPROVALS_REQUESTERS_COLLECTION": "approval_requesters",
    "APPROVALS_STARTS_COLLECTION": "approval_starts",
}


def owner(graph: Graph, resource: CapturedResource) -> CapturedResource:
    return graph.by_urn(resource.parent)


def test_every_resource_hangs_under_a_component(dev_graph: Graph) -> None:
    for resource in dev_graph.resources:
        if resource.type == "approvals:index:ApprovalPlatform" or (
            resource.type == "approvals:index:ApprovalWorkflow"
        ):
            assert resource.parent.endswith("pulumi:pulumi:Stack::approvals-dev"), resource.urn
        else:
            assert owner(dev_graph, resource).type in COMPONENTS, resource.urn


def test_the_platform_owns_the_shared_pieces(dev_graph: Graph) -> None:
    platform = dev_graph.named("approvals", "approvals:index:ApprovalPlatform")
    owned = {r.type for r in dev_graph.children(platform)}
    assert {
        "approvals:index:ApprovalDatabase",
        "approvals:index:ApprovalHosting",
        "approvals:index:PythonFunction",
        "gcp:serviceaccount/account:Account",
        "gcp:storage/bucket:Bucket",
        "gcp:projects/service:Service",
        "gcp:projects/iAMCustomRole:IAMCustomRole",
        "gcp:projects/iAMMember:IAMMember",
        "gcp:pubsub/subscription:Subscription",
        "gcp:secretmanager/secret:Secret",
        "random:index/randomPassword:RandomPassword",
    } <= owned
    functions = [r for r in dev_graph.children(platform) if r.type == "approvals:index:PythonFunction"]
    assert sorted(f.name for f in functions) == sorted(f"approvals-{role}" for role in ROLES)


def function_of(graph: Graph, role: str) -> CapturedResource:
    component = graph.named(f"approvals-{role}", FUNCTION)
    return next(r for r in graph.children(component) if r.type.endswith("function:Function"))


def test_each_function_is_built_from_its_own_sources(dev_graph: Graph) -> None:
    for role in ROLES:
        component = dev_graph.named(f"approvals-{role}", FUNCTION)
        function = function_of(dev_graph, role)
        source = next(
            r for r in dev_graph.children(component) if r.type.endswith("bucketObject:BucketObject")
        )
        build = function.inputs["buildConfig"]
        assert build["runtime"] == "python311"
        assert build["entryPoint"] == role
        assert build["serviceAccount"].endswith("approvals-build@approvals-dev.iam.gserviceaccount.com")
        assert build["source"]["storageSource"]["object"] == source.outputs["name"]
        archive = set(source.inputs["source"].assets)
        assert {"main.py", "requirements.txt", "common/__init__.py"} <= archive
        assert not any("__pycache__" in path or path.endswith(".pyc") for path in archive)
        service = function.inputs["serviceConfig"]
        assert service["serviceAccountEmail"] == f"approvals-{role}@approvals-dev.iam.gserviceaccount.com"
        assert service["maxInstanceCount"] == 3
        assert service["ingressSettings"] == "ALLOW_ALL"
        assert service["environmentVariables"]["GOOGLE_CLOUD_PROJECT"] == "approvals-dev"


def test_status_serves_its_long_polls_concurrently_and_the_others_one_at_a_time(dev_graph: Graph) -> None:
    for role in ROLES:
        service = function_of(dev_graph, role).inputs["serviceConfig"]
        if role == "status":
            # A long poll holds its request for up to 50 s: one instance serves 40 of them,
            # on as many threads, which Cloud Run allows from one vCPU.
            assert (service["maxInstanceRequestConcurrency"], service["availableCpu"]) == (40, "1")
            assert service["environmentVariables"]["THREADS"] == "40"
        else:
            assert service["maxInstanceRequestConcurrency"] == 1
            assert "availableCpu" not in service and "THREADS" not in service["environmentVariables"]


def test_functions_get_the_settings_they_read(dev_graph: Graph) -> None:
    def env(role: str) -> dict[str, str]:
        return function_of(dev_graph, role).inputs["serviceConfig"]["environmentVariables"]

    for role in ROLES:
        if role != "web":
            assert COLLECTION_ENV.items() <= env(role).items(), role
    assert {env(r)["APPROVALS_DATABASE"] for r in ROLES} == {"(default)"}
    assert env("cancel")["APPROVALS_EVENTS_TOPIC"] == EVENTS_TOPIC
    assert env("notify")["APPROVALS_SITE_URL"] == "https://approvals-dev-approvals.web.app"
    # No mail relay configured: notify logs the messages.
    assert "APPROVALS_MAIL_WEBHOOK_URL" not in env("notify")
    # A service account's ID token is for start's URL on the site's domains: start takes one, and
    # status, where the pipeline that asked reads its request; no other function does.
    assert json.loads(env("start")["APPROVALS_START_AUDIENCES"]) == [
        "https://approvals-dev-approvals.web.app/api/start",
        "https://approvals-dev-approvals.firebaseapp.com/api/start",
    ]
    assert [r for r in ROLES if "APPROVALS_START_AUDIENCES" in env(r)] == ["start", "status"]
    # The page learns the collections it reads, and only those, from the web function.
    web_names = {key for key in env("web") if key.startswith("APPROVALS_") and key != "APPROVALS_DATABASE"}
    assert web_names == {
        "APPROVALS_REQUESTS_COLLECTION",
        "APPROVALS_AUDIT_COLLECTION",
        "APPROVALS_MEMBERSHIPS_COLLECTION",
        "APPROVALS_EXTENSIONS_COLLECTION",
    }


def test_the_link_key_reaches_link_and_notify_from_secret_manager(dev_graph: Graph) -> None:
    (secret,) = dev_graph.of_type("gcp:secretmanager/secret:Secret")
    (version,) = dev_graph.of_type("gcp:secretmanager/secretVersion:SecretVersion")
    (password,) = dev_graph.of_type("random:index/randomPassword:RandomPassword")
    assert secret.inputs["secretId"] == "approvals-link-key"
    assert secret.inputs["replication"] == {"auto": {}}
    assert version.inputs["secret"] == secret.outputs["name"]
    assert version.inputs["secretData"] == password.outputs["result"]
    assert len(password.outputs["result"]) == password.inputs["length"] >= 43
    pinned = {
        "key": "APPROVALS_LINK_KEY",
        "projectId": "approvals-dev",
        "secret": "approvals-link-key",
        "version": version.outputs["version"],
    }
    for role in ROLES:
        config = function_of(dev_graph, role).inputs["serviceConfig"]
        assert "APPROVALS_LINK_KEY" not in config["environmentVariables"]
        expected = [pinned] if role in ("link", "notify") else None
        assert config.get("secretEnvironmentVariables") == expected, role


def test_notify_gets_the_mail_relay_it_is_given() -> None:
    graph = capture_program(
        REPO / "__main__.py",
        stack="dev",
        config={"approvals:mailWebhookUrl": "https://mail.example.com/relay", "approvals:workflows": "[]"},
    )
    notify = function_of(graph, "notify").inputs["serviceConfig"]["environmentVariables"]
    assert notify["APPROVALS_MAIL_WEBHOOK_URL"] == "https://mail.example.com/relay"
    assert (
        "APPROVALS_MAIL_WEBHOOK_URL"
        not in function_of(graph, "link").inputs["serviceConfig"]["environmentVariables"]
    )


def test_events_are_pushed_to_notify(dev_graph: Graph) -> None:
    (subscription,) = dev_graph.of_type("gcp:pubsub/subscription:Subscription")
    assert subscription.inputs["name"] == "approvals-notify"
    assert subscription.inputs["topic"] == EVENTS_TOPIC
    notify_url = function_of(dev_graph, "notify").outputs["url"]
    assert subscription.inputs["pushConfig"]["pushEndpoint"] == notify_url
    # notify answers 500 when the relay fails, so Pub/Sub must retry, and never drop the subscription.
    assert subscription.inputs["retryPolicy"] == {"minimumBackoff": "10s", "maximumBackoff": "600s"}
    assert subscription.inputs["expirationPolicy"] == {"ttl": ""}


def test_hosting_rewrites_the_api_and_the_page(dev_graph: Graph) -> None:
    (version,) = dev_graph.of_type("gcp:firebase/hostingVersion:HostingVersion")
    rewrites = {(r["glob"], r["run"]["serviceId"]) for r in version.inputs["config"]["rewrites"]}
    assert rewrites == {
        ("/api/start", "approvals-start"),
        ("/api/decide", "approvals-decide"),
        ("/api/cancel", "approvals-cancel"),
        ("/api/delegations", "approvals-delegate"),
        ("/link", "approvals-link"),
        ("/api/requests/*", "approvals-status"),
        ("**", "approvals-web"),
    }
    # Hosting takes the first match: the page's catch-all comes last.
    assert version.inputs["config"]["rewrites"][-1]["glob"] == "**"
    (release,) = dev_graph.of_type("gcp:firebase/hostingRelease:HostingRelease")
    assert release.inputs["versionName"] == version.outputs["name"]


def test_firestore_rules_deny_by_default(dev_graph: Graph) -> None:
    (ruleset,) = dev_graph.of_type("gcp:firebaserules/ruleset:Ruleset")
    (rules_file,) = ruleset.inputs["source"]["files"]
    rules = rules_file["content"]
    for private in ("approval_callbacks", "approval_link_uses", "approval_workflows", "votes"):
        assert f"/{private}" not in rules, f"{private} must have no client rule at all"
    assert "match /approval_audit/{eventId}" in rules
    assert "match /approval_delegations/{delegator}" in rules
    assert "if true" not in rules
    assert "allow write: if false" in rules
    (release,) = dev_graph.of_type("gcp:firebaserules/release:Release")
    assert release.inputs["name"] == "cloud.firestore"
    assert release.inputs["rulesetName"] == "projects/approvals-dev/rulesets/" + ruleset.outputs["name"]


def test_the_translation_workflow_matches_its_template(dev_graph: Graph) -> None:
    component = dev_graph.named("translation-validation", "approvals:index:ApprovalWorkflow")
    (workflow,) = [r for r in dev_graph.children(component) if r.type == "gcp:workflows/workflow:Workflow"]
    (account,) = [r for r in dev_graph.children(component) if r.type.endswith("account:Account")]
    source = parse(workflow.inputs["sourceContents"])
    assert {"main", "request_approval"} <= set(source.subworkflows)
    env = workflow.inputs["userEnvVars"]
    assert json.loads(env["APPROVERS"]) == ["alice@example.com", "bob@example.com", "group:reviewers"]
    assert env["APPROVAL_TIMEOUT_SECONDS"] == "3600"
    assert env["SOURCE_LANGUAGE"] == "en" and env["TARGET_LANGUAGE"] == "fr"
    assert env["APPROVALS_REQUESTS_COLLECTION"] == "approval_requests"
    assert env["APPROVALS_EVENTS_TOPIC"] == EVENTS_TOPIC
    assert workflow.inputs["serviceAccount"] == account.outputs["name"]
    assert workflow.inputs["region"] == "europe-west1"
    assert workflow.inputs["callLogLevel"] == "LOG_ERRORS_ONLY"
    assert workflow.inputs["labels"]["approval-template"] == "translation-validation"


def test_the_platform_owns_the_events_topic(dev_graph: Graph) -> None:
    platform = dev_graph.named("approvals", "approvals:index:ApprovalPlatform")
    (topic,) = dev_graph.of_type("gcp:pubsub/topic:Topic")
    assert owner(dev_graph, topic) == platform
    assert topic.inputs["name"] == "approvals-approval-events"
    assert topic.inputs["project"] == "approvals-dev"
    assert topic.inputs["labels"] == {"app": "approvals", "managed-by": "pulumi"}


def documents_in(graph: Graph, collection: str) -> dict[str, CapturedResource]:
    """The program's Firestore documents in `collection`, by id."""
    return {
        d.inputs["documentId"]: d
        for d in graph.of_type("gcp:firestore/document:Document")
        if d.inputs["collection"] == collection
    }


def test_each_workflow_is_registered_for_the_start_function(dev_graph: Graph) -> None:
    documents = documents_in(dev_graph, "approval_workflows")
    assert set(documents) == {"translation-validation", "expense-approval", "release-approval"}
    registration = documents["translation-validation"]
    fields = json.loads(registration.inputs["fields"])
    assert fields["workflow_name"]["stringValue"] == (
        "projects/approvals-dev/locations/europe-west1/workflows/translation-validation"
    )
    schema = json.loads(fields["input_schema"]["stringValue"])
    assert "text" in schema["required"]


def test_the_stack_s_groups_are_stored_for_the_functions_and_the_rules(dev_graph: Graph) -> None:
    """Pulumi.dev.yaml's approvals:groups: one membership document per member, under the platform."""
    memberships = documents_in(dev_graph, "approval_memberships")
    assert {member: json.loads(d.inputs["fields"]) for member, d in memberships.items()} == {
        "lee@example.com": {"groups": {"arrayValue": {"values": [{"stringValue": "legal"}]}}},
        "rex@example.com": {"groups": {"arrayValue": {"values": [{"stringValue": "reviewers"}]}}},
    }
    assert {owner(dev_graph, d).type for d in memberships.values()} == {"approvals:index:ApprovalPlatform"}


def test_the_stack_exports_what_a_user_needs(dev_graph: Graph) -> None:
    outputs = dev_graph.outputs
    assert outputs["site_url"] == "https://approvals-dev-approvals.web.app"
    assert outputs["start_url"].endswith("/approvals-start")
    assert outputs["decide_url"].endswith("/approvals-decide")
    for role in ("cancel", "delegate", "link", "notify"):
        assert outputs[f"{role}_url"].endswith(f"/approvals-{role}")
    assert outputs["database_name"] == "(default)"
    assert outputs["events_topic"] == EVENTS_TOPIC
    assert set(outputs["workflows"]) == {"translation-validation", "expense-approval", "release-approval"}


def test_apis_are_enabled_once_and_never_disabled(dev_graph: Graph) -> None:
    services = [s.inputs["service"] for s in dev_graph.of_type("gcp:projects/service:Service")]
    assert len(services) == len(set(services))
    assert {"workflows.googleapis.com", "firestore.googleapis.com", "translate.googleapis.com"} <= set(
        services
    )
    assert {"pubsub.googleapis.com", "secretmanager.googleapis.com"} <= set(services)
    assert all(not s.inputs["disableOnDestroy"] for s in dev_graph.of_type("gcp:projects/service:Service"))


def test_the_page_queries_have_their_composite_indexes(dev_graph: Graph) -> None:
    indexes = dev_graph.of_type("gcp:firestore/index:Index")
    assert all(index.inputs["database"] == "(default)" for index in indexes)
    fields = sorted(
        (
            index.inputs["collection"],
            [(f["fieldPath"], f.get("arrayConfig") or f.get("order")) for f in index.inputs["fields"]],
        )
        for index in indexes
    )
    assert fields == [
        ("approval_audit", [("request_id", "ASCENDING"), ("at", "ASCENDING"), ("__name__", "ASCENDING")]),
        (
            "approval_requests",
            [("approver_groups", "CONTAINS"), ("status", "ASCENDING"), ("__name__", "ASCENDING")],
        ),
        (
            "approval_requests",
            [("approvers", "CONTAINS"), ("status", "ASCENDING"), ("__name__", "ASCENDING")],
        ),
        (
            "approval_requests",
            [("delegates", "CONTAINS"), ("status", "ASCENDING"), ("__name__", "ASCENDING")],
        ),
        (
            "approval_requests",
            [("requester", "ASCENDING"), ("created_at", "DESCENDING"), ("__name__", "DESCENDING")],
        ),
    ]
