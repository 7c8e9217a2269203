"""The engine: deploys workflows, runs executions, performs their effects, survives restarts.

One loop thread drives every `Run` (advance, collect pending effects,
dispatch them, resolve). Blocking I/O (http.*, googleapis.*) runs in a small
thread pool; sleeps and await timeouts sit on the engine's timer heap; an
execution waiting on a callback is a suspended `Run` holding no thread.

Durability: every effect result is journaled before the `Run` sees it, and
every result reaches the loop through one FIFO queue in the same critical
section that journals it, so journal order is resolution order. On start
with an existing store every ACTIVE execution is re-run with its journal
replayed (and its host values: now, uuid) and then continues live: an
effect whose result was journaled is never performed again.
"""

from __future__ import annotations

import heapq
import itertools
import os
import threading
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

from approvals.engine.language.definition import (
    MAX_USER_ENV_VARS,
    RESERVED_ENV_PREFIXES,
    Program,
    parse,
)
from approvals.engine.runtime import values
from approvals.engine.runtime.clock import Clock, VirtualClock
from approvals.engine.runtime.effects import (
    AwaitCallbackEffect,
    CallEffect,
    CreateCallbackEffect,
    Effect,
    SleepEffect,
)
from approvals.engine.runtime.errors import (
    SYSTEM_ERROR,
    TIMEOUT_ERROR,
    TYPE_ERROR,
    VALUE_ERROR,
    DefinitionError,
    WorkflowError,
)
from approvals.engine.runtime.interpreter import Run
from approvals.engine.runtime.store import (
    ACTIVE,
    CANCELLED,
    FAILED,
    SUCCEEDED,
    CallbackRecord,
    ExecutionRecord,
    Store,
    WorkflowRecord,
)
from approvals.engine.runtime.tokens import StaticTokens, TokenSource

if TYPE_CHECKING:
    import logging
    from concurrent.futures import ThreadPoolExecutor

    from approvals.engine.runtime.connectors import ConnectorSettings


def logger() -> logging.Logger:
    """This module's logger (sys.log output at INFO, the engine's own failures at ERROR).

    logging is imported with the first message rather than with the engine: most runs of
    `python -m emulator run` log nothing, and logging with what it imports (traceback,
    string, weakref) is about 4 ms of a start whose budget is twice `import yaml`.
    """
    import logging

    return logging.getLogger(__name__)


def random_uuid() -> str:
    """A random UUID (version 4) as text, as `str(uuid.uuid4())` makes it.

    Not from the uuid module, which imports platform: about 2 ms of the start of `python -m
    approvals.emulator run`, whose budget is twice `import yaml` (benchmarks/cli.py). For the
    same reason urllib.parse, which only callbacks need, comes with the first one.
    """
    data = bytearray(os.urandom(16))
    data[6] = data[6] & 0x0F | 0x40  # version 4
    data[8] = data[8] & 0x3F | 0x80  # the RFC 4122 variant
    text = data.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


# Where callback URLs point when no local server announced itself: Google's shape.
PRODUCTION_BASE_URL = "https://workflowexecutions.googleapis.com"
# "one of GET, HEAD, POST, PUT, DELETE, OPTIONS, or PATCH. The default value is POST" (Wait using callbacks).
CALLBACK_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"})
CANCELLED_ERROR = {"message": "The execution was cancelled."}


class EngineError(Exception):
    """A request the engine refuses; the APIs map the subclass to a status."""


class NotFoundError(EngineError):
    """No such workflow, execution or callback."""


class FailedPreconditionError(EngineError):
    """The resource is not in a state that allows the request (e.g. cancelling an ended execution)."""


class MethodNotAllowedError(EngineError):
    """A callback called with another HTTP method than the one it was created for."""


class CallbackFullError(EngineError):
    """A callback that already holds a pending request ("Wait using callbacks": 429)."""


class CallbackRequest(NamedTuple):
    """An HTTP request to a callback endpoint, as the server received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""


class _Live:
    """An ACTIVE execution's in-memory side: its Run and which effects are already in hand."""

    __slots__ = ("dispatched", "execution_id", "host", "run")

    def __init__(self, execution_id: str, run: Run, host: _Host) -> None:
        self.execution_id = execution_id
        self.run = run
        self.host = host
        self.dispatched: set[str] = set()


