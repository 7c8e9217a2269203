"""Each identity holds exactly the roles its job needs, and nothing is public but hosting's way in."""

from collections import defaultdict

from approvals.testing import Graph

DB_CONDITION = 'resource.name == "projects/approvals-dev/databases/(default)"'
STARTER = "projects/approvals-dev/roles/approvals_approvals_executionStarter"
SENDER = "projects/approvals-dev/roles/approvals_approvals_callbackSender"
CANCELLER = "projects/approvals-dev/roles/approvals_approvals_executionCanceller"
VIEWER = "projects/approvals-dev/roles/approvals_approvals_executionViewer"
EVENTS_TOPIC = ("approvals-dev", "approvals-approval-events", "roles/pubsub.publisher")


def bindings(graph: Graph) -> dict[str, set[tuple[str, str | None]]]:
    """member -> {(role, condition expression)} over every project IAMMember."""
    found: dict[str, set[tuple[str, str | None]]] = defaultdict(set)
    for member in graph.of_type("gcp:projects/iAMMember:IAMMember"):
        condition = member.inputs.get("condition")
        found[member.inputs["member"]].add((member.inputs["role"], condition and condition["expression"]))
    return found


def sa(account_id: str) -> str:
    return f"serviceAccount:{account_id}@approvals-dev.iam.gserviceaccount.com"


def test_platform_identities_hold_only_their_own_roles(dev_graph: Graph) -> None:
    found = bindings(dev_graph)
    # start records each start, for the requester's limit and for the workflow to check who asked.
    assert found[sa("approvals-start")] == {(STARTER, None), ("roles/datastore.user", DB_CONDITION)}
    assert found[sa("approvals-decide")] == {(SENDER, None), ("roles/datastore.user", DB_CONDITION)}
    # A vote cast through a signed link may decide the request, and then sends the callback.
    assert found[sa("approvals-link")] == {(SENDER, None), ("roles/datastore.user", DB_CONDITION)}
    assert found[sa("approvals-cancel")] == {(CANCELLER, None), ("roles/datastore.user", DB_CONDITION)}
    # delegate starts the delegation timer, which announces when a delegation starts and ends,
    # and cancels the timer of a delegation it replaces or deletes.
    assert found[sa("approvals-delegate")] == {
        (STARTER, None),
        (CANCELLER, None),
        ("roles/datastore.user", DB_CONDITION),
    }
    assert found[sa("approvals-timer")] == {("roles/logging.logWriter", None)}
    # status reads a request's stages and whether its execution ended: it writes nothing.
    assert found[sa("approvals-status")] == {(VIEWER, None), ("roles/datastore.viewer", DB_CONDITION)}
    # notify stamps the delegates in force on the requests it mails about.
    assert found[sa("approvals-notify")] == {("roles/datastore.user", DB_CONDITION)}
    assert sa("approvals-web") not in found
    assert sa("approvals-pusher") not in found
    assert found[sa("approvals-build")] == {
        ("roles/logging.logWriter", None),
        ("roles/artifactregistry.writer", None),
        ("roles/storage.objectViewer", None),
    }


def test_custom_roles_carry_one_permission_each(dev_graph: Graph) -> None:
    roles = {
        r.outputs["name"]: r.inputs["permissions"]
        for r in dev_graph.of_type("gcp:projects/iAMCustomRole:IAMCustomRole")
    }
    assert roles == {
        STARTER: ["workflows.executions.create"],
        SENDER: ["workflows.callbacks.send"],
        CANCELLER: ["workflows.executions.cancel"],
        VIEWER: ["workflows.executions.get"],
    }


