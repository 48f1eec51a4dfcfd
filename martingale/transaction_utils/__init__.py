"""Units of work: one database transaction per business operation, retried whole.

SQLite: pysqlite's default mode runs reads outside any transaction and only BEGINs (deferred) before
a write, which loses updates under concurrency; ``with_for_update()`` compiles to a plain SELECT. So
the driver's own transaction handling is switched off and every transaction is opened here with
``BEGIN IMMEDIATE``: it takes the database's write lock before the first read, which makes each unit
of work serial. Read-only work opens ``BEGIN`` (deferred) through ``readonly_engine``.

PostgreSQL: READ COMMITTED with row locks (``FOR UPDATE``/``FOR SHARE``) taken in a fixed order
(asset, then player, then holding; several players by id) plus CHECK constraints as the last word.
Serialization failures, deadlocks and a locked SQLite database retry the whole unit, never half.

The package: ``units`` (run_in_transaction, read, changed_rows), ``engines`` (per-backend hooks, the
SQLite writer gate), ``autocommit`` (one statement in one round trip on PostgreSQL: the trade),
``sqlite_writer`` (group commit on one SQLite connection, kept off gevent's hub), ``sql`` (muldiv).
"""

from .autocommit import FairGate, call_autocommit
from .engines import SQLITE_BUSY_TIMEOUT_S, configure_engine, readonly_engine, writer_gate
from .sql import muldiv, sqlite_time
from .sqlite_writer import SqliteWriter, off_the_hub, sqlite_writer
from .units import changed_rows, is_retryable, read, run_in_transaction

__all__ = [
    "SQLITE_BUSY_TIMEOUT_S",
    "FairGate",
    "SqliteWriter",
    "call_autocommit",
    "changed_rows",
    "configure_engine",
    "is_retryable",
    "muldiv",
    "off_the_hub",
    "read",
    "readonly_engine",
    "run_in_transaction",
    "sqlite_time",
    "sqlite_writer",
    "writer_gate",
]
