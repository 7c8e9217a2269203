"""The whole stack on one machine, from the same program `pulumi up` deploys.

`capture_program` runs the stack program under Pulumi mocks; what it
registered (read by emulator.stack_plan) is then served by local stand-ins:
the Firestore emulator with the released security rules and the registry
documents, the Pub/Sub emulator with the program's topics and subscriptions
(a push subscription is pushed by the stack's own pusher, with an ID token of
its oidcToken account), the Workflows engine with every workflow (source, env
vars, service account), each function under functions-framework from the
files of its source archive (a private one behind a front end that lets in
only the ID tokens of its invokers, as Cloud Run's does), and the hosting
rewrites on one local origin. Only the addresses differ from a deploy: each
function gets the *_EMULATOR_HOST variables, the local identity provider's
certificates URL, the origin as its site URL and the origin's mail outbox as
its mail relay on top of its own env vars; a secret env var gets a value made
up for the run.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import errno
import http.client
import json
import os
import secrets
import shutil
import socket
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import grpc

from approvals.emulator.firestore import FirestoreEmulator, exported
from approvals.emulator.frontend import FrontEnd
from approvals.emulator.functions import FunctionServer
from approvals.emulator.google_tokens import GoogleCertsServer, GoogleTokenSigner
from approvals.emulator.hosting import HostingServer
from approvals.emulator.identity import IdentityProvider
from approvals.emulator.metadata import MetadataServer
from approvals.emulator.process import Janitor
from approvals.emulator.pubsub import PubSubEmulator
from approvals.emulator.pusher import Pusher, PushTarget
from approvals.emulator.stack_plan import StackError, StackPlan
from approvals.emulator.translation import TranslationServer
from approvals.engine.api.access import Access
from approvals.engine.api.local_server import free_port
from approvals.engine.api.server import WorkflowsServer, loopback_url
from approvals.engine.api.service import LocalService
from approvals.engine.runtime.clock import Clock, RealClock, VirtualClock
from approvals.engine.runtime.connectors import ConnectorSettings
from approvals.engine.runtime.engine import Engine
from approvals.engine.runtime.errors import DefinitionError
from approvals.engine.runtime.store import Store
from approvals.engine.runtime.tokens import StaticTokens
from approvals.testing import Graph, capture_program

with warnings.catch_warnings():
    # The Executions API's messages come from google-cloud-workflows, whose google-api-core announces on
    # import, once per client package, when Google stops supporting this Python in new releases: three
    # FutureWarnings before `python -m emulator up`'s first line, about nothing the stack can act on.
    warnings.filterwarnings(
        "ignore", category=FutureWarning, module=r"google\.api_core\._python_version_support"
    )
    from approvals.engine.api.grpc_api import ExecutionsService

REPO = Path(__file__).resolve().parent.parent

PROBE_TIMEOUT = 2.0

# What a state dir keeps besides the engine's store (engine.sqlite): the export of the stack's Firestore
# database made as the stack stopped, which the emulator imports as it starts again, and the engine's HTTP
# port, because the requests in Firestore keep the callback URLs of the executions waiting on them.
FIRESTORE_EXPORT = "firestore"
ENGINE_PORT = "engine-port"
# In the state dir while a stack runs on it, gone once it stopped: found at start, the last run was killed.
RUNNING = "running"


def in_parallel(calls: Sequence[Callable[[], object]]) -> None:
    """Run every call on its own thread; raise the first failure once all have finished."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(calls))) as pool:
        futures = [pool.submit(call) for call in calls]
    for future in futures:
        future.result()


def check_port(port: int, hint: str = "pass --port with a free port") -> None:
    """StackError unless ``port`` can be bound on 127.0.0.1 now; ``hint`` says what to do if it is in use."""
    with socket.socket() as sock:
        # As the servers bind (http.server's allow_reuse_address): the connections of a stack that just
        # stopped linger in TIME_WAIT for a minute, which keeps no one from listening, only a plain bind.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise StackError(f"port {port} is in use: {hint}") from error
            raise StackError(f"cannot listen on port {port}: {error.strerror}") from error


