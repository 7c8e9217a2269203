"""Command line of the local emulation.

`python -m emulator run WORKFLOW.yaml` runs one workflow to completion on the
local engine with the wall clock and a callback server on loopback: each
callback URL is printed to stderr when the workflow creates it, so that
another terminal can call it. Exit status: 0 and the result as JSON on
stdout; 1 and the uncaught error (a map with tags and message, as Workflows
raises it) as JSON on stderr; 2 for a definition error (file:line: step:
message) or bad arguments.

`python -m emulator up` runs the stack program's whole stack on loopback
(emulator.stack) until Ctrl-C or SIGTERM; `python -m emulator health` asks a
running one how its services are (exit 0 when all are up, else 1).
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

# Only what `run` needs, at the top: teams run it in loops, so `up` and `health` import
# their own (Pulumi, the services, the HTTP client, pathlib) and a run imports its callback
# server and connectors only when the workflow uses them.
from approvals.engine.runtime import values
from approvals.engine.runtime.clock import RealClock
from approvals.engine.runtime.engine import Engine
from approvals.engine.runtime.engine import logger as engine_logger
from approvals.engine.runtime.errors import SYSTEM_ERROR, DefinitionError, WorkflowError
from approvals.engine.runtime.store import SUCCEEDED, ExecutionRecord, Store
from approvals.engine.runtime.tokens import StaticTokens

if TYPE_CHECKING:
    import argparse

    from approvals.emulator.stack import LocalStack
    from approvals.engine.api.server import WorkflowsServer
    from approvals.engine.runtime.connectors import ConnectorSettings

DEFAULT_PROJECT = "local-project"
# Firebase's hosting emulator serves on 5000 too.
DEFAULT_PORT = 5000


def _json_argument(text: str) -> Any:
    import argparse

    try:
        return values.parse_json(text)
    except (ValueError, WorkflowError) as error:
        raise argparse.ArgumentTypeError(f"not JSON: {error}") from error


def _key_value(text: str) -> tuple[str, str] | None:
    key, sep, value = text.partition("=")
    return (key, value) if sep and key else None


def _env_pair(text: str) -> tuple[str, str]:
    import argparse

    pair = _key_value(text)
    if pair is None:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return pair


def _default_project() -> str:
    return os.environ.get("GOOGLE_CLOUD_PROJECT", DEFAULT_PROJECT)


def plain_run_arguments(argv: Sequence[str]) -> SimpleNamespace | None:
    """`run`'s arguments in their plain form, read as argparse reads them; None for any other.

    argparse, with the gettext and locale it loads, is about 3 ms of a run's start, whose budget
    is twice `import yaml` (benchmarks/cli.py). The plain form is `run` and one workflow file,
    with options spelt out in full, each value a word of its own that does not start with "-"
    and that holds what the option takes. Anything else (help, other commands, other spellings,
    every mistake) goes to argparse, which reads it, or words what is wrong with it.
    """
    if argv[:1] != ["run"]:
        return None
    options: dict[str, Any] = {"--data": None, "--project": _default_project(), "--location": "us-central1"}
    env: list[tuple[str, str]] = []
    workflows: list[str] = []
    words = iter(argv[1:])
    for word in words:
        if not word.startswith("-"):
            workflows.append(word)
            continue
        value = next(words, None)
        if value is None or value.startswith("-"):
            return None
        if word == "--env":
            pair = _key_value(value)
            if pair is None:
                return None
            env.append(pair)
        elif word in options:
            options[word] = value
        else:
            return None
    if len(workflows) != 1:
        return None
    data = options["--data"]
    try:
        data = None if data is None else values.parse_json(data)
    except (ValueError, WorkflowError):
        return None
    return SimpleNamespace(
        command="run",
        workflow=workflows[0],
        data=data,
        env=env,
        project=options["--project"],
        location=options["--location"],
    )


def build_parser() -> argparse.ArgumentParser:
    import argparse

    # The command as the user typed it: `python -m approvals.emulator` from an installed package,
    # `python -m emulator` from a clone (its folder, imported from the repository's root).
    prog = f"python -m {__package__}"
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Local emulation of the approvals stack on Google Cloud.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_run_command(commands, prog)
    _add_up_command(commands)
    health = commands.add_parser(
        "health",
        help="check the services of a running local stack",
        description="Print each service of a running local stack; exit 0 when all are up, 1 otherwise.",
    )
    health.add_argument(
        "--url", default=f"http://127.0.0.1:{DEFAULT_PORT}", help="the stack's origin (default: %(default)s)"
    )
    return parser


def _add_run_command(commands: argparse._SubParsersAction[argparse.ArgumentParser], prog: str) -> None:
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
        epilog=f'example: {prog} run hello.yaml --data \'{{"name": "Ada"}}\' --env WHO=me',
    )
    run.add_argument("workflow", metavar="WORKFLOW.yaml", help="the workflow definition")
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
        default=_default_project(),
        help="project id the workflow sees (default: $GOOGLE_CLOUD_PROJECT or %(default)s)",
    )
    run.add_argument(
        "--location", default="us-central1", help="location the workflow sees (default: %(default)s)"
    )


def _add_up_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    up = commands.add_parser(
        "up",
        help="run the whole stack locally, from the same program `pulumi up` deploys",
        description=(
            "Capture the stack program under Pulumi mocks and serve what it deploys on this machine: "
            "the Firestore emulator with the stack's security rules, the Pub/Sub emulator with its "
            "topics and subscriptions, the Workflows engine with every workflow, each function under "
            "functions-framework, and the hosting rewrites on one origin (plus /local/ endpoints: "
            "sign-in, health, config, and the outbox where the mails the stack sends land). "
            "Runs until Ctrl-C or SIGTERM."
        ),
    )
    up.add_argument("--stack", default="dev", help="stack config Pulumi.STACK.yaml (default: %(default)s)")
    up.add_argument(
        "--program",
        default="__main__.py",
        help="the stack program, with its Pulumi.STACK.yaml beside it (default: %(default)s, here)",
    )
    up.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="port of the local origin on 127.0.0.1 (default: %(default)s, as Firebase's hosting emulator)",
    )
    up.add_argument(
        "--state-dir",
        default=None,
        metavar="DIR",
        help="keep the engine's executions and Firestore's data here across runs (default: a temp folder)",
    )


def run(args: argparse.Namespace | SimpleNamespace) -> int:
    try:
        # A workflow's source is UTF-8 (Google's deploy takes it as a string), whatever the locale.
        with open(args.workflow, encoding="utf-8") as file:
            source = file.read()
    except OSError as error:
        print(f"{args.workflow}: {error.strerror or error}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as error:
        line = error.object.count(b"\n", 0, error.start) + 1
        print(f"{args.workflow}:{line}: the file is not UTF-8 (byte {error.start})", file=sys.stderr)
        return 2
    # Workflow ids are letters, digits, hyphens and underscores.
    stem = os.path.splitext(os.path.basename(args.workflow))[0]
    workflow_id = re.sub(r"[^A-Za-z0-9_-]", "-", stem) or "workflow"
    store = Store(":memory:")
    engine = _RunEngine(
        store,
        RealClock(),
        project=args.project,
        location=args.location,
        tokens=StaticTokens(),
        on_callback=lambda url: print(f"callback: {url}", file=sys.stderr, flush=True),
    )
    try:
        try:
            engine.deploy(workflow_id, source, dict(args.env), filename=args.workflow)
        except DefinitionError as error:
            print(error, file=sys.stderr)
            return 2
        return report(engine.wait(engine.start(workflow_id, args.data).id))
    except KeyboardInterrupt:
        return 130
    finally:
        engine.close_server()
        engine.close()
        store.close()


class _RunEngine(Engine):
    """The engine of `run`, whose callback server starts with the workflow's first callback,
    and whose log reaches stderr with the workflow's first sys.log call.

    Most runs do neither, and for them the server (http.server and its email parser,
    a thread, a shutdown that waits on its poll) would cost more than the run itself, and
    logging a few milliseconds of the start. (The engine's own failures, logged at ERROR,
    reach stderr as they are anyway: logging prints a message no handler takes there.)
    """

    server: WorkflowsServer | None = None
    logging_to_stderr = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The server starts on the engine's loop thread and stops on the main one (after Ctrl-C
        # too): the lock keeps a server from starting unseen while the run shuts down.
        self._server_lock = threading.Lock()
        self._server_closed = False
        super().__init__(*args, **kwargs)

    def record_log(self, execution_id: str, severity: str, payload: Any) -> None:
        if not self.logging_to_stderr:
            self.logging_to_stderr = True
            log_to_stderr()
        super().record_log(execution_id, severity, payload)

    def settings_for_connectors(self) -> ConnectorSettings:
        """Where connectors go, from the same variables Google's client libraries honour locally.

        Read at each connector call, not before the run, so a run that makes none never loads
        the connectors, whatever the shell exports.
        """
        from approvals.engine.runtime.connectors import ConnectorSettings

        where = {
            "firestore_host": os.environ.get("FIRESTORE_EMULATOR_HOST") or None,
            "translate_url": os.environ.get("TRANSLATE_URL") or None,
            "pubsub_host": os.environ.get("PUBSUB_EMULATOR_HOST") or None,
        }
        if not any(where.values()):
            return super().settings_for_connectors()
        return ConnectorSettings(**where, project=self.project)

    @property
    def base_url(self) -> str:
        """The callback server's URL: the server starts when the first callback URL is made."""
        with self._server_lock:
            if self.server is None:
                self.server = self._start_server()
            return self.server.url

    def _start_server(self) -> WorkflowsServer:
        """The callback server, started; a WorkflowError, which fails the execution, if it cannot be."""
        if self._server_closed:
            raise WorkflowError.tagged(SYSTEM_ERROR, "the run is stopping: its callback server is closed")
        from approvals.engine.api.server import WorkflowsServer

        try:
            # Any free port (0): this engine's base URL is the server's, once started.
            return WorkflowsServer(self, 0).start()
        except OSError as error:
            raise WorkflowError.tagged(
                SYSTEM_ERROR, f"the callback server could not start on 127.0.0.1: {error}"
            ) from error

    def close_server(self) -> None:
        """Stop the callback server if it started; none starts from now on."""
        with self._server_lock:
            self._server_closed = True
            server, self.server = self.server, None
        if server is not None:
            server.stop()