def test_each_workflow_runs_as_its_own_account_with_its_templates_roles(dev_graph: Graph) -> None:
    found = bindings(dev_graph)
    assert found[sa("wf-translation-validation")] == {
        ("roles/datastore.user", DB_CONDITION),
        ("roles/logging.logWriter", None),
        ("roles/cloudtranslate.user", None),
    }
    for plain in ("wf-expense-approval", "wf-release-approval"):
        assert found[sa(plain)] == {
            ("roles/datastore.user", DB_CONDITION),
            ("roles/logging.logWriter", None),
        }
    accounts = [
        w.inputs["serviceAccount"]
        for w in dev_graph.within("approvals:index:ApprovalWorkflow", "gcp:workflows/workflow:Workflow")
    ]
    assert len(set(accounts)) == len(accounts) == 3


def test_workflows_and_cancel_publish_to_the_events_topic_only(dev_graph: Graph) -> None:
    """Publisher on the platform's topic, never on the project (the project bindings above are exact)."""
    publishers = {
        (m.inputs["project"], m.inputs["topic"], m.inputs["role"], m.inputs["member"])
        for m in dev_graph.of_type("gcp:pubsub/topicIAMMember:TopicIAMMember")
    }
    assert publishers == {
        (*EVENTS_TOPIC, sa("wf-translation-validation")),
        (*EVENTS_TOPIC, sa("wf-expense-approval")),
        (*EVENTS_TOPIC, sa("wf-release-approval")),
        (*EVENTS_TOPIC, sa("approvals-cancel")),
        (*EVENTS_TOPIC, sa("approvals-timer")),
    }
    assert all(
        role != "roles/pubsub.publisher" for roles in bindings(dev_graph).values() for role, _ in roles
    )


def test_no_primitive_roles_and_no_public_access_but_hosting(dev_graph: Graph) -> None:
    for member in dev_graph.of_type("gcp:projects/iAMMember:IAMMember"):
        assert member.inputs["role"] not in {"roles/owner", "roles/editor", "roles/viewer"}
        assert member.inputs["member"] not in {"allUsers", "allAuthenticatedUsers"}
    public = {
        (m.inputs["name"], m.inputs["role"])
        for m in dev_graph.of_type("gcp:cloudrunv2/serviceIamMember:ServiceIamMember")
        if m.inputs["member"] == "allUsers"
    }
    # Hosting forwards to these; each checks an ID token (link: a signed link) on every call.
    assert public == {
        (f"approvals-{role}", "roles/run.invoker")
        for role in ("web", "start", "decide", "cancel", "delegate", "link", "status")
    }


def test_only_the_pusher_account_may_call_notify(dev_graph: Graph) -> None:
    invokers = {
        (m.inputs["role"], m.inputs["member"])
        for m in dev_graph.of_type("gcp:cloudrunv2/serviceIamMember:ServiceIamMember")
        if m.inputs["name"] == "approvals-notify"
    }
    assert invokers == {("roles/run.invoker", sa("approvals-pusher"))}
    # ...which is the account Pub/Sub pushes events as.
    (subscription,) = dev_graph.of_type("gcp:pubsub/subscription:Subscription")
    pusher = sa("approvals-pusher").removeprefix("serviceAccount:")
    assert subscription.inputs["pushConfig"]["oidcToken"] == {"serviceAccountEmail": pusher}


def test_only_link_and_notify_read_the_link_key(dev_graph: Graph) -> None:
    (secret,) = dev_graph.of_type("gcp:secretmanager/secret:Secret")
    readers = {
        (m.inputs["secretId"], m.inputs["role"], m.inputs["member"])
        for m in dev_graph.of_type("gcp:secretmanager/secretIamMember:SecretIamMember")
    }
    accessor = (secret.inputs["secretId"], "roles/secretmanager.secretAccessor")
    assert readers == {(*accessor, sa("approvals-link")), (*accessor, sa("approvals-notify"))}


def test_the_source_bucket_is_private(dev_graph: Graph) -> None:
    (bucket,) = dev_graph.of_type("gcp:storage/bucket:Bucket")
    assert bucket.inputs["uniformBucketLevelAccess"] is True
    assert bucket.inputs["publicAccessPrevention"] == "enforced"
