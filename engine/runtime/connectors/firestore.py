"""googleapis.firestore.v1.projects.databases.documents.*, on the Firestore emulator.

Each method maps onto the Firestore REST API (`/v1/{name}`, `/v1/{parent}/{collectionId}`,
`/v1/{database}/documents:commit`, ...) the way the connector does on Google
Cloud; the emulator is reached at FIRESTORE_EMULATOR_HOST with the token
"owner", which the emulator treats like an admin client: security rules do
not apply, as they do not to the workflow's service account.
"""

from __future__ import annotations

from approvals.engine.runtime.connectors.rest import Endpoint, emulator_connectors
from approvals.engine.runtime.tokens import StaticTokens

PREFIX = "googleapis.firestore.v1.projects.databases.documents."
# The emulator's admin credential: requests bearing it bypass security rules.
OWNER = StaticTokens(access="owner", identity="owner")

ENDPOINTS = {
    "batchGet": Endpoint("POST", "{database}/documents:batchGet", body=True),
    "beginTransaction": Endpoint("POST", "{database}/documents:beginTransaction", body=True),
    "commit": Endpoint("POST", "{database}/documents:commit", body=True),
    "createDocument": Endpoint("POST", "{parent}/{collectionId}", body=True),
    "delete": Endpoint("DELETE", "{name}"),
    "get": Endpoint("GET", "{name}"),
    "list": Endpoint("GET", "{parent}/{collectionId}"),
    "patch": Endpoint("PATCH", "{name}", body=True),
    "rollback": Endpoint("POST", "{database}/documents:rollback", body=True),
    "runQuery": Endpoint("POST", "{parent}:runQuery", body=True),
}


CONNECTORS = emulator_connectors(
    PREFIX,
    ENDPOINTS,
    lambda settings: settings.firestore_host,
    "Firestore emulator (FIRESTORE_EMULATOR_HOST)",
    OWNER,
)
