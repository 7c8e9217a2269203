"""Who may ask a workflow for approval, and how many of their requests may wait at once.

Signing in proves an address, not a right to ask: with Google sign-in, anyone
with a Google account has a verified e-mail. Each workflow therefore lists its
requesters, and the start function refuses everyone else, so a stranger cannot
make the platform mail approvers their text from a trusted sender.
"""

from collections.abc import Iterable, Mapping, Sequence

from .errors import InvalidArgumentError
from .groups import GROUP_PREFIX, check_declared
from .validation import DOMAIN, EMAIL

DOMAIN_PREFIX = "domain:"
# Domains where anyone can get an address (and a Google account with it, which sign-in
# verifies): never a default. The big consumer providers; any other must be named too.
PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "mail.com",
        "yandex.com",
        "zoho.com",
    }
)
# Service accounts' domains: every project's default compute account is at
# developer.gserviceaccount.com, so a domain there lets strangers' accounts ask. Name the account.
SERVICE_ACCOUNT_DOMAIN = "gserviceaccount.com"
DEFAULT_MAX_PENDING = 10
MAX_PENDING_LIMIT = 1000
ALLOWED = "an e-mail, group:NAME (a declared group) or domain:example.com"


def _domain_of(email: str) -> str:
    return email.rsplit("@", 1)[1].lower()


def _is_service_account_domain(domain: str) -> bool:
    return domain == SERVICE_ACCOUNT_DOMAIN or domain.endswith("." + SERVICE_ACCOUNT_DOMAIN)


def check_requesters(argument: str, requesters: object, declared: Mapping[str, object]) -> list[str]:
    """The entries lower-cased, or InvalidArgumentError naming the first that is not ``ALLOWED``."""
    if isinstance(requesters, str) or not isinstance(requesters, Sequence) or not requesters:
        raise InvalidArgumentError(argument, "must be a non-empty list", ALLOWED)
    checked = []
    for entry in requesters:
        text = entry.lower() if isinstance(entry, str) else ""
        valid = (
            EMAIL.match(text)
            or (text.startswith(DOMAIN_PREFIX) and DOMAIN.match(text[len(DOMAIN_PREFIX) :]))
            or (text.startswith(GROUP_PREFIX) and len(text) > len(GROUP_PREFIX))
        )
        if not valid:
            raise InvalidArgumentError(argument, f"{entry!r} is not valid", ALLOWED)
        if text.startswith(DOMAIN_PREFIX) and _is_service_account_domain(text[len(DOMAIN_PREFIX) :]):
            raise InvalidArgumentError(
                argument,
                f"{entry!r} would match service accounts by domain, which start never does",
                "each service account's e-mail, or a group:NAME it is a member of",
            )
        checked.append(text)
    check_declared(argument, checked, declared)
    return list(dict.fromkeys(checked))


def default_requesters(
    argument: str, approvers: Iterable[str], groups: Mapping[str, Iterable[str]]
) -> list[str]:
    """``domain:`` entries for every domain the approvers (and their groups' members) have addresses in.

    The people of the organisation that approves may ask it; a stranger's
    address, in another domain, may not. An approver at a public mail domain
    would open it to everyone there, so ``argument`` must then be given.
    """
    people: list[str] = []
    for approver in approvers:
        if approver.lower().startswith(GROUP_PREFIX):
            people.extend(groups.get(approver[len(GROUP_PREFIX) :].lower(), ()))
        else:
            people.append(approver)
    domains = sorted({_domain_of(person) for person in people})
    public = [d for d in domains if d in PUBLIC_MAIL_DOMAINS]
    if public:
        raise InvalidArgumentError(
            argument,
            f"has no safe default: an approver's address is at {', '.join(public)}, where anyone has one",
            ALLOWED + " entries naming who may ask",
        )
    return [DOMAIN_PREFIX + domain for domain in domains]