def _check_env(env: Mapping[str, str], filename: str) -> None:
    """Google refuses to deploy a revision whose user env vars break these rules."""
    if len(env) > MAX_USER_ENV_VARS:
        raise DefinitionError(
            f"{len(env)} environment variables; a workflow has at most {MAX_USER_ENV_VARS}", source=filename
        )
    for name in env:
        if not name or name.startswith(RESERVED_ENV_PREFIXES):
            raise DefinitionError(
                f"environment variable {name!r} is reserved: a name may not be empty or start "
                "with GOOGLE_ or WORKFLOWS_",
                source=filename,
            )


class _Host:
    """The Host a Run calls: env vars, and journaled now()/uuid4() so a replay sees the same values."""

    def __init__(self, engine: Engine, execution: ExecutionRecord, workflow: WorkflowRecord) -> None:
        self._engine = engine
        self._execution_id = execution.id
        self._journaled = engine.store.host_values(execution.id)
        self._count = 0
        self.replaying = False
        # "Built-in environment variables" (Workflows docs, "Use environment variables").
        self._env = {
            **workflow.env,
            "GOOGLE_CLOUD_PROJECT_ID": engine.project,
            "GOOGLE_CLOUD_PROJECT_NUMBER": engine.project_number,
            "GOOGLE_CLOUD_LOCATION": engine.location,
            "GOOGLE_CLOUD_WORKFLOW_ID": workflow.id,
            "GOOGLE_CLOUD_WORKFLOW_REVISION_ID": workflow.revision,
            "GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID": execution.id,
            "GOOGLE_CLOUD_SERVICE_ACCOUNT_NAME": workflow.service_account or engine.default_service_account,
        }

    def now(self) -> float:
        return self._value("now", self._engine.clock.now)

    def uuid4(self) -> str:
        return self._value("uuid", random_uuid)

    def env(self, name: str) -> str | None:
        return self._env.get(name)

    def log(self, severity: str, payload: Any) -> None:
        if not self.replaying:
            self._engine.record_log(self._execution_id, severity, payload)

    def _value(self, kind: str, make: Callable[[], Any]) -> Any:
        n = self._count
        self._count += 1
        if n < len(self._journaled):
            journaled_kind, value = self._journaled[n]
            if journaled_kind == kind:
                return value
            raise RuntimeError(f"replay diverged: host value {n} was {journaled_kind}, now {kind}")
        value = make()
        self._engine.store.append_host_value(self._execution_id, n, kind, value)
        return value


class LogEntry(NamedTuple):
    """One sys.log call."""

    execution_id: str
    severity: str
    payload: Any


