"""Units of work: ``run_in_transaction`` (one transaction, retried whole) and ``read`` (one snapshot)."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Engine, Executable
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from .engines import readonly_engine, writer_gate

log = logging.getLogger(__name__)
T = TypeVar("T")

_RETRY_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected
_RETRY_CONSTRAINTS = ("uq_trades_player_key", "symbol_leases")


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, IntegrityError):
        text = str(exc.orig)
        return any(name in text for name in _RETRY_CONSTRAINTS)
    if isinstance(exc, OperationalError) and "database is locked" in str(exc.orig):
        return True
    if isinstance(exc, DBAPIError):
        return getattr(exc.orig, "sqlstate", None) in _RETRY_SQLSTATES
    return False


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
                writer_gate(engine),
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
