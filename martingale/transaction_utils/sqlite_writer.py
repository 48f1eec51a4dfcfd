"""SQLite: group commit on one writer connection, and blocking calls kept off gevent's hub."""

from __future__ import annotations

import logging
import random
import sqlite3
import sys
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Engine, event

from .engines import SQLITE_BUSY_TIMEOUT_S, prepare_sqlite, sqlite_settings

log = logging.getLogger(__name__)
T = TypeVar("T")


def _gevent_patched() -> bool:
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and bool(monkey.is_module_patched("threading"))


def off_the_hub(fn: Callable[..., T], *args: Any) -> T:
    """Run a blocking C call (an fsync) on a real OS thread when gevent patched this process.

    The calling greenlet waits; every other greenlet keeps being served. The function must touch
    no gevent object (lock, event): only its own arguments.
    """
    if _gevent_patched():
        import gevent

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
            prepare_sqlite(conn, self._synchronous, _WRITER_BUSY_MS)
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
            settings = sqlite_settings(engine)
            if database in ("", ":memory:") or settings is None:
                raise ValueError("the trade path needs a configured, file-backed SQLite database")
            synchronous, gate = settings
            writer = _WRITERS[engine] = SqliteWriter(database, synchronous, gate)
            event.listen(engine, "engine_disposed", _close_writer)
        return writer


def _close_writer(engine: Engine) -> None:
    writer = _WRITERS.pop(engine, None)
    if writer is not None:
        writer.close()