def report(execution: ExecutionRecord) -> int:
    """Print the outcome (before shutting down, which takes a moment) and pick the exit status."""
    if execution.state == SUCCEEDED:
        print(values.json_text(execution.result), flush=True)
        return 0
    print(values.json_text(execution.error), file=sys.stderr, flush=True)
    return 1


def up(args: argparse.Namespace) -> int:
    """Start the stack, print where it is, serve until Ctrl-C or SIGTERM, then stop everything."""
    # Imported here: Pulumi and the stack's services take seconds to load, which `run` need not pay.
    import signal
    from pathlib import Path

    from approvals.emulator.gcloud import EmulatorError
    from approvals.emulator.process import ProcessError
    from approvals.emulator.stack import LocalStack, StackError

    # SIGTERM ends the stack the way Ctrl-C does, so `kill` leaves no process behind either.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    stack = LocalStack(
        Path(args.program).resolve(),
        stack=args.stack,
        port=args.port,
        state_dir=None if args.state_dir is None else Path(args.state_dir),
        progress=_say,
    )
    _say(f"Starting the local stack '{args.stack}' ...")
    began = time.monotonic()
    try:
        stack.start()
        _say(f"Ready in {time.monotonic() - began:.1f}s (project {stack.project}):")
        for label, url in urls(stack):
            _say(f"  {label:<20} {url}")
        _say("Press Ctrl-C to stop.")
        while True:
            signal.pause()
    except KeyboardInterrupt:
        _say("Stopping ...")
        return 0
    except (StackError, EmulatorError, ProcessError) as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        # A second Ctrl-C must not cut the shutdown short and leave processes behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()


