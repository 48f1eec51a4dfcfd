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
import threading
import time
import weakref
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar, cast

from sqlalchemy import BigInteger, CursorResult, Engine, Executable, event
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

log = logging.getLogger(__name__)
T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_S = 30
_RETRY_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected
_RETRY_CONSTRAINTS = ("uq_trades_player_key", "symbol_leases")


_GATES: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()


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

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        dbapi_connection.create_function("mg_muldiv", 3, _muldiv_floor, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA synchronous = {sqlite_synchronous}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        readonly = conn.get_execution_options().get("martingale_readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


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
