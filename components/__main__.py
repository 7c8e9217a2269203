"""`python -m approvals request WORKFLOW --input JSON [--wait] [--timeout S]`: ask for an approval
from a pipeline or a shell, and with --wait block until a person decides.

Exit status with --wait: 0 approved, 1 rejected, 2 expired or cancelled, 3 an error (or
--timeout passed while the request still waits). Without --wait: 0 once the request is made.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from .client import (
    LONGEST_WAIT_SECONDS,
    Site,
    google_identity,
    local_sign_in,
    token_from_env,
)

EXIT_CODES = {"approved": 0, "rejected": 1, "expired": 2, "cancelled": 2}
ERROR = 3


def seconds(text: str) -> float:
    """A --timeout: a finite, positive number of seconds."""
    value = float(text)
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse, exiting 3 on a usage error: its own 2 would read as "expired or cancelled"."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(ERROR, f"{self.prog}: error: {message}\n")


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = _Parser(prog="python -m approvals", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    request = commands.add_parser("request", help="ask for an approval; --wait for the decision")
    request.add_argument("workflow", help="the workflow's key, as the page and start know it")
    request.add_argument("--input", default="{}", help="the input, JSON text or @FILE (default {})")
    request.add_argument("--wait", action="store_true", help="wait for the decision; exit 0/1/2/3")
    request.add_argument("--timeout", type=seconds, help="stop waiting after this many seconds (exit 3)")
    request.add_argument(
        "--url", default=os.environ.get("APPROVALS_URL"), help="the approval site (APPROVALS_URL)"
    )
    signer = request.add_mutually_exclusive_group()
    signer.add_argument("--impersonate-service-account", metavar="EMAIL", help="sign as this service account")
    signer.add_argument("--token-env", metavar="VAR", help="a ready ID token, in this environment variable")
    signer.add_argument("--local-sign-in", metavar="EMAIL", help="a local stack's sign-in (tests, demos)")
    arguments = parser.parse_args(argv)
    if not arguments.url:
        parser.error("give the approval site with --url or APPROVALS_URL")
    arguments.url = arguments.url.rstrip("/")
    return arguments


def read_input(text: str) -> dict[str, Any]:
    raw = Path(text[1:]).read_text() if text.startswith("@") else text
    given = json.loads(raw)
    if not isinstance(given, dict):
        raise ValueError("--input must be a JSON object")
    return given


def site_for(arguments: argparse.Namespace) -> Site:
    audience = f"{arguments.url}/api/start"
    source: Callable[[str], str]
    if arguments.local_sign_in:
        source = local_sign_in(arguments.url, arguments.local_sign_in)
    elif arguments.token_env:
        source = token_from_env(arguments.token_env)
    else:
        source = google_identity(arguments.impersonate_service_account)
    return Site(arguments.url, lambda: source(audience))


def progress(status: dict[str, Any]) -> str:
    """The status, the votes so far, and when the request expires."""
    if not status.get("stages"):
        return f"{status['status']} (the workflow has not asked yet)"
    stage = status["stages"][-1]
    votes = f"{stage.get('approvals', 0)} approved, {stage.get('rejections', 0)} rejected"
    expires = f", expires {status['expires_at']}" if status.get("expires_at") else ""
    return f"{status['status']} ({stage.get('stage')}: {votes}){expires}"


def time_left(deadline: float | None) -> str:
    return f", {int(deadline - time.monotonic())} s left to wait" if deadline is not None else ""


class ProgressLine:
    """Where the progress goes: on a terminal one line, redrawn; in a log a line per change."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.live = out.isatty()
        self.shown = ""

    def show(self, news: str, left: str) -> None:
        """`news` and the time `left`, which changes at every poll: only news makes a new log line."""
        if self.live:
            print(f"\r\x1b[K{news}{left}", end="", file=self.out, flush=True)
        elif news != self.shown:
            print(f"{news}{left}", file=self.out, flush=True)
        self.shown = news

    def close(self) -> None:
        if self.live and self.shown:
            print(file=self.out, flush=True)


def wait_for(site: Site, request_id: str, timeout: float | None, out: TextIO) -> dict[str, Any] | None:
    """Long-poll until the request is final: its status, or None if `timeout` passed first."""
    deadline = None if timeout is None else time.monotonic() + timeout
    line = ProgressLine(out)
    try:
        return _poll(site, request_id, deadline, line)
    finally:
        line.close()


def _poll(site: Site, request_id: str, deadline: float | None, line: ProgressLine) -> dict[str, Any] | None:
    status = site.status(request_id)
    while not status["final"]:
        line.show(progress(status), time_left(deadline))
        left = LONGEST_WAIT_SECONDS if deadline is None else deadline - time.monotonic()
        if left <= 0:
            return None
        status = site.status(
            request_id, wait=int(min(LONGEST_WAIT_SECONDS, max(1, left))), since=status["version"]
        )
    return status


def request(arguments: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    site = site_for(arguments)
    started = site.start(arguments.workflow, read_input(arguments.input))
    request_id = started["request_id"]
    print(json.dumps({"request_id": request_id, "page": f"{arguments.url}/"}), file=out, flush=True)
    if not arguments.wait:
        return 0
    final = wait_for(site, request_id, arguments.timeout, err)
    if final is None:
        print(f"still waiting after {arguments.timeout:g} s: request {request_id}", file=err)
        return ERROR
    print(
        json.dumps(
            {key: final[key] for key in ("request_id", "outcome", "decided_by", "decided_at", "comment")}
        ),
        file=out,
    )
    return EXIT_CODES.get(final["outcome"], ERROR)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    try:
        return request(arguments, sys.stdout, sys.stderr)
    # Whatever fails (a credential, an answer not as expected), a pipeline must read 3, not "rejected".
    except Exception as error:
        print(f"error: {error}", file=sys.stderr)
        return ERROR


if __name__ == "__main__":
    sys.exit(main())