class Engine:
    """Runs workflow executions against `store` on `clock`. Start it by constructing it; `close()` it."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        project: str = "local-project",
        project_number: str = "000000000000",
        location: str = "us-central1",
        base_url: str | None = None,
        connector_settings: ConnectorSettings | None = None,
        tokens: TokenSource | None = None,
        on_callback: Callable[[str], None] | None = None,
        io_workers: int = 8,
    ) -> None:
        self.store = store
        self.clock = clock
        self.project = project
        self.project_number = project_number
        self.location = location
        # Where callback URLs point; given here only, and read by the server, which listens there.
        self._base_url = base_url
        # None: the connectors' defaults for `project`, made on the first connector call.
        self.connector_settings = connector_settings
        self.tokens = tokens or StaticTokens()
        self.on_callback = on_callback
        self.default_service_account = f"{project_number}-compute@developer.gserviceaccount.com"
        self.logs: list[LogEntry] = []
        self._programs: dict[tuple[str, str], Program] = {}
        self._live: dict[str, _Live] = {}
        self._cond = threading.Condition()
        self._events: deque[Callable[[], None]] = deque()
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._timer_seq = itertools.count()
        self._busy = False
        self._inflight = 0
        self._stopping = False
        # Made by the first blocking call (_dispatch): most CLI runs make none.
        self._pool: ThreadPoolExecutor | None = None
        self._io_workers = io_workers
        for record in reversed(store.executions(state=ACTIVE)):
            self._events.append(partial(self._activate, record.id))
        self._thread = threading.Thread(target=self._loop, name="workflows-engine", daemon=True)
        self._thread.start()

    # Public API (any thread)

    def deploy(
        self,
        workflow_id: str,
        source: str,
        env: Mapping[str, str] | None = None,
        service_account: str | None = None,
        *,
        filename: str | None = None,
    ) -> str:
        """Deploy a new revision of `workflow_id`; returns its revision id. DefinitionError propagates.

        `filename` names the source in definition errors (default: WORKFLOW_ID.yaml).
        """
        filename = filename or f"{workflow_id}.yaml"
        _check_env(env or {}, filename)
        program = parse(source, filename)
        with self.store.transaction():
            latest = self.store.workflow(workflow_id)
            number = 1 if latest is None else latest.number + 1
            # Revision ids look like Google's: a zero-padded counter and a short suffix.
            revision = f"{number:06d}-{random_uuid()[:3]}"
            self.store.put_workflow(
                WorkflowRecord(
                    id=workflow_id,
                    revision=revision,
                    number=number,
                    source=source,
                    env=dict(env or {}),
                    service_account=service_account,
                    project=self.project,
                    location=self.location,
                    created=self.clock.now(),
                )
            )
        self._programs[(workflow_id, revision)] = program
        return revision

    def workflow(self, workflow_id: str) -> WorkflowRecord:
        """The latest revision of a deployed workflow."""
        record = self.store.workflow(workflow_id)
        if record is None:
            raise NotFoundError(f"workflow {workflow_id!r} not found")
        return record

    def start(
        self,
        workflow_id: str,
        argument: Any = None,
        *,
        labels: Mapping[str, str] | None = None,
        call_log_level: str | None = None,
    ) -> ExecutionRecord:
        """Start an execution of the latest revision; it runs on the loop.

        `labels` and `call_log_level` are kept for the Executions API to show; the engine
        itself neither logs calls nor reads labels.
        """
        workflow = self.workflow(workflow_id)
        record = ExecutionRecord(
            id=random_uuid(),
            workflow=workflow_id,
            revision=workflow.revision,
            argument=argument,
            state=ACTIVE,
            start_time=self.clock.now(),
            labels=None if labels is None else dict(labels),
            call_log_level=call_log_level,
        )
        with self._cond:
            self.store.create_execution(record)
            self._post(partial(self._activate, record.id))
        return record

    def get(self, execution_id: str) -> ExecutionRecord:
        """The execution; an ACTIVE one with the step its Run is at (the store has it once it ends)."""
        record = self.store.execution(execution_id)
        if record is None:
            raise NotFoundError(f"execution {execution_id!r} not found")
        if record.state == ACTIVE:
            return record._replace(current_step=self._current_step(execution_id))
        return record

    def _current_step(self, execution_id: str) -> tuple[str, str] | None:
        # Read from other threads than the loop's: one attribute read, so no lock.
        live = self._live.get(execution_id)
        return None if live is None else live.run.current_step

    def list(self, workflow_id: str | None = None) -> list[ExecutionRecord]:
        """Executions of `workflow_id` (or all), newest first."""
        return self.store.executions(workflow_id)

    def cancel(self, execution_id: str) -> ExecutionRecord:
        """Cancel an ACTIVE execution: it ends CANCELLED now and its Run is dropped."""
        with self._cond:
            record = self.get(execution_id)
            ended = self.store.finish_execution(
                execution_id,
                CANCELLED,
                error=CANCELLED_ERROR,
                end_time=self.clock.now(),
                current_step=self._current_step(execution_id),
            )
            if not ended:
                raise FailedPreconditionError(f"execution {execution_id!r} is {record.state}, not ACTIVE")
            self._post(partial(self._drop, execution_id))
            self._cond.notify_all()
        return self.get(execution_id)

    def list_callbacks(self, execution_id: str) -> list[CallbackRecord]:
        self.get(execution_id)
        return self.store.callbacks(execution_id)

    @property
    def base_url(self) -> str | None:
        """The base of the callback URLs this engine hands out (None: Google's, as no server serves it)."""
        return self._base_url

    def callback_url(self, workflow_id: str, execution_id: str, callback_id: str) -> str:
        # The URL shape of "events.create_callback_endpoint" (Wait using callbacks).
        base = (self.base_url or PRODUCTION_BASE_URL).rstrip("/")
        return (
            f"{base}/v1/projects/{self.project_number}/locations/{self.location}/workflows/{workflow_id}"
            f"/executions/{execution_id}/callbacks/{callback_id}"
        )

    def receive_callback(self, execution_id: str, callback_id: str, request: CallbackRequest) -> None:
        """Deliver an HTTP request to a callback endpoint; returns once it is committed to the store.

        "Wait using callbacks": an endpoint holds one pending request, so a call while one is
        pending is refused (CallbackFullError, 429); a call nobody awaits yet is kept for the
        next await, and one several steps await goes to the first that began to wait (callbacks.list
        counts an endpoint's "waiters"; which one Google answers first it does not say); after the
        execution ended the endpoint is gone (NotFoundError). Who may
        call is the API's business (`api.access`), as for every other engine request.
        """
        with self._cond, self.store.transaction():
            execution = self.store.execution(execution_id)
            callback = self.store.callback(callback_id)
            if execution is None or callback is None or callback.execution != execution_id:
                raise NotFoundError("callback not found")
            if execution.state != ACTIVE:
                raise NotFoundError(f"execution {execution_id} is {execution.state}")
            if request.method.upper() != callback.method:
                raise MethodNotAllowedError(f"this callback accepts {callback.method}")
            if callback.request is not None:
                raise CallbackFullError("the callback already holds a pending request")
            value = self._request_value(request)
            if callback.waiters:
                first, _ = callback.waiters[0]
                self.store.remove_waiter(callback_id, first)
                self._commit(execution_id, first, result=value)
            else:
                self.store.set_slot(callback_id, value)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Return once no run is runnable, no timer is due and no I/O is in flight."""
        with self._cond:
            if not self._cond.wait_for(self._idle, timeout):
                raise TimeoutError(f"the engine did not settle within {timeout}s")

    def wait(self, execution_id: str, timeout: float | None = None) -> ExecutionRecord:
        """Block until the execution has ended (on a real clock, sleeps and timeouts included)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.get(execution_id).state != ACTIVE, timeout):
                raise TimeoutError(f"execution {execution_id} still ACTIVE after {timeout}s")
        return self.get(execution_id)

    def advance(self, seconds: float, timeout: float = 10.0) -> None:
        """Virtual clock only: move time forward, firing each timer due on the way, then settle."""
        if not isinstance(self.clock, VirtualClock):
            raise TypeError("advance() needs a VirtualClock")
        target = self.clock.now() + seconds
        while True:
            self.wait_idle(timeout)
            with self._cond:
                due = self._timers[0][0] if self._timers else None
            if due is None or due > target:
                break
            # Stop at each due time so that what a timer starts sees the right now().
            with self._cond:
                self.clock.advance_to(due)
                self._cond.notify_all()
        with self._cond:
            self.clock.advance_to(target)
            self._cond.notify_all()
        self.wait_idle(timeout)

    def record_log(self, execution_id: str, severity: str, payload: Any) -> None:
        """sys.log output: kept in `logs` and sent to this module's logger."""
        with self._cond:
            self.logs.append(LogEntry(execution_id, severity, payload))
        # A map or list as the JSON Cloud Logging shows for a jsonPayload, not as Python writes it.
        shown = payload if isinstance(payload, str) else values.json_text(payload, ensure_ascii=False)
        logger().info("[%s] %s: %s", execution_id, severity, shown)

    def close(self) -> None:
        """Stop the loop and the I/O pool; ACTIVE executions stay ACTIVE in the store."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout=10)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    # The loop thread

    def _post(self, job: Callable[[], None]) -> None:
        with self._cond:
            self._events.append(job)
            self._cond.notify_all()

    def _idle(self) -> bool:
        due = bool(self._timers) and self._timers[0][0] <= self.clock.now()
        return not self._events and not self._busy and self._inflight == 0 and not due

    def _loop(self) -> None:
        while True:
            with self._cond:
                job: Callable[[], None] | None = None
                while job is None:
                    if self._stopping:
                        return
                    if self._events:
                        job = self._events.popleft()
                    elif self._timers and self._timers[0][0] <= self.clock.now():
                        job = heapq.heappop(self._timers)[2]
                    else:
                        self._cond.notify_all()
                        self._cond.wait(self.clock.wait_time(self._timers[0][0]) if self._timers else None)
                self._busy = True
            try:
                job()
            except Exception:
                logger().exception("engine loop job failed")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _add_timer(self, when: float, job: Callable[[], None]) -> None:
        with self._cond:
            heapq.heappush(self._timers, (when, next(self._timer_seq), job))
            self._cond.notify_all()

    def _program(self, workflow: WorkflowRecord) -> Program:
        key = (workflow.id, workflow.revision)
        if key not in self._programs:
            self._programs[key] = parse(workflow.source, f"{workflow.id}.yaml")
        return self._programs[key]

    def _activate(self, execution_id: str) -> None:
        """Create the Run of an ACTIVE execution, replay its journal, then let it continue live.

        Holds the engine lock throughout, so that a callback arriving meanwhile
        is either in the journal read here or finds the await dispatched below.
        """
        with self._cond:
            record = self.store.execution(execution_id)
            if record is None or record.state != ACTIVE or execution_id in self._live:
                return
            workflow = self.store.workflow(record.workflow, record.revision)
            assert workflow is not None, "an execution's revision is never deleted"
            try:
                host = _Host(self, record, workflow)
                live = _Live(execution_id, Run(self._program(workflow), record.argument, host), host)
                self._live[execution_id] = live
                self._replay(live)
            except Exception as exc:
                logger().exception("execution %s could not be started or resumed", execution_id)
                self._fail(execution_id, exc)
                return
            self._settle(live)

    def _replay(self, live: _Live) -> None:
        journal = self.store.journal(live.execution_id)
        live.host.replaying = bool(journal)
        live.run.advance()
        for entry in journal:
            if live.run.done:
                break
            if entry.effect_id not in live.run.pending:
                raise RuntimeError(f"replay diverged: journaled effect {entry.effect_id} is not pending")
            error = WorkflowError(entry.error) if entry.failed else None
            live.run.resolve(entry.effect_id, result=entry.result, error=error)
            live.run.advance()
        live.host.replaying = False

    def _resolve(self, execution_id: str, effect_id: str, result: Any, error: WorkflowError | None) -> None:
        live = self._live.get(execution_id)
        if live is None or effect_id not in live.run.pending:
            return
        try:
            live.run.resolve(effect_id, result=result, error=error)
            live.run.advance()
        except Exception as exc:
            logger().exception("execution %s failed inside the interpreter", execution_id)
            self._fail(execution_id, exc)
            return
        self._settle(live)

    def _settle(self, live: _Live) -> None:
        """After an advance: record the end, or dispatch the effects not yet in hand.

        Whatever goes wrong here fails the execution rather than the engine's loop,
        which would otherwise leave it ACTIVE for ever (and a CLI run waiting on it).
        """
        try:
            self._record_or_dispatch(live)
        except WorkflowError as exc:
            self._fail(live.execution_id, exc)
        except Exception as exc:
            logger().exception("execution %s could not be settled", live.execution_id)
            self._fail(live.execution_id, exc)

    def _record_or_dispatch(self, live: _Live) -> None:
        run = live.run
        if run.done:
            if run.error is not None:
                self._finish(live.execution_id, FAILED, error=run.error.value)
                return
            # "Bytes can't be returned by a workflow as they can't be JSON-encoded" (data
            # types reference), nor can a function value: the rule json.encode applies.
            try:
                values.to_json(run.result)
            except WorkflowError as exc:
                raise WorkflowError.tagged(
                    VALUE_ERROR, f"a workflow's result must be JSON: {exc.value['message']}"
                ) from exc
            self._finish(live.execution_id, SUCCEEDED, result=run.result)
            return
        for effect_id, effect in list(run.pending.items()):
            if effect_id not in live.dispatched:
                live.dispatched.add(effect_id)
                self._dispatch(live.execution_id, effect_id, effect)

    def _fail(self, execution_id: str, exc: Exception) -> None:
        """End an execution whose Run raised instead of finishing: a workflow error stays itself."""
        if not isinstance(exc, WorkflowError):
            exc = WorkflowError.tagged(SYSTEM_ERROR, f"internal engine error: {exc}")
        self._finish(execution_id, FAILED, error=exc.value)

    def _finish(self, execution_id: str, state: str, *, result: Any = None, error: Any = None) -> None:
        """Record the end, with the step the Run ended at, and let go of the Run."""
        with self._cond:
            self.store.finish_execution(
                execution_id,
                state,
                result=result,
                error=error,
                end_time=self.clock.now(),
                current_step=self._current_step(execution_id),
            )
            self._live.pop(execution_id, None)
            self._cond.notify_all()

    def _drop(self, execution_id: str) -> None:
        live = self._live.pop(execution_id, None)
        if live is not None:
            live.run.cancel()

    # Effects

    def _dispatch(self, execution_id: str, effect_id: str, effect: Effect) -> None:
        if isinstance(effect, CallEffect):
            with self._cond:
                self._inflight += 1
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(
                    max_workers=self._io_workers, thread_name_prefix="workflows-io"
                )
            self._pool.submit(self._perform_call, execution_id, effect_id, effect)
        elif isinstance(effect, SleepEffect):
            self._add_timer(effect.until, partial(self._commit, execution_id, effect_id, result=None))
        elif isinstance(effect, CreateCallbackEffect):
            self._create_callback(execution_id, effect_id, effect)
        elif isinstance(effect, AwaitCallbackEffect):
            self._await_callback(execution_id, effect_id, effect)
        else:
            self._commit(
                execution_id, effect_id, error=WorkflowError.tagged(SYSTEM_ERROR, f"unknown effect {effect}")
            )

    def _commit(
        self, execution_id: str, effect_id: str, *, result: Any = None, error: WorkflowError | None = None
    ) -> None:
        """Journal how an effect resolved and queue the resolution, in one critical section."""
        with self._cond:
            if self._stopping:
                return
            self.store.append_journal(
                execution_id,
                effect_id,
                result=result,
                error=None if error is None else error.value,
                failed=error is not None,
            )
            self._post(partial(self._resolve, execution_id, effect_id, result, error))

    def settings_for_connectors(self) -> ConnectorSettings:
        """Where a connector call goes: the settings given, else the connectors' defaults."""
        from approvals.engine.runtime.connectors import ConnectorSettings

        return self.connector_settings or ConnectorSettings(project=self.project)

    def _perform_call(self, execution_id: str, effect_id: str, effect: CallEffect) -> None:
        result: Any = None
        error: WorkflowError | None = None
        try:
            if effect.name.startswith("http."):
                # Loaded with the first http.* call: most workflows a CLI run executes make none.
                from approvals.engine.runtime import http_client

                result = http_client.http_call(effect.name, effect.args, self.tokens)
            elif effect.name.startswith("googleapis."):
                from approvals.engine.runtime import connectors

                settings = self.settings_for_connectors()
                result = connectors.call_connector(effect.name, effect.args, settings, self.tokens)
            else:
                raise WorkflowError.tagged(
                    SYSTEM_ERROR, f"{effect.name} is not a blocking call the engine knows"
                )
        except WorkflowError as exc:
            error = exc
        except Exception as exc:
            logger().exception("%s failed", effect.name)
            error = WorkflowError.tagged(SYSTEM_ERROR, f"{effect.name} failed: {exc}")
        with self._cond:
            self._commit(execution_id, effect_id, result=result, error=error)
            self._inflight -= 1
            self._cond.notify_all()

    def _create_callback(self, execution_id: str, effect_id: str, effect: CreateCallbackEffect) -> None:
        method = str(effect.method).upper()
        if method not in CALLBACK_METHODS:
            allowed = ", ".join(sorted(CALLBACK_METHODS))
            error = WorkflowError.tagged(VALUE_ERROR, f"http_callback_method must be one of {allowed}")
            self._commit(execution_id, effect_id, error=error)
            return
        execution = self.get(execution_id)
        callback_id = random_uuid()
        url = self.callback_url(execution.workflow, execution_id, callback_id)
        # The endpoint and the journal entry commit together: a replay never creates it twice.
        with self._cond, self.store.transaction():
            self.store.create_callback(CallbackRecord(callback_id, execution_id, method, self.clock.now()))
            self._commit(execution_id, effect_id, result={"url": url})
        logger().debug("callback endpoint %s", url)
        if self.on_callback is not None:
            self.on_callback(url)

    def _await_callback(self, execution_id: str, effect_id: str, effect: AwaitCallbackEffect) -> None:
        timeout = float(effect.timeout)  # the interpreter filled in the default
        with self._cond, self.store.transaction():
            try:
                callback = self._own_callback(execution_id, effect.callback)
            except WorkflowError as error:
                self._commit(execution_id, effect_id, error=error)
                return
            if callback.request is not None:
                self.store.set_slot(callback.id, None)
                self._commit(execution_id, effect_id, result=callback.request)
                return
            # After a restart the same await resumes with its original deadline.
            deadline = dict(callback.waiters).get(effect_id)
            if deadline is None:
                deadline = self.clock.now() + timeout
                self.store.add_waiter(callback.id, effect_id, deadline)
        self._add_timer(deadline, partial(self._await_timeout, execution_id, callback.id, effect_id))

    def _own_callback(self, execution_id: str, callback: Any) -> CallbackRecord:
        """The endpoint an await names; "only awaited in the execution in which they're created"."""
        if not isinstance(callback, dict) or not isinstance(callback.get("url"), str):
            raise WorkflowError.tagged(TYPE_ERROR, "callback must be a map with a url")
        import urllib.parse  # with the first callback: see random_uuid

        path = urllib.parse.urlsplit(callback["url"]).path.rstrip("/")
        record = self.store.callback(path.rsplit("/", 1)[-1])
        if record is None or record.execution != execution_id:
            raise WorkflowError.tagged(
                VALUE_ERROR, f"no callback endpoint of this execution at {callback['url']}"
            )
        return record

    def _await_timeout(self, execution_id: str, callback_id: str, effect_id: str) -> None:
        with self._cond, self.store.transaction():
            callback = self.store.callback(callback_id)
            if callback is None or effect_id not in dict(callback.waiters):
                return
            self.store.remove_waiter(callback_id, effect_id)
            # "If the timeout is reached, a TimeoutError is raised" (Introducing Workflows callbacks).
            error = WorkflowError.tagged(TIMEOUT_ERROR, "Timed out waiting for the callback")
            self._commit(execution_id, effect_id, error=error)

    # Callback requests

    def _request_value(self, request: CallbackRequest) -> dict[str, Any]:
        """What await_callback returns, shaped like "callback_request" in Wait using callbacks.

        {http_request: {body, headers, method, query, url}, received_time, type: "HTTP"}.
        """
        import urllib.parse  # with the first callback request: see random_uuid

        # The caller's token is not the workflow's business.
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        url = request.path
        if request.query:
            url += "?" + urllib.parse.urlencode(request.query, doseq=True)
        received = datetime.fromtimestamp(self.clock.now(), UTC).isoformat(timespec="microseconds")
        return {
            "http_request": {
                "body": _decode_body(request.body, headers),
                "headers": headers,
                "method": request.method.upper(),
                "query": {k: list(v) for k, v in request.query.items()},
                "url": url,
            },
            "received_time": received.replace("+00:00", "Z"),
            "type": "HTTP",
        }


def _decode_body(body: bytes, headers: Mapping[str, str]) -> Any:
    """A JSON body arrives decoded; text stays text; anything else stays bytes."""
    if not body:
        return None
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "").lower()
    if "json" in content_type:
        try:
            return values.parse_json(body)
        except (ValueError, WorkflowError):
            pass  # not JSON after all (or too deep to walk): handed over as text, like any other body
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body
