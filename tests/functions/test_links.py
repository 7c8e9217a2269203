"""Signed decision links and the payload digest, directly."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from functions.common import links

KEY = "k" * 32
NOW = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
DIGEST = links.digest("Check", {"text": "Hello"})


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APPROVALS_LINK_KEY", KEY)


def token(expires_in: timedelta = timedelta(hours=1)) -> str:
    return links.sign("r1", "Bob@Example.com", DIGEST, NOW + expires_in)


def test_round_trip() -> None:
    link = links.verify(token(), NOW)

    assert link.request_id == "r1"
    assert link.approver == "bob@example.com"
    assert link.digest == DIGEST
    assert link.expires_at == int((NOW + timedelta(hours=1)).timestamp())
    assert len(link.nonce) >= 16


def test_every_link_has_its_own_nonce() -> None:
    assert links.verify(token(), NOW).nonce != links.verify(token(), NOW).nonce


def test_token_is_url_safe() -> None:
    assert all(c.isalnum() or c in "-_." for c in token())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _reclaimed(original: str, **changes: object) -> str:
    """The token with changed claims and the original signature."""
    body, signature = original.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return f"{_b64(json.dumps({**claims, **changes}).encode())}.{signature}"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: _reclaimed(t, a="mallory@example.com"),
        lambda t: _reclaimed(t, e=2**40),
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: t.split(".")[0],
        lambda t: t + ".x",
        lambda t: "",
        lambda t: "not.a-token",
        lambda t: "é" + t,
        lambda t: t + "A" * 4096,
    ],
    ids=[
        "approver",
        "expiry",
        "signature",
        "no-signature",
        "extra-part",
        "empty",
        "garbage",
        "non-ascii",
        "oversized",
    ],
)
def test_tampered_token_is_invalid(tamper: Callable[[str], str]) -> None:
    with pytest.raises(links.InvalidLinkError):
        links.verify(tamper(token()), NOW)


def test_signed_claims_of_the_wrong_shape_are_invalid() -> None:
    body = _b64(json.dumps({"r": "r1", "e": "soon"}).encode())
    forged = f"{body}.{_b64(hmac.new(KEY.encode(), body.encode(), hashlib.sha256).digest())}"

    with pytest.raises(links.InvalidLinkError):
        links.verify(forged, NOW)


def test_expired_token() -> None:
    with pytest.raises(links.ExpiredLinkError):
        links.verify(token(timedelta(seconds=-1)), NOW)
    with pytest.raises(links.ExpiredLinkError):
        links.verify(token(timedelta(0)), NOW)


def test_token_of_another_key_is_invalid(monkeypatch: pytest.MonkeyPatch) -> None:
    issued = token()
    monkeypatch.setenv("APPROVALS_LINK_KEY", "x" * 32)

    with pytest.raises(links.InvalidLinkError):
        links.verify(issued, NOW)


@pytest.mark.parametrize("key", ["", "k" * 31], ids=["empty", "short"])
def test_short_key_is_refused(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    issued = token()
    monkeypatch.setenv("APPROVALS_LINK_KEY", key)

    with pytest.raises(links.LinkSettingsError):
        token()
    with pytest.raises(links.LinkSettingsError):
        links.verify(issued, NOW)


def test_digest_is_stable_and_ignores_key_order() -> None:
    first = links.digest("Check", {"a": 1, "b": {"x": [1, 2], "y": "é"}})
    second = links.digest("Check", {"b": {"y": "é", "x": [1, 2]}, "a": 1})

    assert first == second
    # Pinned: votes store it, so any change would void every link in flight.
    pinned = hashlib.sha256('{"payload":{"a":"é","b":1},"subject":"s"}'.encode()).hexdigest()
    assert links.digest("s", {"b": 1, "a": "é"}) == pinned


@pytest.mark.parametrize(
    ("subject", "payload"),
    [("Check!", {"text": "Hello"}), ("Check", {"text": "Hello!"}), ("Check", {"text": "Hello", "x": None})],
)
def test_digest_changes_with_what_is_shown(subject: str, payload: dict[str, object]) -> None:
    assert links.digest(subject, payload) != DIGEST


def test_link_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APPROVALS_SITE_URL", "https://approvals.example.com/")

    assert links.link_url("abc.def") == "https://approvals.example.com/link?token=abc.def"


def test_link_url_needs_the_site(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("APPROVALS_SITE_URL", raising=False)

    with pytest.raises(links.LinkSettingsError):
        links.link_url("abc.def")
