"""The pack: its name, description and policies, in the order they are reported."""

from pulumi_policy import Policy

from .approval_mode import approval_mode_not_auto_in_prod
from .approvers import prod_approver_count
from .awaits import callback_await_bounded_and_handled
from .callbacks import callback_url_not_client_readable
from .cloud_functions import function_ingress_and_scaling
from .deployability import DEPLOYABILITY
from .firestore_rules import firestore_rules_not_open
from .iam import no_primitive_roles, project_roles_allow_list
from .invokers import no_public_invokers
from .labels import required_labels
from .protection import prod_data_protection
from .service_accounts import workflow_dedicated_service_account
from .storage import bucket_access_hardened

PACK_NAME = "approvals"
DESCRIPTION = (
    "The approvals platform's security model: dedicated service accounts, least-privilege IAM, bounded "
    "and handled approval callbacks kept out of clients' reach, closed Firestore rules, hardened buckets "
    "and functions, protected production data, no single approver and no automatic approval in production; "
    "and stacks that deploy on a fresh project: APIs enabled first, valid names, delete-first replacements, "
    "secret access and indexes in order."
)

POLICIES: list[Policy] = [
    workflow_dedicated_service_account,
    no_primitive_roles,
    no_public_invokers,
    project_roles_allow_list,
    callback_await_bounded_and_handled,
    callback_url_not_client_readable,
    prod_data_protection,
    firestore_rules_not_open,
    bucket_access_hardened,
    function_ingress_and_scaling,
    required_labels,
    prod_approver_count,
    approval_mode_not_auto_in_prod,
    # Deployability: what would make `pulumi up` fail on a fresh project, or on a later change.
    *DEPLOYABILITY,
]
