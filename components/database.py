"""The Firestore database and the security rules that guard it."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from .errors import InvalidArgumentError
from .functions.common.contract import COLLECTIONS, PLAIN_COLLECTION_NAME
from .outputs import register_declared

DEFAULT_DATABASE = "(default)"


@dataclass(frozen=True)
class Collections:
    """Firestore collection names the platform uses. Override to share a database.

    The defaults and the env vars that carry each name to the functions, the
    workflows and the page come from the contract (functions/common/contract.json).
    """

    requests: str = COLLECTIONS["requests"].default
    callbacks: str = COLLECTIONS["callbacks"].default
    audit: str = COLLECTIONS["audit"].default
    workflows: str = COLLECTIONS["workflows"].default
    delegations: str = COLLECTIONS["delegations"].default
    link_uses: str = COLLECTIONS["link_uses"].default
    memberships: str = COLLECTIONS["memberships"].default
    """Approver groups: one document per member e-mail, `{groups: [...]}` (ApprovalPlatformArgs.groups)."""
    requesters: str = COLLECTIONS["requesters"].default
    """Each requester's recent starts per workflow (the start function's limit on waiting requests)."""
    starts: str = COLLECTIONS["starts"].default
    """Who asked for each request the start function started (the workflow checks its requester there)."""
    extensions: str = COLLECTIONS["extensions"].default
    """What each workflow's template adds: its page panel, and the collections its requester may read."""

    @classmethod
    def renamed(cls, names: Mapping[str, str], argument: str = "collections") -> "Collections":
        """The defaults, with those `names` gives renamed by key (`{"requests": "team_requests"}`)."""
        unknown = sorted(set(names) - set(COLLECTIONS))
        if unknown:
            raise InvalidArgumentError(argument, f"unknown collections {unknown}", ", ".join(COLLECTIONS))
        collections = cls(**names)
        collections.check(argument)
        return collections

    @classmethod
    def prefixed(cls, prefix: str) -> "Collections":
        """Every collection renamed `<prefix><key>`: what two platforms sharing one database need,
        as the membership and extension documents of one would otherwise grant access to the other's."""
        collections = cls(**{key: f"{prefix}{key}" for key in COLLECTIONS})
        collections.check("prefix")
        return collections

    def check(self, argument: str) -> None:
        """Raise unless the names are distinct and plain: they are pasted into the security rules,
        where `{x}` would be a wildcard over every collection."""
        names = list(self.names().values())
        odd = [n for n in names if not (isinstance(n, str) and PLAIN_COLLECTION_NAME.fullmatch(n))]
        if odd:
            raise InvalidArgumentError(
                argument, f"{odd} cannot name collections", "letters, digits, _ and -, up to 100, not __..."
            )
        shared = sorted({n for n in names if names.count(n) > 1})
        if shared:
            raise InvalidArgumentError(argument, f"{shared} would hold two of the platform's collections")

    def names(self) -> dict[str, str]:
        """Each collection's name by its contract key."""
        return {key: getattr(self, key) for key in COLLECTIONS}

    def environment(self, keys: Iterable[str] | None = None) -> dict[str, str]:
        """The env vars that carry these names (`APPROVALS_REQUESTS_COLLECTION`, ...): all, or `keys`'."""
        return {COLLECTIONS[key].env: getattr(self, key) for key in (COLLECTIONS if keys is None else keys)}


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
{_rule_functions(collections)}
{_collection_rules(collections)}  }}
}}
"""


def _rule_functions(collections: Collections) -> str:
    """Who the caller is, and what they may read of a request."""
    return f"""    function signedIn() {{
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
    function extensionOf(workflow) {{
      return get(/databases/$(database)/documents/{collections.extensions}/$(workflow)).data;
    }}
"""


def _collection_rules(collections: Collections) -> str:
    """One match per collection clients may read; every other collection matches none."""
    return f"""    // Approval requests. Their votes subcollection matches no rule: clients see
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

    // What each workflow's template adds to the page (its panel): the page of any
    // signed-in person lists them. Written by `pulumi up`, one per workflow.
    match /{collections.extensions}/{{workflow}} {{
      allow get, list: if signedIn();
      allow write: if false;

      // The template's own documents, under its workflow's extension (the catalog's
      // requester_collections, such as translation_validation's translations): each
      // readable by the person who asked for it.
      match /{{collection}}/{{document}} {{
        allow get: if signedIn() && resource.data.requester == caller()
          && collection in extensionOf(workflow).requester_collections;
        allow write: if false;
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
