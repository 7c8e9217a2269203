"""web: serves the approvals page (a placeholder until the real page lands)."""

from __future__ import annotations

import flask
import functions_framework

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Approvals</title>
</head>
<body>
<main>
<h1>Approvals</h1>
<p>The approvals page is not available yet.</p>
</main>
</body>
</html>
"""

SECURITY_HEADERS = {
    # The placeholder needs no script, style or frame: allow nothing.
    "Content-Security-Policy": (
        "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Cache-Control": "no-cache",
}


@functions_framework.http
def web(request: flask.Request) -> flask.Response:
    """GET -> the page; anything else -> 405."""
    if request.method not in ("GET", "HEAD"):
        return flask.Response(
            "method not allowed\n",
            status=405,
            mimetype="text/plain",
            headers={**SECURITY_HEADERS, "Allow": "GET, HEAD"},
        )
    return flask.Response(PAGE, status=200, mimetype="text/html", headers=SECURITY_HEADERS)
