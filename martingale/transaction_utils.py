"""Units of work: one database transaction per business operation, retried whole.

SQLite: pysqlite's default mode runs reads outside any transaction and only BEGINs (deferred) before
a write, which loses updates under concurrency; ``with_for_update()`` compiles to a plain SELECT. So
the driver's own transaction handling is switched off and every transaction is opened here with
``BEGIN IMMEDIATE``: it takes the database's write lock before the first read, which makes each unit
of work serial. Read-only work opens ``BEGIN`` (deferred) through ``readonly_engine``.

PostgreSQL: READ COMMITTED with row locks (``FOR UPDATE``/``FOR SHARE``) taken in a fixed order
(asset, then player, then holding; several players by id) plus CHECK constraints as the last word.
Serialization failures, deadlocks and a locked SQLite database retry the whole unit, never half.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext, suppress
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import BigInteger, CursorResult, Engine, Executable, event
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql.functions import FunctionElement

log = logging.getLogger(__name__)
T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_S = 30
_RETRY_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected
_RETRY_CONSTRAINTS = ("uq_trades_player_key", "symbol_leases")


_GATES: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_SYNCHRONOUS: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def configure_engine(engine: Engine, sqlite_synchronous: str = "FULL") -> None:
    """Install the per-connection settings and transaction hooks the backend needs.

    ``sqlite_synchronous`` stays FULL (a commit survives power loss even in WAL mode) except for
    throwaway databases such as the simulator's, where durability buys nothing.
    """
    if sqlite_synchronous not in ("FULL", "NORMAL"):
        raise ValueError("sqlite_synchronous must be FULL or NORMAL")
    if engine.dialect.name != "sqlite":
        return
    _GATES[engine] = threading.Lock()
    _SYNCHRONOUS[engine] = sqlite_synchronous

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        _prepare_sqlite(dbapi_connection, sqlite_synchronous, SQLITE_BUSY_TIMEOUT_S * 1000)

    @event.listens_for(engine, "engine_disposed")
    def _on_dispose(disposed: Engine) -> None:
        writer = _WRITERS.pop(disposed, None)
        if writer is not None:
            writer.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        readonly = conn.get_execution_options().get("martingale_readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def _prepare_sqlite(dbapi_connection: Any, synchronous: str, busy_timeout_ms: int) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
    dbapi_connection.create_function("mg_muldiv", 3, _muldiv_floor, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute(f"PRAGMA synchronous = {synchronous}")
    cursor.close()


def readonly_engine(engine: Engine) -> Engine:
    """The same pool for read-only work that must see one consistent snapshot.

    SQLite: BEGIN deferred, so readers never queue behind writers (WAL gives the snapshot).
    PostgreSQL: REPEATABLE READ READ ONLY, so every statement of a report sees the same snapshot.
    """
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    return engine.execution_options(martingale_readonly=True)


def _muldiv_floor(a: int | None, b: int | None, d: int | None) -> int | None:
    if a is None or b is None or d is None:
        return None
    return a * b // d


class muldiv(FunctionElement[int]):
    """floor(a * b / d) computed exactly (the product overflows 64 bits), in one SQL statement."""

    type = BigInteger()
    inherit_cache = True
    name = "muldiv"


@compiles(muldiv, "sqlite")
def _muldiv_sqlite(element: muldiv, compiler: Any, **kw: Any) -> str:
    return f"mg_muldiv({compiler.process(element.clauses, **kw)})"


@compiles(muldiv, "postgresql")
def _muldiv_pg(element: muldiv, compiler: Any, **kw: Any) -> str:
    a, b, d = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(floor(CAST({a} AS NUMERIC) * {b} / {d}) AS BIGINT)"


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, IntegrityError):
        text = str(exc.orig)
        return any(name in text for name in _RETRY_CONSTRAINTS)
    if isinstance(exc, OperationalError) and "database is locked" in str(exc.orig):
        return True
    if isinstance(exc, DBAPIError):
        return getattr(exc.orig, "sqlstate", None) in _RETRY_SQLSTATES
    return False


def _writer_gate(engine: Engine) -> AbstractContextManager[object]:
    """SQLite admits one writer: queue this process's writers on a lock instead of in SQLite.

    A writer that waits inside SQLite's busy handler sleeps in growing steps (p99 above 600 ms with
    8 writer threads, bench/core.py) and, under gevent, blocks the whole process; a Python lock
    hands over at once and yields cooperatively when monkey-patched. Other processes still meet
    SQLite's own lock and busy timeout.
    """
    return _GATES.get(engine) or nullcontext()


def changed_rows(session: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE and return how many rows it changed (guards are built on this)."""
    result = session.execute(statement.execution_options(synchronize_session=False))
    return cast(CursorResult[Any], result).rowcount


