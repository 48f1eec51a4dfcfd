"""Per-backend engine settings: SQLite's connection pragmas and BEGIN hooks, read-only engines,
and the in-process gate that queues SQLite writers."""

from __future__ import annotations

import threading
import weakref
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from sqlalchemy import Engine, event

from .sql import muldiv_floor

SQLITE_BUSY_TIMEOUT_S = 30

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
        prepare_sqlite(dbapi_connection, sqlite_synchronous, SQLITE_BUSY_TIMEOUT_S * 1000)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        readonly = conn.get_execution_options().get("martingale_readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def prepare_sqlite(dbapi_connection: Any, synchronous: str, busy_timeout_ms: int) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
    dbapi_connection.create_function("mg_muldiv", 3, muldiv_floor, deterministic=True)
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


def writer_gate(engine: Engine) -> AbstractContextManager[object]:
    """SQLite admits one writer: queue this process's writers on a lock instead of in SQLite.

    A writer that waits inside SQLite's busy handler sleeps in growing steps (p99 above 600 ms with
    8 writer threads, bench/core.py) and, under gevent, blocks the whole process; a Python lock
    hands over at once and yields cooperatively when monkey-patched. Other processes still meet
    SQLite's own lock and busy timeout.
    """
    return _GATES.get(engine) or nullcontext()


def sqlite_settings(engine: Engine) -> tuple[str, threading.Lock] | None:
    """A configured SQLite engine's ``synchronous`` setting and writer gate, else None."""
    if engine not in _GATES:
        return None
    return _SYNCHRONOUS[engine], _GATES[engine]
