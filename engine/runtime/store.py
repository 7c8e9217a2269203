"""Durable engine state in one SQLite file (WAL): what survives an engine restart.

Deployed workflows, executions, the effect journal that lets a restarted
engine replay an execution to where it stopped, the nondeterministic host
values (now, uuid) that replay must see again, and callback endpoints with
their one pending-request slot and the awaits waiting on them. Every write commits before the caller
acknowledges anything, so a callback answered 200 survives the engine being
killed (WAL with `synchronous=NORMAL`: durable across process crashes, the
failure this engine is built to survive). Several statements that must hold
together run in one `transaction()`.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from pathlib import Path

ACTIVE = "ACTIVE"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
CANCELLED = "CANCELLED"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS workflows (
    id TEXT NOT NULL, revision TEXT NOT NULL, number INTEGER NOT NULL, source TEXT NOT NULL,
    env TEXT NOT NULL, service_account TEXT, project TEXT NOT NULL, location TEXT NOT NULL,
    created REAL NOT NULL, PRIMARY KEY (id, revision));
CREATE TABLE IF NOT EXISTS executions (
    number INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, workflow TEXT NOT NULL,
    revision TEXT NOT NULL, argument TEXT, state TEXT NOT NULL, result TEXT, error TEXT,
    start_time REAL NOT NULL, end_time REAL, labels TEXT, call_log_level TEXT, current_step TEXT);
CREATE INDEX IF NOT EXISTS executions_by_workflow ON executions (workflow, number);
CREATE TABLE IF NOT EXISTS journal (
    execution TEXT NOT NULL, seq INTEGER NOT NULL, effect_id TEXT NOT NULL, result TEXT, error TEXT,
    PRIMARY KEY (execution, seq));
CREATE TABLE IF NOT EXISTS host_values (
    execution TEXT NOT NULL, n INTEGER NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (execution, n));
CREATE TABLE IF NOT EXISTS callbacks (
    id TEXT PRIMARY KEY, execution TEXT NOT NULL, method TEXT NOT NULL, created REAL NOT NULL,
    request TEXT);
CREATE INDEX IF NOT EXISTS callbacks_by_execution ON callbacks (execution);
CREATE TABLE IF NOT EXISTS callback_waiters (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, callback TEXT NOT NULL, effect_id TEXT NOT NULL,
    deadline REAL NOT NULL, UNIQUE (callback, effect_id));
"""

# Columns added since the first schema, with their types: a file an older engine wrote gains them.
_ADDED_COLUMNS = {"executions": {"labels": "TEXT", "call_log_level": "TEXT", "current_step": "TEXT"}}

# JSON has no bytes; a one-key map with this key stands for base64 bytes.
_BYTES_KEY = "\u0000bytes"


def encode(value: Any) -> str:
    """Any Workflows value (bytes included) as lossless JSON text."""
    return json.dumps(_tag(value), separators=(",", ":"))


def decode(text: str | None) -> Any:
    """The inverse of `encode`; None stays None."""
    return None if text is None else _untag(json.loads(text))


