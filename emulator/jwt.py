"""What the local token issuers share: JWT encoding (RFC 7515 compact serialization), and the
self-signed certificate that publishes a signing key in the kid -> x509 PEM map Google serves."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID


def b64url(data: bytes) -> str:
    """Base64url without padding, as JWT segments are written."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str) -> bytes:
    """The bytes of a base64url segment written without padding (ValueError if it is not one)."""
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def signing_input(header: Mapping[str, Any], claims: Mapping[str, Any]) -> str:
    """`header.claims`: what a signature covers (and, with an empty signature, an unsigned JWT)."""
    return ".".join(
        b64url(json.dumps(dict(part), separators=(",", ":")).encode()) for part in (header, claims)
    )


def sign_rs256(
    key: rsa.RSAPrivateKey, kid: str, claims: Mapping[str, Any], headers: Mapping[str, Any] | None = None
) -> str:
    """``claims`` as an RS256 JWT signed by ``key`` under ``kid`` (``headers`` may override the header)."""
    header = {"alg": "RS256", "kid": kid, "typ": "JWT", **(headers or {})}
    signed = signing_input(header, claims)
    signature = key.sign(signed.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return f"{signed}.{b64url(signature)}"


def self_signed_certificate(key: rsa.RSAPrivateKey, common_name: str) -> str:
    """A week-long x509 certificate of ``key``'s public key, as PEM: what a verifier reads it from."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=7))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
