"""Who may call the local Workflows APIs: the stack's own IAM, checked as Google's front ends check it.

In the cloud, the Executions API and the callback endpoints take an OAuth
token, find the identity behind it, and check that identity's permissions on
the project. Locally each function has a metadata server of its own, which
hands out a token for that function's service account; this module knows
which token is whose, and what the program's project IAM grants each
identity (custom roles with their permissions, and the predefined Workflows
roles), so that "only decide may call back" holds on one machine too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# The emulators' admin credential (the Firestore emulator's too): tests and the
# stack's own tools read with it; no function or workflow is handed it.
OWNER_TOKEN = "owner"
# What the predefined roles a program may grant hold, of what the local APIs check
# (Workflows access control: roles/workflows.invoker and roles/workflows.admin).
PREDEFINED_ROLES: Mapping[str, frozenset[str]] = {
    "roles/workflows.invoker": frozenset({"workflows.executions.create", "workflows.callbacks.send"}),
    "roles/workflows.admin": frozenset(
        {
            "workflows.executions.create",
            "workflows.executions.cancel",
            "workflows.executions.get",
            "workflows.executions.list",
            "workflows.callbacks.send",
        }
    ),
}
_MEMBER_KINDS = ("serviceAccount:", "user:")


class AccessDenied(Exception):  # noqa: N818 - named for the answer it becomes
    """The call lacks a token (401) or a permission (403)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status

    @property
    def status_name(self) -> str:
        """Google's status for the answer, in error bodies and as the gRPC code's name."""
        return "UNAUTHENTICATED" if self.status == 401 else "PERMISSION_DENIED"


class Access:
    """Tokens -> identities, and identities -> the project permissions the program grants them."""

    # A plain class, not a dataclass: the engine imports this module, and the CLI's start
    # would pay for creating a dataclass (see `parser`).
    __slots__ = ("permissions", "tokens")

    def __init__(
        self, permissions: dict[str, frozenset[str]] | None = None, tokens: dict[str, str] | None = None
    ) -> None:
        self.permissions = {} if permissions is None else permissions
        self.tokens = {} if tokens is None else tokens

    @classmethod
    def from_grants(cls, grants: Iterable[tuple[str, str]], roles: Mapping[str, Iterable[str]]) -> Access:
        """From (role, member) project grants; ``roles`` gives each custom role's permissions."""
        permissions: dict[str, set[str]] = {}
        for role, member in grants:
            kind = next((k for k in _MEMBER_KINDS if member.startswith(k)), None)
            if kind is None:
                continue
            granted = set(roles.get(role, ())) | set(PREDEFINED_ROLES.get(role, ()))
            permissions.setdefault(member[len(kind) :].lower(), set()).update(granted)
        return cls({who: frozenset(held) for who, held in permissions.items()})

    def issue(self, token: str, identity: str) -> None:
        """Let ``token`` stand for ``identity`` (a metadata server hands it to that identity)."""
        self.tokens[token] = identity.lower()

    def check(self, token: str, permission: str) -> None:
        """Raise AccessDenied unless ``token`` may use ``permission``."""
        if token == OWNER_TOKEN:
            return
        identity = self.tokens.get(token)
        if identity is None:
            raise AccessDenied(401, "the token is not valid")
        if permission not in self.permissions.get(identity, frozenset()):
            raise AccessDenied(403, f"{identity} does not have {permission}")


def check_caller(
    access: Access | None, headers: Mapping[str, str], permission: str, *, token_required: bool
) -> None:
    """AccessDenied unless the caller's `Authorization: Bearer` token may use ``permission``.

    Without an access policy (a bare engine, `emulator run`) any caller may, with a token
    when ``token_required``: calling a callback needs "an OAuth token with the
    cloud-platform scope" (Wait using callbacks: "Invoke a callback endpoint") whoever holds it.
    """
    if access is None and not token_required:
        return
    token = bearer_token(authorization_of(headers))
    if access is not None:
        access.check(token, permission)


def bearer_token(authorization: str) -> str:
    """The token of an ``Authorization: Bearer`` value, or AccessDenied (401)."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AccessDenied(401, "a bearer token is required")
    return token.strip()


def authorization_of(headers: Mapping[str, str]) -> str:
    """The Authorization header's value, whatever its case ("" without one)."""
    return next((v for k, v in headers.items() if k.lower() == "authorization"), "")