def _kept_port(kept: Path) -> int:
    """The port the file ``kept`` holds; a StackError saying what to do if it holds no port."""
    text = kept.read_text(errors="replace").strip()  # whatever it holds: even bytes that are no text
    if text.isdecimal() and 0 < int(text) < 65536:
        return int(text)
    raise StackError(
        f"{kept} holds {text[:40]!r}, not the engine's callback port: write the port the pending "
        "requests' callback URLs name, or delete the file (a new port leaves those requests undecidable)"
    )


def _why(error: OSError) -> str:
    """What went wrong, as a person reads it: a URLError (not an HTTP answer) says it in its reason."""
    if isinstance(error, urllib.error.URLError) and not isinstance(error, urllib.error.HTTPError):
        return str(error.reason)
    return str(error)


def probe(url: str) -> str:
    """How ``url`` is: "ok" on any HTTP answer, else "down: why"."""
    try:
        urllib.request.urlopen(url, timeout=PROBE_TIMEOUT).close()
    except urllib.error.HTTPError as error:
        error.close()
    except OSError as error:
        return f"down: {_why(error)}"
    return "ok"


def probe_grpc(host: str) -> str:
    """How the gRPC server at ``host`` is: "ok" once a channel to it gets ready."""
    channel = grpc.insecure_channel(host)
    try:
        grpc.channel_ready_future(channel).result(timeout=PROBE_TIMEOUT)
    except grpc.FutureTimeoutError:
        return f"down: no gRPC answer from {host}"
    finally:
        channel.close()
    return "ok"


