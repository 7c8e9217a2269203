"""The local stand-in for Google's ID tokens: what the signer mints, and what the verifier refuses.

The verifier is what the local front ends run, so each way to forge a token
(no signature, another key, a key id nobody knows, an old token, a token for
another service or from another issuer) is refused here first.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import google.auth.transport.requests
import pytest
import requests
from google.oauth2 import id_token

from approvals.emulator.google_tokens import (
    GoogleCertsServer,
    GoogleTokenSigner,
    IdTokenVerifier,
    InvalidTokenError,
)
from approvals.emulator.jwt import b64url, b64url_decode, signing_input
from approvals.emulator.metadata import MetadataServer
from tests.support.metadata import identity_token

ACCOUNT = "approvals-pusher@approvals-dev.iam.gserviceaccount.com"
AUDIENCE = "https://europe-west1-approvals-dev.cloudfunctions.net/approvals-notify"


@pytest.fixture(scope="module")
def signer() -> GoogleTokenSigner:
    return GoogleTokenSigner()


@pytest.fixture(scope="module")
def verifier(signer: GoogleTokenSigner) -> IdTokenVerifier:
    return signer.verifier()


def refusal(verifier: IdTokenVerifier, token: str, audience: str = AUDIENCE) -> str:
    with pytest.raises(InvalidTokenError) as refused:
        verifier.verify(token, {audience})
    return str(refused.value)


def test_a_token_of_the_signer_is_valid_for_its_audience(
    signer: GoogleTokenSigner, verifier: IdTokenVerifier
) -> None:
    claims = verifier.verify(signer.id_token(ACCOUNT, AUDIENCE), {AUDIENCE})

    assert (claims["email"], claims["aud"], claims["iss"]) == (
        ACCOUNT,
        AUDIENCE,
        "https://accounts.google.com",
    )
    assert claims["email_verified"] is True
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["sub"] == claims["azp"] and claims["sub"].isdigit() and len(claims["sub"]) == 21


def test_an_unsigned_token_is_refused(signer: GoogleTokenSigner, verifier: IdTokenVerifier) -> None:
    claims = signer.claims(ACCOUNT, AUDIENCE)
    unsigned = signing_input({"alg": "none", "typ": "JWT"}, claims) + "."

    assert refusal(verifier, unsigned) == "the token is not a signed JWT"
    with_signature = signing_input({"alg": "none", "kid": signer.kid}, claims) + ".e30"
    assert refusal(verifier, with_signature) == "unsupported algorithm 'none'"


def test_an_hmac_token_is_refused(signer: GoogleTokenSigner, verifier: IdTokenVerifier) -> None:
    """Algorithm confusion: HS256 "signed" with anything is never Google's."""
    token = signer.sign(signer.claims(ACCOUNT, AUDIENCE), {"alg": "HS256"})

    assert refusal(verifier, token) == "unsupported algorithm 'HS256'"


def test_a_token_of_another_key_is_refused(signer: GoogleTokenSigner, verifier: IdTokenVerifier) -> None:
    forger = GoogleTokenSigner()

    assert refusal(verifier, forger.id_token(ACCOUNT, AUDIENCE)) == "the token is signed with an unknown key"
    # The forger names our key: the signature gives it away.
    forged = forger.sign(forger.claims(ACCOUNT, AUDIENCE), {"kid": signer.kid})
    assert refusal(verifier, forged) == "the token's signature is not valid"