def urls(stack: LocalStack) -> list[tuple[str, str]]:
    """What a person opens or points a client at."""
    origin = stack.origin_url
    api = [r.source for r in stack.plan.hosting.rewrites if "*" not in r.source and r.source.startswith("/")]
    return [
        ("origin", origin),
        ("page", f"{origin}/"),
        *((f"API {path}", f"{origin}{path}") for path in api),
        ("sign-in (local)", f'POST {origin}/local/sign-in {{"email": ...}}'),
        ("health (local)", f"{origin}/local/health"),
        ("mail outbox (local)", f"{stack.outbox_url} (the mails sent, with their decision links)"),
        ("firestore emulator", f"{stack.firestore.url} (FIRESTORE_EMULATOR_HOST={stack.firestore.host})"),
        *(
            [("pubsub emulator", f"{stack.pubsub.url} (PUBSUB_EMULATOR_HOST={stack.pubsub.host})")]
            if stack.pubsub is not None
            else []
        ),
        ("workflows engine", f"{stack.workflows_server.url} (gRPC {stack.executions.host})"),
    ]


def _say(line: str) -> None:
    print(line, flush=True)


def health(args: argparse.Namespace) -> int:
    """Print each service of the stack at ``args.url``; 0 when all are up."""
    import urllib.error
    import urllib.request

    url = f"{args.url.rstrip('/')}/local/health"
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            report = json.load(response)
    except urllib.error.HTTPError as error:
        with error:
            report = json.load(error)
    except (OSError, ValueError) as error:
        print(f"no local stack answers at {args.url}: {error}", file=sys.stderr)
        return 1
    for name, state in report.get("services", {}).items():
        print(f"  {name:<20} {state}")
    print(report.get("status", "unknown"))
    return 0 if report.get("status") == "ok" else 1


def log_to_stderr() -> None:
    """Print the engine's log on stderr, one line a message: sys.log output from INFO up."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    engine_logger().addHandler(handler)
    engine_logger().setLevel(logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = plain_run_arguments(argv)
    if args is None:
        args = build_parser().parse_args(argv)
    if args.command != "run":
        # `run` starts this with its workflow's first sys.log call (see _RunEngine).
        log_to_stderr()
    commands: dict[str, Callable[[Any], int]] = {"run": run, "up": up, "health": health}
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
