"""The Firestore database and the security rules that guard it."""

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from .outputs import register_declared

DEFAULT_DATABASE = "(default)"
# The seed sample's collection; the translation template writes to it by this name.
TRANSLATIONS_COLLECTION = "translations"


@dataclass(frozen=True)
class Collections:
    """Firestore collection names the platform uses. Override to share a database."""

    requests: str = "approval_requests"
    callbacks: str = "approval_callbacks"
    audit: str = "approval_audit"
    workflows: str = "approval_workflows"
    delegations: str = "approval_delegations"
    link_uses: str = "approval_link_uses"
    memberships: str = "approval_memberships"
    """Approver groups: one document per member e-mail, `{groups: [...]}` (ApprovalPlatformArgs.groups)."""
    requesters: str = "approval_requesters"
    """Each requester's recent starts per workflow (the start function's limit on waiting requests)."""
    starts: str = "approval_starts"
    """Who asked for each request the start function started (the workflow checks its requester there)."""

    def names(self) -> dict[str, str]:
        return {
            "requests": self.requests,
            "callbacks": self.callbacks,
            "audit": self.audit,
            "workflows": self.workflows,
            "delegations": self.delegations,
            "link_uses": self.link_uses,
            "memberships": self.memberships,
            "requesters": self.requesters,
            "starts": self.starts,
        }

    def environment(self) -> dict[str, str]:
        """The functions' settings for these names (`APPROVALS_REQUESTS_COLLECTION`, ...)."""
        return {f"APPROVALS_{key.upper()}_COLLECTION": name for key, name in self.names().items()}


def firestore_rules(collections: Collections) -> str:
    """Rules that deny by default and let signed-in people read only what concerns them.

    Nothing is writable from a browser: votes, cancellations and delegations go
    through the functions, which authenticate the caller. Votes, callback URLs,
    used links and the workflow registry have no rule at all, so clients can
    never read them.
    """
    return f"""rules_version = '2';
service cloud.firestore {{
  match /databases/{{database}}/documents {{
    function signedIn() {{
      return request.auth != null && request.auth.token.email_verified == true;
    }}
    function caller() {{
      return request.auth.token.email.lower();
    }}
    // The caller's approver groups, as the platform stores them (ID tokens carry
    // none, and a `groups` claim is never read): their membership document, if any.
    function callerGroups() {{
      let membership = /databases/$(database)/documents/{collections.memberships}/$(caller());
      return exists(membership) ? get(membership).data.groups : [];
    }}
    // Approvers (by e-mail, or as a member of one of the request's groups) and
    // whoever asked may read a request. So may the people standing in for an
    // approver: rules cannot look delegations up for a list, so the functions
    // stamp the delegates in force on an open request (`delegates`), and a
    // decided, expired or cancelled request carries none. Principals are stored
    // lower-case, as caller() is.
    function mayRead(approvalRequest) {{
      return caller() in approvalRequest.approvers
        || approvalRequest.requester == caller()
        || caller() in approvalRequest.get('delegates', [])
        || approvalRequest.approver_groups.hasAny(callerGroups());
    }}
    function requestNamed(requestId) {{
      return get(/databases/$(database)/documents/{collections.requests}/$(requestId)).data;
    }}

    // Approval requests. Their votes subcollection matches no rule: clients see
    // the tally on the request, which names the voters unless the request's
    // votes_visible is after_decision (then counts only, until it is decided).
    match /{collections.requests}/{{requestId}} {{
      allow get, list: if signedIn() && mayRead(resource.data);
      allow write: if false;
    }}

    // The audit trail: an event is visible to whoever may read its request
    // (a list must filter on request_id for the rules to look the request up).
    match /{collections.audit}/{{eventId}} {{
      allow get, list: if signedIn() && mayRead(requestNamed(resource.data.request_id));
      allow write: if false;
    }}

    // Delegations: visible to the approver who delegated and to the delegate.
    match /{collections.delegations}/{{delegator}} {{
      allow get, list: if signedIn()
        && (resource.data.delegator == caller() || resource.data.delegate == caller());
      allow write: if false;
    }}

    // Approver groups: a signed-in user reads their own membership (the page asks
    // for their groups' requests with it), and nobody lists anyone's.
    match /{collections.memberships}/{{member}} {{
      allow get: if signedIn() && member == caller();
      allow write: if false;
    }}

    // The seed's translation documents: visible to the person who asked.
    match /{TRANSLATIONS_COLLECTION}/{{executionId}} {{
      allow get: if signedIn() && resource.data.requester == caller();
      allow write: if false;
    }}
  }}
}}
"""


class DatabaseOutputs:
    """What an ApprovalDatabase hands out, declared once: its typed attributes and registered outputs."""

    database_name: pulumi.Output[str]