def test_changed_claims_break_the_signature(signer: GoogleTokenSigner, verifier: IdTokenVerifier) -> None:
    header, _, signature = signer.id_token(ACCOUNT, AUDIENCE).split(".")
    claims = signer.claims("attacker@example.com", AUDIENCE)
    changed = f"{header}.{b64url(json.dumps(claims).encode())}.{signature}"

    assert refusal(verifier, changed) == "the token's signature is not valid"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"exp": -120}, "the token has expired"),
        ({"iat": 3600}, "the token is issued in the future"),
        ({"iss": "https://securetoken.google.com/approvals-dev"}, "is not Google"),
        (
            {"aud": "https://europe-west1-approvals-dev.cloudfunctions.net/approvals-decide"},
            "another audience",
        ),
        ({"aud": [AUDIENCE]}, "another audience"),
        ({"email": ""}, "names no identity"),
        ({"exp": "tomorrow"}, "has no exp or iat"),
        # JSON's NaN compares false with everything: it would never expire.
        ({"exp": float("nan")}, "has no exp or iat"),
        ({"exp": 86400}, "lives longer than an hour"),
    ],
    ids=[
        "expired",
        "future",
        "issuer",
        "audience",
        "audience-list",
        "no-email",
        "bad-exp",
        "nan-exp",
        "a-day",
    ],
)
def test_claims_a_google_token_would_not_carry_are_refused(
    signer: GoogleTokenSigner, verifier: IdTokenVerifier, change: dict[str, Any], problem: str
) -> None:
    claims = signer.claims(ACCOUNT, AUDIENCE)
    now = claims["iat"]
    for name, value in change.items():
        # Times are given in seconds from now.
        claims[name] = now + value if name in ("exp", "iat") and isinstance(value, int) else value

    assert problem in refusal(verifier, signer.sign(claims))


@pytest.mark.parametrize("token", ["", "abc", "a.b", "a.b.c", "e30.e30.", "%%%.e30.sig"])
def test_what_is_not_a_jwt_is_refused(verifier: IdTokenVerifier, token: str) -> None:
    with pytest.raises(InvalidTokenError):
        verifier.verify(token, {AUDIENCE})


def test_the_metadata_server_hands_out_signed_tokens_of_its_account(signer: GoogleTokenSigner) -> None:
    """Before, it answered alg-none tokens; now a function's ID token is a real token of its identity."""
    with MetadataServer(service_account=ACCOUNT, signer=signer) as metadata:
        token = identity_token(metadata, AUDIENCE)

    claims = signer.verifier().verify(token, {AUDIENCE})
    assert claims["email"] == ACCOUNT


def test_a_metadata_server_without_the_stack_s_key_signs_with_its_own() -> None:
    with MetadataServer(service_account=ACCOUNT) as metadata:
        token = metadata.identity_token(AUDIENCE)

    assert json.loads(b64url_decode(token.split(".")[0]))["alg"] == "RS256"
    assert metadata.signer.verifier().verify(token, {AUDIENCE})["email"] == ACCOUNT
    assert refusal(GoogleTokenSigner().verifier(), token) == "the token is signed with an unknown key"


def test_the_metadata_server_answers_google_auths_ping_only_with_the_header() -> None:
    with MetadataServer() as metadata:
        pinged = requests.get(f"{metadata.url}/", headers={"Metadata-Flavor": "Google"}, timeout=10)
        bare = requests.get(f"{metadata.url}/", timeout=10)

    assert pinged.status_code == 200 and pinged.headers["Metadata-Flavor"] == "Google"
    assert bare.status_code == 403


# What a pipeline on Google Cloud runs: ADC finds the metadata server (ping, then the identity endpoint).
FETCH_ID_TOKEN = """
import sys
import google.auth.transport.requests
from google.oauth2 import id_token
print(id_token.fetch_id_token(google.auth.transport.requests.Request(), sys.argv[1]))
"""


def test_google_auth_fetches_an_id_token_from_the_metadata_server_that_google_auth_verifies(
    signer: GoogleTokenSigner,
) -> None:
    """Real google-auth on both sides: a subprocess, because google-auth reads GCE_METADATA_HOST as
    it is imported; and the published certificate, read as google-auth reads Google's."""
    audience = "https://approvals.example.com/api/start"
    with (
        MetadataServer(service_account=ACCOUNT, signer=signer) as metadata,
        GoogleCertsServer(signer) as certs,
    ):
        env = {k: v for k, v in os.environ.items() if k != "GOOGLE_APPLICATION_CREDENTIALS"}
        env |= {"GCE_METADATA_HOST": metadata.host, "GCE_METADATA_IP": metadata.host}
        fetched = subprocess.run(
            [sys.executable, "-c", FETCH_ID_TOKEN, audience],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert fetched.returncode == 0, fetched.stderr
        token = fetched.stdout.strip()
        claims = id_token.verify_token(
            token, google.auth.transport.requests.Request(), audience=audience, certs_url=certs.certs_url
        )

    assert claims["email"] == ACCOUNT and claims["email_verified"] is True
    assert claims["iss"] == "https://accounts.google.com"
    assert signer.verifier().verify(token, {audience}) == claims