def _stale(exc: DBAPIError, attempt: int, committing: bool) -> bool:
    """The first attempt met a connection the server had dropped while it sat in the pool (a
    restart): SQLAlchemy has discarded the pool, and work that never reached COMMIT runs once more."""
    return exc.connection_invalidated and attempt == 1 and not committing


def run_in_transaction(engine: Engine, work: Callable[[Session], T], *, attempts: int = 10) -> T:
    """Run ``work`` in a new session and transaction; commit, or roll back and maybe retry it all."""
    for attempt in range(1, attempts + 1):
        committing = False
        try:
            with (
                _writer_gate(engine),
                Session(engine, expire_on_commit=False) as session,
                session.begin(),
            ):
                result = work(session)
                committing = True
            return result
        except DBAPIError as exc:
            if attempt == attempts or not (is_retryable(exc) or _stale(exc, attempt, committing)):
                raise
            delay = min(0.5, 0.005 * 2**attempt) * random.uniform(0.5, 1.5)
            log.debug("retrying unit of work after %s (attempt %d)", type(exc.orig), attempt)
            time.sleep(delay)
    raise AssertionError("unreachable")


def read(engine: Engine, work: Callable[[Session], T]) -> T:
    """Run read-only ``work`` in one consistent snapshot."""
    for attempt in (1, 2):
        try:
            with (
                Session(readonly_engine(engine), expire_on_commit=False) as session,
                session.begin(),
            ):
                return work(session)
        except DBAPIError as exc:
            if not _stale(exc, attempt, committing=False):
                raise
    raise AssertionError("unreachable")


# -- one statement, one round trip (PostgreSQL) -----------------------------------------------------
def call_autocommit(
    engine: Engine, sql: str, params: Sequence[object], *, attempts: int = 10
) -> tuple[Any, ...]:
    """Run one statement that is its own transaction (a server-side function) and return its row.

    Autocommit spares the BEGIN and COMMIT round trips: the statement commits when it succeeds and
    rolls back whole when it raises. It runs on a DBAPI connection kept in autocommit for such
    calls (SQLAlchemy's Connection and result objects cost three times the round trip, and its
    pool's checkout, reset and autocommit switches another third), prepared on first use. Errors
    are raised as SQLAlchemy's; deadlocks and serialization failures are retried like
    ``run_in_transaction``, and so, once, is a connection the server dropped. The statement must
    therefore be idempotent.
    """
    connections = _autocommit_connections(engine)
    for attempt in range(1, attempts + 1):
        answer = connections.call(sql, params)
        if not isinstance(answer, DBAPIError):
            return answer
        # a connection the server dropped (a restart) is retried once on a fresh one: whether the
        # statement ran is unknown, so only idempotent statements come here (the trade is, by its
        # key: a second run replays the first)
        stale = answer.connection_invalidated and attempt == 1
        if attempt == attempts or not (is_retryable(answer) or stale):
            raise answer from answer.orig
        time.sleep(min(0.5, 0.005 * 2**attempt) * random.uniform(0.5, 1.5))
    raise AssertionError("unreachable")


class _AutocommitConnections:
    """A few DBAPI connections in autocommit, each with its cursor, taken in arrival order.

    At most ``size`` at once (``FairGate``): as many as the engine's pool keeps, so the database
    sees the same number of clients. A connection that fails with a disconnect is dropped, and so
    are the idle ones (the server probably restarted); the next call opens a fresh one.
    """

    def __init__(self, engine: Engine, size: int) -> None:
        self._engine = engine
        self._dbapi: Any = engine.dialect.loaded_dbapi
        self._gate = FairGate(size)
        self._idle: list[tuple[Any, Any]] = []  # (connection, cursor)

    def call(self, sql: str, params: Sequence[object]) -> tuple[Any, ...] | DBAPIError:
        """The row, or the error (as SQLAlchemy's) for the caller to retry or raise."""
        with self._gate:
            conn, cursor = self._idle.pop() if self._idle else self._open()
            try:
                cursor.execute(sql, params, prepare=True)
                row: tuple[Any, ...] = tuple(cursor.fetchone())
            except self._dbapi.Error as exc:
                dialect = self._engine.dialect
                lost = conn.closed or dialect.is_disconnect(exc, conn, cursor)
                if lost:
                    self._drop(conn)
                else:
                    self._idle.append((conn, cursor))
                wrapped = DBAPIError.instance(
                    sql, params, exc, self._dbapi.Error, connection_invalidated=lost,
                    dialect=dialect,
                )  # fmt: skip
                return cast(DBAPIError, wrapped)
            except BaseException:
                self._drop(conn)  # interrupted mid-call: its state is unknown
                raise
            self._idle.append((conn, cursor))
            return row

    def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn, _ in idle:
            conn.close()

    def _open(self) -> tuple[Any, Any]:
        cargs, cparams = self._engine.dialect.create_connect_args(self._engine.url)
        conn = self._dbapi.connect(*cargs, **cparams)
        conn.autocommit = True
        return conn, conn.cursor()

    def _drop(self, conn: Any) -> None:
        with suppress(Exception):
            conn.close()
        self.close()


