"""Settings from the environment, read when used so tests can set them late."""

from __future__ import annotations

import json
import os

from .contract import COLLECTIONS

GOOGLE_CERTS_URL = "https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com"
# Google's OAuth 2.0 signing certificates (kid -> x509 PEM), which sign service accounts' ID tokens.
GOOGLE_OIDC_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"


def env(name: str, default: str = "") -> str:
    """The variable's value, or ``default`` when unset or empty."""
    return os.environ.get(name) or default


def collection(key: str) -> str:
    """The name of the platform's collection ``key`` (a contract key): its env var, else the default."""
    entry = COLLECTIONS[key]
    return env(entry.env, entry.default)


def project_id() -> str:
    """The Google Cloud project the function runs in."""
    return env("GOOGLE_CLOUD_PROJECT")


def database() -> str:
    """The Firestore database id holding the approvals collections."""
    return env("APPROVALS_DATABASE", "(default)")


def firebase_project_id() -> str:
    """The Firebase project whose ID tokens are accepted."""
    return env("FIREBASE_PROJECT_ID", project_id())


def firebase_certs_url() -> str:
    """Where the ID-token signing certificates are published."""
    return env("FIREBASE_AUTH_CERTS_URL", GOOGLE_CERTS_URL)


def google_oidc_certs_url() -> str:
    """Where the certificates that sign Google's OIDC ID tokens (service accounts') are published."""
    return env("GOOGLE_OIDC_CERTS_URL", GOOGLE_OIDC_CERTS_URL)


def start_audiences() -> frozenset[str]:
    """The audiences a service account's ID token for start may name: start's URLs, a JSON list.

    Empty (unset or malformed) accepts no Google token, so a misconfiguration fails closed.
    """
    try:
        audiences = json.loads(env("APPROVALS_START_AUDIENCES", "[]"))
    except ValueError:
        return frozenset()
    if not isinstance(audiences, list):
        return frozenset()
    return frozenset(a for a in audiences if isinstance(a, str) and a)


def requests_collection() -> str:
    """Collection of approval requests."""
    return collection("requests")


def callbacks_collection() -> str:
    """Collection of callback URLs, readable only by the decide function."""
    return collection("callbacks")


def audit_collection() -> str:
    """Append-only audit trail of every request."""
    return collection("audit")


def delegations_collection() -> str:
    """Approvers' delegations, one document per delegator."""
    return collection("delegations")


def link_uses_collection() -> str:
    """Signed decision links already used, one document per link nonce."""
    return collection("link_uses")


def memberships_collection() -> str:
    """Approver groups, one document per member e-mail: ``{groups: [...]}`` (written by ``pulumi up``)."""
    return collection("memberships")


def requesters_collection() -> str:
    """Each requester's recent starts per workflow, for the limit on their waiting requests."""
    return collection("requesters")


def starts_collection() -> str:
    """One document per request the start function started: who asked, for the workflow to check."""
    return collection("starts")


def events_topic() -> str:
    """Full name of the Pub/Sub topic request state changes go to; empty publishes nothing."""
    return env("APPROVALS_EVENTS_TOPIC")


def delegation_timer_workflow() -> str:
    """Full name of the workflow that announces when a delegation starts and ends; empty: none."""
    return env("APPROVALS_DELEGATION_TIMER_WORKFLOW")


def pubsub_emulator_host() -> str:
    """``HOST:PORT`` of the Pub/Sub emulator, or empty in production."""
    return env("PUBSUB_EMULATOR_HOST")


def site_url() -> str:
    """The approval site's origin, which signed links point to."""
    return env("APPROVALS_SITE_URL").rstrip("/")


def link_key() -> str:
    """The secret that signs decision links (Secret Manager in the cloud)."""
    return env("APPROVALS_LINK_KEY")


def mail_webhook_url() -> str:
    """Where notify POSTs one JSON mail per recipient; empty only logs them."""
    return env("APPROVALS_MAIL_WEBHOOK_URL")


def workflows_collection() -> str:
    """Registry of workflows the start function may run."""
    return collection("workflows")


def workflows_emulator_host() -> str:
    """``HOST:PORT`` of the local engine's HTTP side (callback URLs), or empty in production."""
    return env("WORKFLOWS_EMULATOR_HOST")


def workflows_emulator_grpc_host() -> str:
    """``HOST:PORT`` of the local Executions gRPC API, or empty in production.

    Separate from the HTTP host: the client library only speaks gRPC, and the
    engine serves gRPC and HTTP on two ports.
    """
    return env("WORKFLOWS_EMULATOR_GRPC_HOST")


def metadata_host() -> str:
    """The metadata server's host; google-auth honours the same variable."""
    return env("GCE_METADATA_HOST", "metadata.google.internal")


def callback_max_attempts() -> int:
    """How many times decide tries to deliver a callback."""
    return max(1, int(env("CALLBACK_MAX_ATTEMPTS", "5")))


def callback_initial_backoff() -> float:
    """Seconds before the first callback retry; doubled for each next one."""
    return max(0.0, float(env("CALLBACK_INITIAL_BACKOFF_SECONDS", "0.5")))


def callback_budget_seconds() -> float:
    """How long decide may spend delivering one callback: well within the function's 60 s timeout,
    so that it withdraws a failed vote itself rather than being killed with the claim held."""
    return max(1.0, float(env("CALLBACK_BUDGET_SECONDS", "40")))


def claim_timeout_seconds() -> float:
    """After how long a claim (a request left ``deciding``) counts as abandoned: its process was
    killed mid-delivery. The next vote on it delivers the recorded decision again."""
    return max(0.0, float(env("CLAIM_TIMEOUT_SECONDS", "120")))
