"""The web function serves a placeholder page with safe headers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from emulator.functions import FunctionServer


@pytest.fixture(scope="module")
def web() -> Iterator[FunctionServer]:
    with FunctionServer("web", {}) as fn:
        yield fn


def test_page_is_served_with_safe_headers(web: FunctionServer) -> None:
    response = requests.get(f"{web.url}/anything", timeout=30)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<h1>Approvals</h1>" in response.text
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_only_get_is_allowed(web: FunctionServer) -> None:
    response = requests.post(f"{web.url}/", timeout=30)

    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"
