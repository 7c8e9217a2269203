"""The web function serves the built page from static/ and the page's runtime config."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from approvals.emulator.functions import FUNCTIONS, FunctionServer

WEB_CONFIG = {
    "apiKey": "key",
    "authDomain": "approvals-test.firebaseapp.com",
    "projectId": "approvals-test",
    "appId": "1:1:web:1",
}
PAGE = '<!doctype html><title>Approvals</title><script type="module" src="/app.js"></script>'


def archive(folder: Path) -> Path:
    """The function laid out as the platform deploys it: main.py and common/, with the page under static/."""
    shutil.copyfile(FUNCTIONS / "web" / "main.py", folder / "main.py")
    shutil.copytree(FUNCTIONS / "common", folder / "common", ignore=shutil.ignore_patterns("__pycache__"))
    static = folder / "static"
    static.mkdir()
    (static / "index.html").write_text(PAGE)
    (static / "app.js").write_text("export {};\n")
    (static / "app.css").write_text("body { margin: 0; }\n")
    (folder / "secret.py").write_text("# not part of the page\n")
    return folder


# A platform that renamed its collections (Collections): the page must read these names.
RENAMED = {
    "APPROVALS_REQUESTS_COLLECTION": "team_requests",
    "APPROVALS_AUDIT_COLLECTION": "team_audit",
    "APPROVALS_MEMBERSHIPS_COLLECTION": "team_memberships",
    "APPROVALS_EXTENSIONS_COLLECTION": "team_extensions",
}


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FunctionServer]:
    env = {"FIREBASE_WEB_CONFIG": json.dumps(WEB_CONFIG), "APPROVALS_DATABASE": "(default)", **RENAMED}
    with FunctionServer("web", env, source=archive(tmp_path_factory.mktemp("web"))) as fn:
        yield fn


@pytest.fixture(scope="module")
def local_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FunctionServer]:
    env = {
        "APPROVALS_LOCAL": "1",
        "FIRESTORE_EMULATOR_HOST": "127.0.0.1:8123",
        "GOOGLE_CLOUD_PROJECT": "approvals-dev",
    }
    with FunctionServer("web", env, source=archive(tmp_path_factory.mktemp("local-web"))) as fn:
        yield fn


def test_the_page_is_served_with_safe_headers(web: FunctionServer) -> None:
    response = requests.get(f"{web.url}/", timeout=30)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.text == PAGE
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'self' https://apis.google.com;" in csp
    assert "connect-src 'self' https://firestore.googleapis.com" in csp
    assert "frame-src https://approvals-test.firebaseapp.com;" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/app.js", "text/javascript; charset=utf-8"), ("/app.css", "text/css; charset=utf-8")],
)
def test_assets_have_their_content_type_and_revalidate(
    web: FunctionServer, path: str, content_type: str
) -> None:
    first = requests.get(f"{web.url}{path}", timeout=30)
    again = requests.get(f"{web.url}{path}", headers={"If-None-Match": first.headers["ETag"]}, timeout=30)

    assert first.status_code == 200
    assert first.headers["Content-Type"] == content_type
    assert again.status_code == 304


@pytest.mark.parametrize("path", ["/main.py", "/secret.py", "/static/../main.py", "/nothing.js"])
def test_only_the_page_files_are_served(web: FunctionServer, path: str) -> None:
    assert requests.get(f"{web.url}{path}", timeout=30).status_code == 404


def test_config_json_gives_the_firebase_web_config(web: FunctionServer) -> None:
    response = requests.get(f"{web.url}/__/approvals/config.json", timeout=30)

    assert response.status_code == 200
    assert response.json() == {
        "local": False,
        "firebase": WEB_CONFIG,
        "database": "(default)",
        "collections": {
            "requests": "team_requests",
            "audit": "team_audit",
            "memberships": "team_memberships",
            "extensions": "team_extensions",
        },
    }


def test_locally_config_json_points_at_the_emulator(local_web: FunctionServer) -> None:
    response = requests.get(f"{local_web.url}/__/approvals/config.json", timeout=30)
    page = requests.get(f"{local_web.url}/", timeout=30)

    assert response.json() == {
        "local": True,
        "projectId": "approvals-dev",
        "firestoreHost": "127.0.0.1:8123",
        "database": "(default)",
        # Nothing renamed: the contract's defaults.
        "collections": {
            "requests": "approval_requests",
            "audit": "approval_audit",
            "memberships": "approval_memberships",
            "extensions": "approval_extensions",
        },
    }
    assert "connect-src 'self' http://127.0.0.1:8123;" in page.headers["Content-Security-Policy"]


def test_only_get_is_allowed(web: FunctionServer) -> None:
    response = requests.post(f"{web.url}/", timeout=30)

    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"
