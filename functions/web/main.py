"""web: serves the approvals page (the built files under static/) and its runtime config.

The platform component puts the page's build output (web/dist) in this
function's archive as static/. The page asks /__/approvals/config.json how to
reach Firebase: the web app config in production; the Firestore emulator's
address when the local stack runs it (APPROVALS_LOCAL=1).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import flask
import functions_framework

from common import config
from common.contract import PAGE_COLLECTIONS

STATIC_DIR = Path(__file__).resolve().parent / "static"
CONFIG_PATH = "/__/approvals/config.json"

# Flask adds "; charset=utf-8" to text types.
CONTENT_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".txt": "text/plain"}

# The Google endpoints the Firebase JS SDK calls in production: Firestore's
# listen channel, Auth's sign-in and token refresh, and Google's sign-in script.
FIRESTORE_ORIGIN = "https://firestore.googleapis.com"
AUTH_ORIGINS = ("https://identitytoolkit.googleapis.com", "https://securetoken.googleapis.com")
GOOGLE_SIGN_IN_SCRIPT = "https://apis.google.com"

BASE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    # File names carry no content hash: the browser revalidates (ETag) on every load,
    # so a deploy never mixes an old app.js with a new index.html.
    "Cache-Control": "no-cache",
}


def is_local() -> bool:
    return os.environ.get("APPROVALS_LOCAL") == "1"


def static_files() -> dict[str, Path]:
    """URL path -> file, for the page's files only: no other path can reach the disk."""
    if not STATIC_DIR.is_dir():
        return {}
    files = {
        f"/{path.relative_to(STATIC_DIR).as_posix()}": path
        for path in STATIC_DIR.rglob("*")
        if path.is_file() and path.suffix in CONTENT_TYPES
    }
    if "/index.html" in files:
        files["/"] = files["/index.html"]
    return files


def firebase_web_config() -> dict[str, str]:
    """The Firebase web app config (apiKey, authDomain, projectId, appId); {} if unset or not JSON."""
    try:
        config = json.loads(os.environ.get("FIREBASE_WEB_CONFIG", "{}"))
    except ValueError:
        return {}
    return config if isinstance(config, dict) else {}


def page_config() -> tuple[int, dict[str, object]]:
    """What the page needs to reach Firebase and which collections to read, as (HTTP status, JSON body)."""
    shared = {
        "database": config.database(),
        # The platform may rename any collection (Collections): the page must not assume the defaults.
        "collections": {key: config.collection(key) for key in PAGE_COLLECTIONS},
    }
    if is_local():
        return 200, {
            "local": True,
            "projectId": config.project_id(),
            "firestoreHost": os.environ.get("FIRESTORE_EMULATOR_HOST", ""),
            **shared,
        }
    firebase = firebase_web_config()
    if not firebase.get("apiKey"):
        return 503, {"error": "the page is not configured: FIREBASE_WEB_CONFIG has no apiKey"}
    return 200, {"local": False, "firebase": firebase, **shared}


def content_security_policy() -> str:
    """Scripts and styles from this origin only; connections only to what the SDK talks to."""
    if is_local():
        connect = ["'self'", f"http://{os.environ.get('FIRESTORE_EMULATOR_HOST', '127.0.0.1')}"]
        scripts, frames = ["'self'"], ["'none'"]
    else:
        connect = ["'self'", FIRESTORE_ORIGIN, *AUTH_ORIGINS]
        scripts = ["'self'", GOOGLE_SIGN_IN_SCRIPT]
        auth_domain = firebase_web_config().get("authDomain")
        # signInWithPopup talks to the popup through a hidden frame on the auth domain.
        frames = [f"https://{auth_domain}"] if auth_domain else ["'none'"]
    directives = {
        "default-src": ["'none'"],
        "script-src": scripts,
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": connect,
        "frame-src": frames,
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


FILES = static_files()
HEADERS = {**BASE_HEADERS, "Content-Security-Policy": content_security_policy()}


def text(status: int, body: str, **extra: str) -> flask.Response:
    return flask.Response(body, status=status, mimetype="text/plain", headers={**HEADERS, **extra})


@functions_framework.http
def web(request: flask.Request) -> flask.Response:
    """GET/HEAD -> the page's files and config.json; anything else -> 405."""
    if request.method not in ("GET", "HEAD"):
        return text(405, "method not allowed\n", Allow="GET, HEAD")
    if request.path == CONFIG_PATH:
        status, body = page_config()
        return flask.Response(json.dumps(body), status=status, mimetype="application/json", headers=HEADERS)
    file = FILES.get(request.path)
    if file is None:
        if not FILES:
            return text(503, "deployed without the approval page: redeploy from an approvals release\n")
        return text(404, "not found\n")
    response = flask.send_file(file, mimetype=CONTENT_TYPES[file.suffix], conditional=True, etag=True)
    response.headers.update(HEADERS)
    return response