def _tag(value: Any) -> Any:
    if isinstance(value, bytes):
        return {_BYTES_KEY: base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {key: _tag(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_tag(item) for item in value]
    return value


def _untag(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and _BYTES_KEY in value:
            return base64.b64decode(value[_BYTES_KEY])
        return {key: _untag(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_untag(item) for item in value]
    return value


# The records are NamedTuples rather than dataclasses, which the CLI's start would pay for
# (see `parser`).


class WorkflowRecord(NamedTuple):
    """One deployed revision of a workflow."""

    id: str
    revision: str
    number: int
    source: str
    env: dict[str, str]
    service_account: str | None = None
    project: str = ""
    location: str = ""
    created: float = 0.0


class ExecutionRecord(NamedTuple):
    """An execution's durable state; `result`/`error` are decoded values."""

    id: str
    workflow: str
    revision: str
    argument: Any
    state: str
    start_time: float
    result: Any = None
    error: Any = None
    end_time: float | None = None
    labels: dict[str, str] | None = None
    call_log_level: str | None = None  # None: not given at creation
    current_step: tuple[str, str] | None = None  # (routine, step) it ended at


class JournalEntry(NamedTuple):
    """A resolved effect: its id and either a result or an error value."""

    seq: int
    effect_id: str
    result: Any = None
    error: Any = None
    failed: bool = False


class CallbackRecord(NamedTuple):
    """A callback endpoint: `request` is the pending-request slot; `waiters` the await effects
    waiting on it, (effect id, deadline) in the order they began to wait."""

    id: str
    execution: str
    method: str
    created: float
    request: Any = None
    waiters: tuple[tuple[str, float], ...] = ()


class Store:
    """The engine's SQLite file; safe to share between threads (one connection, one lock)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self._depth = 0
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a commit survives the engine being killed (what durability
        # here promises); only a power cut may lose the last commits, for far fewer fsyncs.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._add_missing_columns()
        self._move_waiters()

    def _move_waiters(self) -> None:
        """A file from when an endpoint had one waiter (callbacks.waiting) keeps it as its first.

        The old columns stay, emptied: dropping a column needs SQLite 3.35, newer than some
        systems' Python links to.
        """
        present = {row["name"] for row in self._db.execute("PRAGMA table_info(callbacks)")}
        if "waiting" not in present:
            return
        with self.transaction():
            self._db.execute(
                "INSERT INTO callback_waiters (callback, effect_id, deadline)"
                " SELECT id, waiting, deadline FROM callbacks WHERE waiting IS NOT NULL"
            )
            self._db.execute("UPDATE callbacks SET waiting = NULL, deadline = NULL")

    def _add_missing_columns(self) -> None:
        for table, columns in _ADDED_COLUMNS.items():
            present = {row["name"] for row in self._db.execute(f"PRAGMA table_info({table})")}
            for name, kind in columns.items():
                if name not in present:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes: all commit together or none does; nests (inner blocks join the outer)."""
        with self._lock:
            if self._depth == 0:
                self._db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if self._depth == 0:
                self._db.execute("COMMIT")

    def _write(self, sql: str, params: tuple[Any, ...]) -> sqlite3.Cursor:
        with self.transaction():
            return self._db.execute(sql, params)

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # Workflows

    def put_workflow(self, record: WorkflowRecord) -> None:
        self._write(
            "INSERT INTO workflows VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.id,
                record.revision,
                record.number,
                record.source,
                json.dumps(record.env),
                record.service_account,
                record.project,
                record.location,
                record.created,
            ),
        )

    def workflow(self, workflow_id: str, revision: str | None = None) -> WorkflowRecord | None:
        """A revision of the workflow, the latest by default."""
        if revision is None:
            rows = self._rows(
                "SELECT * FROM workflows WHERE id = ? ORDER BY number DESC LIMIT 1", (workflow_id,)
            )
        else:
            rows = self._rows(
                "SELECT * FROM workflows WHERE id = ? AND revision = ?", (workflow_id, revision)
            )
        if not rows:
            return None
        row = rows[0]
        return WorkflowRecord(
            id=row["id"],
            revision=row["revision"],
            number=row["number"],
            source=row["source"],
            env=json.loads(row["env"]),
            service_account=row["service_account"],
            project=row["project"],
            location=row["location"],
            created=row["created"],
        )

    # Executions

    def create_execution(self, record: ExecutionRecord) -> None:
        self._write(
            "INSERT INTO executions (id, workflow, revision, argument, state, start_time, labels,"
            " call_log_level) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.id,
                record.workflow,
                record.revision,
                encode(record.argument),
                record.state,
                record.start_time,
                None if record.labels is None else json.dumps(record.labels),
                record.call_log_level,
            ),
        )

    def execution(self, execution_id: str) -> ExecutionRecord | None:
        rows = self._rows("SELECT * FROM executions WHERE id = ?", (execution_id,))
        return _execution(rows[0]) if rows else None

    def executions(self, workflow_id: str | None = None, state: str | None = None) -> list[ExecutionRecord]:
        """Executions, newest first (like the Executions API's list)."""
        where, params = [], []
        if workflow_id is not None:
            where.append("workflow = ?")
            params.append(workflow_id)
        if state is not None:
            where.append("state = ?")
            params.append(state)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = self._rows(f"SELECT * FROM executions{clause} ORDER BY number DESC", tuple(params))
        return [_execution(row) for row in rows]

    def finish_execution(
        self,
        execution_id: str,
        state: str,
        *,
        result: Any = None,
        error: Any = None,
        end_time: float,
        current_step: tuple[str, str] | None = None,
    ) -> bool:
        """End an ACTIVE execution; False when it had already ended."""
        with self.transaction():
            cursor = self._write(
                "UPDATE executions SET state = ?, result = ?, error = ?, end_time = ?, current_step = ?"
                " WHERE id = ? AND state = ?",
                (
                    state,
                    None if state != SUCCEEDED else encode(result),
                    None if error is None else encode(error),
                    end_time,
                    None if current_step is None else json.dumps(current_step),
                    execution_id,
                    ACTIVE,
                ),
            )
            if cursor.rowcount != 1:
                return False
            # An ended execution waits on nothing: no callback shows it waiting, no timer answers it.
            self._write(
                "DELETE FROM callback_waiters"
                " WHERE callback IN (SELECT id FROM callbacks WHERE execution = ?)",
                (execution_id,),
            )
        return True

    # Journal and host values

    def append_journal(
        self,
        execution_id: str,
        effect_id: str,
        *,
        result: Any = None,
        error: Any = None,
        failed: bool = False,
    ) -> int:
        """Record how an effect resolved; returns its sequence number."""
        with self.transaction():
            rows = self._db.execute(
                "SELECT COALESCE(MAX(seq), -1) + 1 FROM journal WHERE execution = ?", (execution_id,)
            ).fetchone()
            seq = rows[0]
            self._db.execute(
                "INSERT INTO journal VALUES (?, ?, ?, ?, ?)",
                (
                    execution_id,
                    seq,
                    effect_id,
                    None if failed else encode(result),
                    encode(error) if failed else None,
                ),
            )
            return seq

    def journal(self, execution_id: str) -> list[JournalEntry]:
        rows = self._rows("SELECT * FROM journal WHERE execution = ? ORDER BY seq", (execution_id,))
        return [
            JournalEntry(
                seq=row["seq"],
                effect_id=row["effect_id"],
                result=decode(row["result"]),
                error=decode(row["error"]),
                failed=row["error"] is not None,
            )
            for row in rows
        ]

    def append_host_value(self, execution_id: str, n: int, kind: str, value: Any) -> None:
        self._write("INSERT INTO host_values VALUES (?, ?, ?, ?)", (execution_id, n, kind, encode(value)))

    def host_values(self, execution_id: str) -> list[tuple[str, Any]]:
        """(kind, value) in the order the execution asked for them."""
        rows = self._rows(
            "SELECT kind, value FROM host_values WHERE execution = ? ORDER BY n", (execution_id,)
        )
        return [(row["kind"], decode(row["value"])) for row in rows]

    # Callbacks

    def create_callback(self, record: CallbackRecord) -> None:
        self._write(
            "INSERT INTO callbacks (id, execution, method, created) VALUES (?, ?, ?, ?)",
            (record.id, record.execution, record.method, record.created),
        )

    def callback(self, callback_id: str) -> CallbackRecord | None:
        rows = self._rows("SELECT * FROM callbacks WHERE id = ?", (callback_id,))
        return self._callback(rows[0]) if rows else None

    def callbacks(self, execution_id: str) -> list[CallbackRecord]:
        rows = self._rows("SELECT * FROM callbacks WHERE execution = ? ORDER BY created, id", (execution_id,))
        return [self._callback(row) for row in rows]

    def _callback(self, row: sqlite3.Row) -> CallbackRecord:
        waiters = self._rows(
            "SELECT effect_id, deadline FROM callback_waiters WHERE callback = ? ORDER BY seq", (row["id"],)
        )
        return CallbackRecord(
            id=row["id"],
            execution=row["execution"],
            method=row["method"],
            created=row["created"],
            request=decode(row["request"]),
            waiters=tuple((w["effect_id"], w["deadline"]) for w in waiters),
        )

    def set_slot(self, callback_id: str, request: Any) -> None:
        """Fill the pending-request slot, or empty it with None."""
        self._write(
            "UPDATE callbacks SET request = ? WHERE id = ?",
            (None if request is None else encode(request), callback_id),
        )

    def add_waiter(self, callback_id: str, effect_id: str, deadline: float) -> None:
        """An await effect begins to wait on the endpoint, until `deadline`."""
        self._write(
            "INSERT INTO callback_waiters (callback, effect_id, deadline) VALUES (?, ?, ?)",
            (callback_id, effect_id, deadline),
        )

    def remove_waiter(self, callback_id: str, effect_id: str) -> None:
        """The await effect stops waiting (answered, or timed out)."""
        self._write(
            "DELETE FROM callback_waiters WHERE callback = ? AND effect_id = ?", (callback_id, effect_id)
        )


def _execution(row: sqlite3.Row) -> ExecutionRecord:
    return ExecutionRecord(
        id=row["id"],
        workflow=row["workflow"],
        revision=row["revision"],
        argument=decode(row["argument"]),
        state=row["state"],
        start_time=row["start_time"],
        result=decode(row["result"]),
        error=decode(row["error"]),
        end_time=row["end_time"],
        labels=None if row["labels"] is None else json.loads(row["labels"]),
        call_log_level=row["call_log_level"],
        current_step=None if row["current_step"] is None else tuple(json.loads(row["current_step"])),
    )
