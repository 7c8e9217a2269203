"""The Firestore database and the security rules that guard it."""

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

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

    def names(self) -> dict[str, str]:
        return {
            "requests": self.requests,
            "callbacks": self.callbacks,
            "audit": self.audit,
            "workflows": self.workflows,
        }


def firestore_rules(collections: Collections) -> str:
    """Rules that deny by default and let signed-in people read only their own requests.

    Nothing is writable from a browser: decisions go through the decide function,
    which authenticates the approver. Callback URLs, the audit trail and the
    workflow registry have no rule at all, so clients can never read them.
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

    // Approval requests: visible to their approvers (by e-mail, or by a group
    // in the token's `groups` claim) and to whoever asked.
    match /{collections.requests}/{{requestId}} {{
      allow get, list: if signedIn()
        && (caller() in resource.data.approvers
          || resource.data.requester == caller()
          || (request.auth.token.groups is list
            && resource.data.approver_groups.hasAny(request.auth.token.groups)));
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


class ApprovalDatabase(pulumi.ComponentResource):
    """A Firestore (native) database, or an existing one, with the platform's rules."""

    database_name: pulumi.Output[str]
    database: gcp.firestore.Database | None
    ruleset: gcp.firebaserules.Ruleset
    release: gcp.firebaserules.Release
    inbox_index: gcp.firestore.Index
    group_inbox_index: gcp.firestore.Index

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
        if existing is not None:
            self.database = None
            self.database_name = existing.name
        else:
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
            self.database_name = self.database.name

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
            name=self.database_name.apply(
                lambda db: "cloud.firestore" if db == DEFAULT_DATABASE else f"cloud.firestore/{db}"
            ),
            ruleset_name=self.ruleset.name.apply(
                lambda ruleset_id: f"projects/{project}/rulesets/{ruleset_id}"
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.ruleset]),
        )
        # The page's inbox asks for "requests I approve, in these states": an
        # array-contains plus an `in` filter, which Firestore serves only from a
        # composite index. Group members ask the same of `approver_groups`
        # (array-contains-any), which needs an index of its own.
        self.inbox_index = self._inbox_index(f"{name}-inbox-index", project, collections, "approvers", child)
        self.group_inbox_index = self._inbox_index(
            f"{name}-group-inbox-index", project, collections, "approver_groups", child
        )
        self.register_outputs({"database_name": self.database_name})

    def _inbox_index(
        self,
        name: str,
        project: str,
        collections: Collections,
        array_field: str,
        opts: pulumi.ResourceOptions,
    ) -> gcp.firestore.Index:
        """A composite index for "requests whose `array_field` names me, in these states"."""
        return gcp.firestore.Index(
            name,
            project=project,
            database=self.database_name,
            collection=collections.requests,
            query_scope="COLLECTION",
            fields=[
                gcp.firestore.IndexFieldArgs(field_path=array_field, array_config="CONTAINS"),
                gcp.firestore.IndexFieldArgs(field_path="status", order="ASCENDING"),
                gcp.firestore.IndexFieldArgs(field_path="__name__", order="ASCENDING"),
            ],
            opts=opts,
        )
