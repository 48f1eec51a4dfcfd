"""Backups of the books and restores from them, on both databases.

PostgreSQL: pg_dump's custom format, taken inside one repeatable-read snapshot, so the copy holds
whole transactions only (every money movement is one transaction: a snapshot is always balanced).
SQLite: the online backup API, which copies a consistent image while the game keeps writing.

A restore goes into an empty database only unless ``replace`` is asked for, and ends with
``reconcile``: a restore that does not balance is reported as failed, not quietly used.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import URL, Engine, inspect

from .reconcile import Check, reconcile


class BackupError(Exception):
    """The operator's command could not be carried out (an operator's error, never a client's:
    so not a MartingaleError, whose codes are the API's)."""


@dataclass(frozen=True)
class Copy:
    """What a backup or restore did: where, how big, how long."""

    path: Path
    bytes: int
    seconds: float


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The URL pg_dump and pg_restore read, and an environment carrying the password (a password on
    a command line is visible to every user of the machine through ps)."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def _run(command: list[str], env: dict[str, str]) -> None:
    # the command is ours: a tool found on PATH and paths, never shell text
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()[-2000:]}")


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(url.database)


def backup(database: Engine, destination: Path) -> Copy:
    """Copy the books of ``database`` into the file ``destination`` (never overwritten)."""
    url = database.url
    if destination.exists():
        raise BackupError(f"{destination} exists: a backup never overwrites a file")
    started = time.monotonic()
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    if url.get_backend_name() == "postgresql":
        target, env = _libpq(url)
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-acl",
              f"--file={partial}", target], env)  # fmt: skip
        # an archive pg_restore cannot list is no backup
        _run([_tool("pg_restore"), "--list", str(partial)], env)
    elif url.get_backend_name() == "sqlite":
        source = sqlite3.connect(_sqlite_path(url))
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)
            # one self-contained file: a WAL-mode copy would need its -wal and -shm beside it
            copy.execute("PRAGMA journal_mode=DELETE")
            verdict = copy.execute("PRAGMA integrity_check").fetchone()
        finally:
            copy.close()
            source.close()
        if verdict != ("ok",):
            partial.unlink(missing_ok=True)
            raise BackupError(f"the copy failed SQLite's integrity check: {verdict}")
    else:
        raise BackupError(f"no backup for {url.get_backend_name()} databases")
    # renamed only once complete: a file at ``destination`` is always a whole backup
    partial.rename(destination)
    return Copy(destination, destination.stat().st_size, time.monotonic() - started)


def _holds_books(database: Engine) -> tuple[bool, bool]:
    """(any table, any player): a freshly migrated database has the tables and no player, and a
    restore may replace it without being asked."""
    inspector = inspect(database)
    names = set(inspector.get_table_names())
    if "players" not in names:
        return bool(names), False
    with database.connect() as conn:
        return True, conn.exec_driver_sql("SELECT 1 FROM players LIMIT 1").first() is not None


def restore(database: Engine, source: Path, *, replace: bool = False) -> tuple[Copy, list[Check]]:
    """Load the backup ``source`` into ``database``; then reconcile the restored books.

    Nothing else may use the database meanwhile (stop the web and engine processes first): a
    replacing restore drops tables under their feet."""
    url = database.url
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    tables, players = _holds_books(database)
    if players and not replace:
        raise BackupError("the target database holds players (restore into a new database, or "
                          "pass --replace to drop what is there)")  # fmt: skip
    started = time.monotonic()
    if url.get_backend_name() == "postgresql":
        target, env = _libpq(url)
        database.dispose()  # pg_restore --clean must not wait on this process's own connection
        command = [_tool("pg_restore"), "--no-owner", "--no-acl", "--exit-on-error",
                   "--single-transaction", f"--dbname={target}"]  # fmt: skip
        if tables:
            command += ["--clean", "--if-exists"]
        _run([*command, str(source)], env)
    elif url.get_backend_name() == "sqlite":
        path = _sqlite_path(url)
        backup_file = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            verdict = backup_file.execute("PRAGMA integrity_check").fetchone()
        except sqlite3.DatabaseError as exc:
            verdict = (str(exc),)
        if verdict != ("ok",):
            backup_file.close()
            raise BackupError(f"{source} is not a sound SQLite backup: {verdict[0]}")
        database.dispose()
        live = sqlite3.connect(path)
        try:
            # the backup API writes every page under the target's own lock: a reader never sees
            # half a restore
            backup_file.backup(live)
        finally:
            live.close()
            backup_file.close()
    else:
        raise BackupError(f"no restore for {url.get_backend_name()} databases")
    seconds = time.monotonic() - started
    checks = reconcile(database)
    return Copy(source, source.stat().st_size, seconds), checks
