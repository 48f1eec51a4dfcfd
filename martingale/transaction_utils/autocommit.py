"""One statement, one round trip (PostgreSQL): the trade's server-side function in autocommit."""

from __future__ import annotations

import random
import threading
import time
import weakref
from collections import deque
from collections.abc import Sequence
from contextlib import suppress
from typing import Any, cast

from sqlalchemy import Engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool

from .units import is_retryable


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