_AUTOCOMMIT: weakref.WeakKeyDictionary[Engine, _AutocommitConnections] = weakref.WeakKeyDictionary()


def _autocommit_connections(engine: Engine) -> _AutocommitConnections:
    found = _AUTOCOMMIT.get(engine)
    if found is None:
        size = engine.pool.size() if isinstance(engine.pool, QueuePool) else 5
        found = _AUTOCOMMIT.setdefault(engine, _AutocommitConnections(engine, max(1, size)))
        event.listen(engine, "engine_disposed", _close_autocommit_connections)
    return found


def _close_autocommit_connections(engine: Engine) -> None:
    found = _AUTOCOMMIT.pop(engine, None)
    if found is not None:
        found.close()


class FairGate:
    """At most ``size`` holders; the others wait in arrival order, each handed the turn directly.

    SQLAlchemy's pool wakes a waiter and lets whoever asks first take the freed connection, so
    under load one request can lose that race again and again (seconds, at 64 connections); and
    past pool_size it opens and closes overflow connections. Calls queue here instead, in order.
    """

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiting: deque[threading.Event] = deque()
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return
            turn = threading.Event()
            self._waiting.append(turn)
        try:
            turn.wait()
        except BaseException:
            with self._lock:
                if turn in self._waiting:
                    self._waiting.remove(turn)
                    raise
            self.__exit__()  # handed the turn while leaving: pass it on
            raise

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            if not self._waiting:
                self._free += 1
                return
            turn = self._waiting.popleft()
        turn.set()


# -- SQLite: group commit on one writer connection ----------------------------------------------------
def sqlite_time(at: datetime) -> str:
    """An instant as SQLAlchemy stores a DateTime on SQLite (naive UTC, microseconds always)."""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _gevent_patched() -> bool:
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and bool(monkey.is_module_patched("threading"))


def off_the_hub(fn: Callable[..., T], *args: Any) -> T:
    """Run a blocking C call (an fsync) on a real OS thread when gevent patched this process.

    The calling greenlet waits; every other greenlet keeps being served. The function must touch
    no gevent object (lock, event): only its own arguments.
    """
    if _gevent_patched():
        import gevent  # type: ignore[import-untyped]

        return cast(T, gevent.get_hub().threadpool.apply(fn, args))
    return fn(*args)


R = TypeVar("R")
_MAX_BATCH = 256
# the writer's busy timeout: SQLite absorbs an instant's lock itself; longer waits return to Python
_WRITER_BUSY_MS = 50


class _Slot(Generic[R]):
    __slots__ = ("done", "error", "event", "job", "lead", "result")

    def __init__(self, job: Callable[[sqlite3.Connection], R]) -> None:
        self.job = job
        self.done = False  # it ran, in a transaction that committed or failed
        self.lead = False  # the previous leader handed the writer over to this slot's caller
        self.event = threading.Event()  # set when done, or when handed the lead
        self.result: R | None = None
        self.error: BaseException | None = None

    def outcome(self) -> R:
        if self.error is not None:
            raise self.error
        return cast(R, self.result)


