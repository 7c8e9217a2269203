"""Command line of the local emulation: `python -m emulator run WORKFLOW.yaml`.

Runs one workflow to completion on the local engine with the wall clock and
a callback server on loopback: each callback URL is printed to stderr when
the workflow creates it, so that another terminal can call it.

Exit status: 0 and the result as JSON on stdout; 1 and the uncaught error
(a map with tags and message, as Workflows raises it) as JSON on stderr;
2 for a definition error (file:line: step: message) or bad arguments.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from emulator.workflows import values
from emulator.workflows.clock import RealClock
from emulator.workflows.connectors import ConnectorSettings
from emulator.workflows.engine import Engine
from emulator.workflows.errors import DefinitionError, WorkflowError
from emulator.workflows.server import WorkflowsServer, json_text
from emulator.workflows.store import SUCCEEDED, ExecutionRecord, Store
from emulator.workflows.tokens import StaticTokens

DEFAULT_PROJECT = "local-project"


def _json_argument(text: str) -> Any:
    try:
        return values.from_json(json.loads(text))
    except (ValueError, WorkflowError) as error:
        raise argparse.ArgumentTypeError(f"not JSON: {error}") from error


def _env_pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description="Local emulation of the approvals stack on Google Cloud.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="run one workflow to completion on the local Workflows engine",
        description=(
            "Run a Cloud Workflows YAML file to completion on the local engine (wall clock). "
            "Prints the result as JSON on stdout (exit 0); an uncaught workflow error as JSON on "
            "stderr (exit 1); a definition error as file:line: step: message (exit 2). Callback "
            "URLs are printed to stderr as the workflow creates them. Connectors reach local "
            "services through FIRESTORE_EMULATOR_HOST, PUBSUB_EMULATOR_HOST and TRANSLATE_URL."
        ),
        epilog='example: python -m emulator run hello.yaml --data \'{"name": "Ada"}\' --env WHO=me',
    )
    run.add_argument("workflow", type=Path, metavar="WORKFLOW.yaml", help="the workflow definition")
    run.add_argument(
        "--data", type=_json_argument, default=None, metavar="JSON", help="the execution argument, as JSON"
    )
    run.add_argument(
        "--env",
        type=_env_pair,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a user environment variable (sys.get_env); repeat for more",
    )
    run.add_argument(
        "--project",
        default=os.environ.get("GOOGLE_CLOUD_PROJECT", DEFAULT_PROJECT),
        help="project id the workflow sees (default: $GOOGLE_CLOUD_PROJECT or %(default)s)",
    )
    run.add_argument(
        "--location", default="us-central1", help="location the workflow sees (default: %(default)s)"
    )
    return parser


def connector_settings(project: str) -> ConnectorSettings:
    """Where connectors go, from the same variables Google's client libraries honour locally."""
    return ConnectorSettings(
        firestore_host=os.environ.get("FIRESTORE_EMULATOR_HOST") or None,
        translate_url=os.environ.get("TRANSLATE_URL") or None,
        pubsub_host=os.environ.get("PUBSUB_EMULATOR_HOST") or None,
        project=project,
    )


def run(args: argparse.Namespace) -> int:
    try:
        source = args.workflow.read_text()
    except OSError as error:
        print(f"{args.workflow}: {error.strerror or error}", file=sys.stderr)
        return 2
    # Workflow ids are letters, digits, hyphens and underscores.
    workflow_id = re.sub(r"[^A-Za-z0-9_-]", "-", args.workflow.stem) or "workflow"
    store = Store(":memory:")
    engine = Engine(
        store,
        RealClock(),
        project=args.project,
        location=args.location,
        connector_settings=connector_settings(args.project),
        tokens=StaticTokens(),
        on_callback=lambda url: print(f"callback: {url}", file=sys.stderr, flush=True),
    )
    server = WorkflowsServer(engine).start()
    try:
        try:
            engine.deploy(workflow_id, source, dict(args.env), filename=str(args.workflow))
        except DefinitionError as error:
            print(error, file=sys.stderr)
            return 2
        return report(engine.wait(engine.start(workflow_id, args.data).id))
    except KeyboardInterrupt:
        return 130
    finally:
        server.stop()
        engine.close()
        store.close()


def report(execution: ExecutionRecord) -> int:
    """Print the outcome (before shutting down, which takes a moment) and pick the exit status."""
    if execution.state == SUCCEEDED:
        print(json_text(execution.result), flush=True)
        return 0
    print(json_text(execution.error), file=sys.stderr, flush=True)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # sys.log output goes to stderr, one line per call.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    engine_log = logging.getLogger("emulator.workflows.engine")
    engine_log.addHandler(handler)
    engine_log.setLevel(logging.INFO)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
