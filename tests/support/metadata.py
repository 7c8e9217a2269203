"""Fetching a function's ID token from its metadata server, as google-auth would."""

from __future__ import annotations

import requests

from approvals.emulator.metadata import IDENTITY_PATH, MetadataServer


def identity_token(metadata: MetadataServer, audience: str) -> str:
    """The ID token ``metadata`` hands its account for ``audience`` (the real endpoint's query)."""
    response = requests.get(
        f"{metadata.url}{IDENTITY_PATH}",
        params={"audience": audience, "format": "full"},
        headers={"Metadata-Flavor": "Google"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.text