class SqliteWriter:
    """Group commit: the units of work queued while one batch commits share the next transaction.

    Callers queue their job. One of them at a time leads: it takes the process's writer gate (the
    one ``run_in_transaction`` takes, so in-process writers never meet in SQLite's busy handler),
    runs every queued job in one BEGIN IMMEDIATE ... COMMIT, each in its own savepoint (a job that
    raises is undone alone), wakes their callers, and hands the lead to the oldest job still
    queued. The others wait on their own event, so a caller whose job is done returns at once
    instead of queueing behind the next batch. One fsync for many trades; each trade is still
    atomic, and no caller hears of its trade before the commit. Under gevent the COMMIT (the
    fsync) runs on a real thread, so the hub keeps serving requests, which queue for the next
    batch.

    The writer has a connection of its own with a 50 ms busy timeout: another process holding the
    write lock is waited for by sleeping here (cooperatively under gevent), not for seconds inside
    SQLite's busy handler, which would block the hub.
    """

    def __init__(self, database: str, synchronous: str, gate: threading.Lock) -> None:
        self._database = database
        self._synchronous = synchronous
        self._gate = gate
        self._queue: list[_Slot[Any]] = []
        self._queue_lock = threading.Lock()
        self._leading = False
        self._conn: sqlite3.Connection | None = None
        self.batches = 0  # transactions committed or attempted, and the jobs they carried
        self.jobs = 0

    def run(self, job: Callable[[sqlite3.Connection], R]) -> R:
        slot = _Slot(job)
        with self._queue_lock:
            self._queue.append(slot)
            if not self._leading:
                self._leading = slot.lead = True
        if not slot.lead:
            try:
                slot.event.wait()
            except BaseException:
                self._abandon(slot)
                raise
            if slot.done:
                return slot.outcome()
        try:
            with self._gate:
                while not slot.done:
                    self._run_batch()
        finally:
            self._hand_over()
        return slot.outcome()

    def close(self) -> None:
        with self._gate:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _hand_over(self) -> None:
        with self._queue_lock:
            successor = self._queue[0] if self._queue else None
            if successor is None:
                self._leading = False
            else:
                successor.lead = True
        if successor is not None:
            successor.event.set()

    def _abandon(self, slot: _Slot[Any]) -> None:
        """The caller stopped waiting (its greenlet was killed): keep the writer moving."""
        with self._queue_lock:
            if slot in self._queue:
                self._queue.remove(slot)
            handed = slot.lead and not slot.done
        if handed:
            self._hand_over()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = _patiently(self._open)
        return self._conn

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._database, isolation_level=None, check_same_thread=False,
            timeout=_WRITER_BUSY_MS / 1000,
        )  # fmt: skip
        try:
            _prepare_sqlite(conn, self._synchronous, _WRITER_BUSY_MS)
        except BaseException:
            conn.close()
            raise
        return conn

    def _run_batch(self) -> None:
        with self._queue_lock:
            batch, self._queue = self._queue[:_MAX_BATCH], self._queue[_MAX_BATCH:]
        self.batches += 1
        self.jobs += len(batch)
        try:
            conn = self._connection()
            _begin_immediate(conn)
            try:
                for slot in batch:
                    conn.execute("SAVEPOINT job")
                    try:
                        slot.result = slot.job(conn)
                    except BaseException as exc:  # this job alone is undone; the others go on
                        conn.execute("ROLLBACK TO job")
                        slot.error = exc
                    conn.execute("RELEASE job")
                off_the_hub(conn.execute, "COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except BaseException as exc:
            for slot in batch:
                slot.result, slot.error = None, slot.error or exc
            raise
        finally:
            for slot in batch:
                slot.done = True
                slot.event.set()


def _begin_immediate(conn: sqlite3.Connection) -> None:
    _patiently(lambda: conn.execute("BEGIN IMMEDIATE"))


def _patiently(step: Callable[[], T]) -> T:
    """Run ``step``, retrying while the database is locked: by sleeping here (cooperatively under
    gevent), never longer than ``_WRITER_BUSY_MS`` at a time in SQLite's busy handler, and for
    SQLITE_BUSY_TIMEOUT_S in all. Any statement can meet a lock for an instant in WAL mode (a
    connection opening or closing); only another process's writer holds it for long."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    delay = 0.001
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(delay * random.uniform(0.5, 1.5))
        delay = min(0.05, delay * 2)


_WRITERS: weakref.WeakKeyDictionary[Engine, SqliteWriter] = weakref.WeakKeyDictionary()
_WRITERS_LOCK = threading.Lock()


def sqlite_writer(engine: Engine) -> SqliteWriter:
    """The group-commit writer of a SQLite engine that ``configure_engine`` set up."""
    with _WRITERS_LOCK:
        writer = _WRITERS.get(engine)
        if writer is None:
            database = engine.url.database or ""
            if database in ("", ":memory:") or engine not in _GATES:
                raise ValueError("the trade path needs a configured, file-backed SQLite database")
            writer = _WRITERS[engine] = SqliteWriter(database, _SYNCHRONOUS[engine], _GATES[engine])
        return writer