class LocalStack(LocalService):
    """The stack program's resources served on loopback; ``origin_url`` is the one hosting origin.

    ``start()`` prints one line per service through ``progress`` and stops
    what it started if anything fails; ``stop()`` leaves no process behind.
    """

    origin_url: str
    project: str
    graph: Graph
    plan: StackPlan
    engine: Engine
    firestore: FirestoreEmulator
    pubsub: PubSubEmulator | None  # None when the program creates no topic
    identity: IdentityProvider
    google_tokens: GoogleTokenSigner
    """Signs the service accounts' ID tokens, as Google's key does; the front ends trust only it."""
    google_certs: GoogleCertsServer
    """Publishes google_tokens' certificate, where start looks for Google's (GOOGLE_OIDC_CERTS_URL)."""
    metadata_servers: dict[str, MetadataServer]
    """One per function: each hands out its own service account's tokens."""
    access: Access
    translation: TranslationServer
    workflows_server: WorkflowsServer
    executions: ExecutionsService
    functions: dict[str, FunctionServer]
    front_ends: dict[str, FrontEnd]
    """One per private function (no run.invoker for allUsers), keyed by function name."""
    function_urls: dict[str, str]
    """Where each function is called: its front end's URL if it is private, else its server's."""
    pusher: Pusher | None  # None when the program has no push subscription
    hosting: HostingServer

    def __init__(
        self,
        program: Path = REPO / "__main__.py",
        stack: str = "dev",
        *,
        clock: Clock | None = None,
        state_dir: Path | None = None,
        port: int | None = None,
        config: Mapping[str, str] | None = None,
        progress: Callable[[str], None] | None = None,
        firestore: FirestoreEmulator | None = None,
        pubsub: PubSubEmulator | None = None,
    ) -> None:
        """``firestore`` and ``pubsub``: running emulators to share instead of starting new ones
        (the tests share theirs, which saves seconds per stack). The stack loads its rules into
        ``firestore`` for its project and empties that project's databases when it stops; it
        deletes the topics and subscriptions it created on ``pubsub``.

        ``state_dir``: where the engine's store, its callback port and (with the stack's own
        Firestore emulator) an export of its database are kept from one run to the next.
        """
        self.program = Path(program)
        self.stack = stack
        self.clock = clock or RealClock()
        self.state_dir = state_dir
        self.port = port
        self.config = dict(config or {})
        self._progress = progress or (lambda line: None)
        self._cleanup: contextlib.ExitStack | None = None
        self._engine_lock = threading.Lock()
        self._engine_cleanup = contextlib.ExitStack()
        self.functions = {}
        self.front_ends = {}
        self.function_urls = {}
        self.pubsub = None
        self.pusher = None
        self._shared_firestore = firestore
        self._shared_pubsub = pubsub
        self._mails: list[dict[str, Any]] = []
        self._mails_lock = threading.Lock()

    # Starting and stopping

    def start(self) -> Self:
        """Capture the program, then start every service in order; returns self."""
        if self._cleanup is not None:
            return self
        self._cleanup = contextlib.ExitStack()
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every service in reverse order; safe after a failed start and twice."""
        cleanup, self._cleanup = self._cleanup, None
        if cleanup is not None:
            cleanup.close()

    def _say(self, label: str, detail: str) -> None:
        self._progress(f"  {label:<20} {detail}")

    def _start(self) -> None:
        assert self._cleanup is not None
        on_stop = self._cleanup
        self.functions, self.front_ends, self.function_urls, self.pusher = {}, {}, {}, None
        self.graph = capture_program(self.program, stack=self.stack, config=self.config)
        self.plan = plan = StackPlan.read(self.graph)
        self.project = plan.project
        self._say(
            "program", f"{self.program.name}, stack {self.stack}: {len(self.graph.resources)} resources"
        )
        # Everything that can fail at once does, before anything starts.
        if self.port is not None:
            check_port(self.port)
        self._dir = state_dir = self._state_dir(on_stop)
        self._engine_port = self._callback_port()

        rules = None
        if plan.rules is not None:
            rules = state_dir / "firestore.rules"
            rules.write_text(plan.rules)
        self.firestore = self._shared_firestore or FirestoreEmulator(
            project=plan.project, rules=rules, import_data=self._firestore_export()
        )
        self.firestore.check()
        self.pubsub = (self._shared_pubsub or PubSubEmulator(project=plan.project)) if plan.topics else None
        shared = (self._shared_firestore, self._shared_pubsub)
        owned = [e for e in (self.firestore, self.pubsub) if e is not None and e not in shared]
        on_stop.callback(in_parallel, [emulator.stop for emulator in owned])
        if self.state_dir is not None and self.firestore in owned:
            # Once every other service has stopped (an ExitStack undoes in reverse): nothing writes any more.
            on_stop.callback(self._export_firestore)
        if self.firestore is self._shared_firestore:
            # Leave the shared emulator as we found it: our project's documents go with us.
            for database in sorted({plan.database, *(d.database for d in plan.documents)}):
                on_stop.callback(self.firestore.reset, database, project=plan.project)
        # The emulators take seconds to come up: they start side by side while the other services do.
        background = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="emulator-start")
        on_stop.callback(background.shutdown)
        firestore_started = background.submit(self._start_firestore)
        pubsub_started = background.submit(self._start_pubsub) if self.pubsub is not None else None
        # The functions are told the origin (links, the mail outbox) before it serves.
        self._origin_port = self.port or free_port()
        self.origin_url = f"http://127.0.0.1:{self._origin_port}"
        # One made-up value per secret for this run: every function reading a secret reads the same.
        secret_values = {secret: secrets.token_urlsafe(48) for secret in plan.secrets}

        self.identity = on_stop.enter_context(IdentityProvider(plan.firebase_project))
        self._say("identity provider", f"{self.identity.certs_url} (ID tokens for {plan.firebase_project})")
        self._start_metadata_servers(on_stop)
        self.translation = on_stop.enter_context(TranslationServer())
        self._say(
            "translation", f"{self.translation.url} (local stand-in: marks the text, does not translate)"
        )

        self._start_engine(on_stop)
        self._start_functions(on_stop, secret_values)

        firestore_started.result()
        self._write_documents(with_rules=rules is not None)
        if pubsub_started is not None:
            pubsub_started.result()
            self._create_pubsub_resources(on_stop)

        self._start_hosting(on_stop)

    def _write_documents(self, *, with_rules: bool) -> None:
        """The documents the program writes (the registry, the groups), once the emulator serves."""
        for document in self.plan.documents:
            self.firestore.write_document(
                document.path, document.fields, database=document.database, project=document.project
            )
        rules_note = (
            "security rules from the program"
            if with_rules
            else "NO security rules (the program releases none)"
        )
        self._say(
            "firestore emulator", f"{self.firestore.url} ({rules_note}; {len(self.plan.documents)} documents)"
        )

    def _start_engine(self, on_stop: contextlib.ExitStack) -> None:
        """The Workflows engine with its servers, and every workflow of the program deployed on it."""
        if isinstance(self.clock, VirtualClock):
            # The functions run on the wall clock (token expiry, decide's due_at check):
            # virtual time starts from now, and moves on only when told.
            self.clock.advance_to(time.time())
        self._grpc_port = free_port()
        on_stop.callback(self._close_engine)
        self._open_engine()
        for workflow in self.plan.workflows:
            try:
                self.engine.deploy(
                    workflow.name,
                    workflow.source,
                    workflow.env,
                    workflow.service_account,
                    filename=f"{workflow.name}.yaml",
                )
            except DefinitionError as error:
                raise StackError(f"workflow {workflow.name} does not deploy: {error}") from error
        self._say(
            "workflows engine",
            f"{self.workflows_server.url} (gRPC {self.executions.host}): "
            + ", ".join(w.name for w in self.plan.workflows),
        )

    def _start_hosting(self, on_stop: contextlib.ExitStack) -> None:
        """The one origin: the hosting rewrites (to the functions' URLs, front ends included) and /local/."""
        self.hosting = HostingServer(self.plan.hosting, self.function_urls, self, self._origin_port)
        try:
            self.hosting.start()
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise StackError(
                    f"port {self._origin_port} is in use: pass --port with a free port"
                ) from error
            raise
        on_stop.callback(self.hosting.stop)
        self._say("hosting", f"{self.origin_url} ({len(self.plan.hosting.rewrites)} rewrites, /local/)")

    def _start_metadata_servers(self, on_stop: contextlib.ExitStack) -> None:
        """Each function runs as its own service account, with a metadata server of its own.

        Its access token is what the Workflows APIs map to the identity (and check what the program's
        IAM grants it); its ID tokens are signed by the stack's Google key, which the front ends trust.
        """
        plan = self.plan
        self.google_tokens = GoogleTokenSigner()
        self.google_certs = on_stop.enter_context(GoogleCertsServer(self.google_tokens))
        self.access = Access.from_grants(plan.grants, plan.custom_roles)
        self.metadata_servers = {}
        for function in plan.functions:
            account = function.service_account or f"{function.name}@{plan.project}.iam.gserviceaccount.com"
            server = MetadataServer(
                access_token=f"local-{function.name}-{secrets.token_urlsafe(18)}",
                service_account=account,
                signer=self.google_tokens,
            )
            self.metadata_servers[function.name] = on_stop.enter_context(server)
            self.access.issue(server.access_token, account)
        self._say(
            "metadata servers",
            f"one per function ({len(self.metadata_servers)}), each its own identity; "
            f"their signing certificate at {self.google_certs.certs_url}",
        )

    def _start_functions(self, on_stop: contextlib.ExitStack, secret_values: Mapping[str, str]) -> None:
        """Every function under functions-framework; a private one behind a front end of its own."""
        servers = {
            function.name: FunctionServer(
                function.entry_point,
                {
                    **function.env,
                    **{key: secret_values[secret] for key, secret in function.secret_env.items()},
                    **self._function_env(),
                    **self._start_audiences(function.env),
                    "GCE_METADATA_HOST": self.metadata_servers[function.name].host,
                },
                source=function.unpack(self._dir / "functions" / function.name),
            )
            for function in self.plan.functions
        }
        on_stop.callback(in_parallel, [server.stop for server in servers.values()])
        # Each spends most of its start importing its dependencies: side by side, not in turn.
        in_parallel([server.start for server in servers.values()])
        self.functions = servers
        verifier = self.google_tokens.verifier()
        for function in self.plan.functions:
            server = servers[function.name]
            if self.plan.is_public(function.name):
                self.function_urls[function.name] = server.url
                self._say(function.name, f"{server.url} (function, entry point {function.entry_point})")
                continue
            invokers = self.plan.invokers(function.name)
            cloud_urls = [function.url] if function.url else []
            front_end = FrontEnd(server.url, invokers, verifier, cloud_urls)
            self.front_ends[function.name] = on_stop.enter_context(front_end)
            self.function_urls[function.name] = front_end.url
            self._say(
                function.name,
                f"{front_end.url} (private function, entry point {function.entry_point}: "
                f"its front end lets in ID tokens of {', '.join(sorted(invokers)) or 'no one'})",
            )

    def _start_firestore(self) -> None:
        """Our own emulator started with the rules file; a shared one given the rules for our project."""
        if self.firestore is not self._shared_firestore:
            self.firestore.start()
        elif self.plan.rules is not None:
            self.firestore.load_rules(self.plan.project, self.plan.rules)

    def _start_pubsub(self) -> None:
        """Our own emulator started; a shared one is already running."""
        assert self.pubsub is not None
        if self.pubsub is not self._shared_pubsub:
            self.pubsub.start()

    def _create_pubsub_resources(self, on_stop: contextlib.ExitStack) -> None:
        """The program's topics and subscriptions; the stack's pusher pushes the push subscriptions.

        The emulator would push with no token, so every subscription is created on it as a pull one, and
        the pusher delivers each push subscription's messages to its function as Pub/Sub does.
        """
        pubsub = self.pubsub
        assert pubsub is not None
        shared = pubsub is self._shared_pubsub
        for topic in self.plan.topics:
            pubsub.create_topic(topic)
            if shared:
                on_stop.callback(pubsub.delete, topic)
        for subscription in self.plan.subscriptions:
            pubsub.create_subscription(
                subscription.name, subscription.topic, ack_deadline_seconds=subscription.ack_deadline_seconds
            )
            if shared:
                on_stop.callback(pubsub.delete, subscription.name)
        targets = [
            PushTarget(s, self.function_urls[s.push_function] + s.push_path)
            for s in self.plan.subscriptions
            if s.push_function is not None
        ]
        if targets:
            # Registered after the deletions, so it stops before the subscriptions go.
            self.pusher = on_stop.enter_context(Pusher(pubsub.host, targets, self.google_tokens))
        pushes = [
            f"{s.name.rsplit('/', 1)[-1]} -> {s.push_function or '(pull)'}"
            + (f" as {s.oidc_service_account}" if s.push_function and s.oidc_service_account else "")
            for s in self.plan.subscriptions
        ]
        topics = f"{len(self.plan.topics)} topic" + ("" if len(self.plan.topics) == 1 else "s")
        self._say("pubsub emulator", f"{pubsub.url} ({topics}; subscriptions: {', '.join(pushes) or 'none'})")

    def _state_dir(self, on_stop: contextlib.ExitStack) -> Path:
        if self.state_dir is not None:
            # A new one readable by its owner only: it holds the requests and everything they carry.
            self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._mark_running(self.state_dir, on_stop)
            return self.state_dir
        temporary = Path(tempfile.mkdtemp(prefix="approvals-local-"))
        on_stop.callback(Janitor(temporary).stop)
        on_stop.callback(shutil.rmtree, temporary, ignore_errors=True)
        return temporary

    def _mark_running(self, state_dir: Path, on_stop: contextlib.ExitStack) -> None:
        """Say so if the last run on ``state_dir`` was killed; mark this one's, until it has stopped.

        Such a run's Firestore writes are lost (the export is written as a stack stops) while its
        executions are kept: the requests it started may not be decidable any more.
        """
        marker = state_dir / RUNNING
        if marker.exists() and self._shared_firestore is None:
            self._say(
                "state dir",
                f"{state_dir}: its last run was killed, not stopped: Firestore holds what that run found, "
                "not what it wrote; its executions are kept, so the requests it started may not be decidable",
            )
        marker.write_text(f"{os.getpid()}\n")
        # Registered first, so undone last: once Firestore's export is written.
        on_stop.callback(marker.unlink, missing_ok=True)

    def _callback_port(self) -> int:
        """The engine's HTTP port: with a state dir, the one of its first run, which callback URLs name."""
        if self.state_dir is None:
            return free_port()
        kept = self.state_dir / ENGINE_PORT
        if kept.exists():
            port = _kept_port(kept)
            check_port(port, f"the engine's callback URLs name it (kept in {kept}): stop what listens on it")
            return port
        port = free_port()
        kept.write_text(f"{port}\n")
        return port

    def _firestore_export(self) -> Path | None:
        """What a previous run of the state dir exported, if it did."""
        if self.state_dir is None:
            return None
        export = exported(self.state_dir, FIRESTORE_EXPORT)
        return export if export.exists() else None

    def _export_firestore(self) -> None:
        """Replace the state dir's export with the stack's database as it is now, if the emulator runs.

        Called as the stack stops: a failure is said in one line and the stack goes on stopping
        (an exception here would end `up` in a traceback and exit status 1).
        """
        if not self.firestore.running:
            return  # it never started, or failed: the previous export is all there is
        kept = self._dir / FIRESTORE_EXPORT
        try:
            self.firestore.replace_export(kept, self.plan.database)
        except (OSError, http.client.HTTPException) as error:  # a broken answer is not an OSError
            previous = "the previous save is kept" if kept.exists() else "there is no previous save"
            self._progress(f"error: could not save Firestore's data to {kept}: {_why(error)}; {previous}")

    def _function_env(self) -> dict[str, str]:
        """Where a function finds the local services, on top of its own env vars."""
        return {
            "FIRESTORE_EMULATOR_HOST": self.firestore.host,
            **({"PUBSUB_EMULATOR_HOST": self.pubsub.host} if self.pubsub is not None else {}),
            # start: the Executions API (gRPC); decide: the callbacks' host, the one it sends its token to.
            "WORKFLOWS_EMULATOR_GRPC_HOST": self.executions.host,
            "WORKFLOWS_EMULATOR_HOST": self.workflows_server.host,
            "FIREBASE_AUTH_CERTS_URL": self.identity.certs_url,
            "GOOGLE_OIDC_CERTS_URL": self.google_certs.certs_url,
            # web: config.json points the page at the emulator and the local sign-in.
            "APPROVALS_LOCAL": "1",
            # notify: decision links lead to the local origin, and mails land in its outbox.
            "APPROVALS_SITE_URL": self.origin_url,
            "APPROVALS_MAIL_WEBHOOK_URL": self.outbox_url,
        }

    def _start_audiences(self, env: Mapping[str, str]) -> dict[str, str]:
        """The audiences the program gives start (its URLs on the site's domains), on the local origin."""
        if "APPROVALS_START_AUDIENCES" not in env:
            return {}
        paths = dict.fromkeys(
            urllib.parse.urlsplit(a).path for a in json.loads(env["APPROVALS_START_AUDIENCES"])
        )
        return {"APPROVALS_START_AUDIENCES": json.dumps([f"{self.origin_url}{path}" for path in paths])}

    @property
    def outbox_url(self) -> str:
        """Where the functions' mails go, and where a person reads them (GET)."""
        return f"{self.origin_url}/local/outbox"

    # The engine, which restarts on the same store and ports

    def _open_engine(self) -> None:
        cleanup = self._engine_cleanup
        store = Store(self._dir / "engine.sqlite")
        cleanup.callback(store.close)
        self.engine = Engine(
            store,
            self.clock,
            project=self.plan.project,
            location=self.plan.location,
            # Known before the server starts, so executions resumed from the store create usable callbacks.
            base_url=loopback_url(self._engine_port),
            connector_settings=ConnectorSettings(
                firestore_host=self.firestore.host,
                translate_url=self.translation.url,
                pubsub_host=self.pubsub.host if self.pubsub is not None else None,
                project=self.plan.project,
            ),
            tokens=StaticTokens(),
        )
        cleanup.callback(self.engine.close)
        # Callbacks and the Executions API take only identities the program's IAM lets in.
        self.workflows_server = cleanup.enter_context(WorkflowsServer(self.engine, access=self.access))
        self.executions = cleanup.enter_context(
            ExecutionsService(self.engine, port=self._grpc_port, access=self.access)
        )

    def _close_engine(self) -> None:
        """Servers first, then the engine, then its store (an ExitStack undoes in reverse)."""
        self._engine_cleanup.close()

    def restart_engine(self) -> None:
        """Close the engine and its servers, then reopen them on the same SQLite file and ports."""
        with self._engine_lock:
            self._close_engine()
            self._open_engine()

    def advance(self, seconds: float) -> None:
        """Move the virtual clock forward, firing what falls due (RuntimeError on a real clock)."""
        if not isinstance(self.clock, VirtualClock):
            raise RuntimeError("the stack runs on the real clock: only a virtual clock can be advanced")
        self.engine.advance(seconds)

    # What the /local/ endpoints serve

    def sign_in(self, email: str) -> dict[str, Any]:
        """Sign ``email`` in with the local identity provider (ValueError for a bad address)."""
        return self.identity.sign_in(email)

    def send_mail(self, mail: Mapping[str, Any]) -> int:
        """Keep a mail in the outbox; its number there (1 for the first)."""
        with self._mails_lock:
            self._mails.append(dict(mail))
            return len(self._mails)

    def mails(self) -> list[dict[str, Any]]:
        """The outbox, oldest first."""
        with self._mails_lock:
            return list(self._mails)

    def health(self) -> dict[str, Any]:
        """``{"status": "ok"|"degraded", "services": {name: "ok"|"down: ..."}}``."""
        services = {
            "firestore": probe(f"{self.firestore.url}/"),
            **({"pubsub": probe(f"{self.pubsub.url}/")} if self.pubsub is not None else {}),
            "identity": probe(self.identity.certs_url),
            "google certs": probe(self.google_certs.certs_url),
            **{f"metadata ({name})": probe(f"{m.url}/") for name, m in self.metadata_servers.items()},
            "translation": probe(f"{self.translation.url}/"),
            "engine": probe(f"{self.workflows_server.url}/"),
            "executions": probe_grpc(self.executions.host),
            **{name: probe(f"{server.url}/") for name, server in self.functions.items()},
            **{f"front end ({name})": probe(f"{f.url}/") for name, f in self.front_ends.items()},
            "hosting": probe(f"{self.origin_url}/local/"),
        }
        status = "ok" if all(state == "ok" for state in services.values()) else "degraded"
        return {"status": status, "services": services}

    def local_config(self) -> dict[str, Any]:
        """Where a page or a test finds the local services."""
        return {
            "project": self.plan.project,
            "firebaseProjectId": self.plan.firebase_project,
            "location": self.plan.location,
            "database": self.plan.database,
            "origin": self.origin_url,
            "firestore": self.firestore.url,
            "firestoreHost": self.firestore.host,
            "pubsub": self.pubsub.url if self.pubsub is not None else None,
            "pubsubHost": self.pubsub.host if self.pubsub is not None else None,
            "outbox": self.outbox_url,
            "engine": self.workflows_server.url,
            "executions": self.executions.host,
            "identityCerts": self.identity.certs_url,
            "googleCerts": self.google_certs.certs_url,
            "metadata": {name: m.url for name, m in self.metadata_servers.items()},
            "translation": self.translation.url,
            "functions": dict(self.function_urls),
            "workflows": [w.name for w in self.plan.workflows],
            "clock": "virtual" if isinstance(self.clock, VirtualClock) else "real",
        }