# The page's inbox asks for "requests I approve, in these states": an array-contains plus an
# `in` filter, which Firestore serves only from a composite index. Group members ask the same
# of `approver_groups` (array-contains-any), and delegates of `delegates` (the people standing
# in for an approver, stamped by the functions): an index each. "My requests, newest first"
# and a request's History (its audit events in time order) are an equality and an order on
# another field: one more each. (key, collection field of Collections, [(field, kind)]).
INDEXES = (
    ("inbox", "requests", [("approvers", "CONTAINS"), ("status", "ASCENDING")]),
    ("group-inbox", "requests", [("approver_groups", "CONTAINS"), ("status", "ASCENDING")]),
    ("delegate-inbox", "requests", [("delegates", "CONTAINS"), ("status", "ASCENDING")]),
    ("my-requests", "requests", [("requester", "ASCENDING"), ("created_at", "DESCENDING")]),
    ("history", "audit", [("request_id", "ASCENDING"), ("at", "ASCENDING")]),
)


class ApprovalDatabase(pulumi.ComponentResource, DatabaseOutputs):
    """A Firestore (native) database, or an existing one, with the platform's rules."""

    database: gcp.firestore.Database | None
    ruleset: gcp.firebaserules.Ruleset
    release: gcp.firebaserules.Release
    indexes: list[gcp.firestore.Index]
    """The composite indexes the page's queries need, each created after the one before."""

    def __init__(
        self,
        name: str,
        *,
        project: str,
        location: str,
        database_id: str,
        existing: gcp.firestore.Database | None,
        collections: Collections,
        point_in_time_recovery: bool,
        deletion_protection: bool,
        depends_on: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("approvals:index:ApprovalDatabase", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=depends_on)
        self.database = None
        if existing is None:
            self.database = gcp.firestore.Database(
                name,
                project=project,
                name=database_id,
                location_id=location,
                type="FIRESTORE_NATIVE",
                concurrency_mode="OPTIMISTIC",
                point_in_time_recovery_enablement=(
                    "POINT_IN_TIME_RECOVERY_ENABLED"
                    if point_in_time_recovery
                    else "POINT_IN_TIME_RECOVERY_DISABLED"
                ),
                delete_protection_state=(
                    "DELETE_PROTECTION_ENABLED" if deletion_protection else "DELETE_PROTECTION_DISABLED"
                ),
                deletion_policy="ABANDON" if deletion_protection else "DELETE",
                opts=child,
            )
        database_name = (existing or self.database).name
        self._rules(name, project, collections, database_name, child)
        # Asked for several indexes of one database at once, Firestore answers with 409
        # contention errors (terraform-provider-google #16599, #16664): each index waits for
        # the one before.
        self.indexes = []
        for key, collection, fields in INDEXES:
            after = pulumi.ResourceOptions(depends_on=self.indexes[-1:])
            self.indexes.append(
                self._index(
                    f"{name}-{key}-index",
                    project,
                    database_name,
                    getattr(collections, collection),
                    pulumi.ResourceOptions.merge(child, after),
                    fields,
                )
            )
        register_declared(self, DatabaseOutputs, database_name=database_name)

    def _rules(
        self,
        name: str,
        project: str,
        collections: Collections,
        database_name: pulumi.Output[str],
        child: pulumi.ResourceOptions,
    ) -> None:
        """The security rules, as a ruleset released for this database."""
        self.ruleset = gcp.firebaserules.Ruleset(
            f"{name}-rules",
            project=project,
            source=gcp.firebaserules.RulesetSourceArgs(
                files=[
                    gcp.firebaserules.RulesetSourceFileArgs(
                        name="firestore.rules", content=firestore_rules(collections)
                    )
                ]
            ),
            opts=child,
        )
        self.release = gcp.firebaserules.Release(
            f"{name}-rules-release",
            project=project,
            # The default database's release is plain "cloud.firestore"; others add their id.
            name=database_name.apply(
                lambda db: "cloud.firestore" if db == DEFAULT_DATABASE else f"cloud.firestore/{db}"
            ),
            ruleset_name=self.ruleset.name.apply(
                lambda ruleset_id: f"projects/{project}/rulesets/{ruleset_id}"
            ),
            # A new ruleset replaces the release under the same name, which cannot exist twice
            # (terraform-provider-google #15497, #20917): the old release goes first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.ruleset], delete_before_replace=True),
        )

    def _index(
        self,
        name: str,
        project: str,
        database_name: pulumi.Output[str],
        collection: str,
        opts: pulumi.ResourceOptions,
        fields: list[tuple[str, str]],
    ) -> gcp.firestore.Index:
        """A composite index on a collection: (field, CONTAINS | ASCENDING | DESCENDING) in order.

        Firestore appends `__name__` in the last field's direction; it is written out
        so that the index Google reports matches the one declared.
        """
        last_order = fields[-1][1] if fields[-1][1] != "CONTAINS" else "ASCENDING"
        return gcp.firestore.Index(
            name,
            project=project,
            database=database_name,
            collection=collection,
            query_scope="COLLECTION",
            fields=[
                gcp.firestore.IndexFieldArgs(field_path=path, array_config="CONTAINS")
                if kind == "CONTAINS"
                else gcp.firestore.IndexFieldArgs(field_path=path, order=kind)
                for path, kind in (*fields, ("__name__", last_order))
            ],
            opts=opts,
        )
