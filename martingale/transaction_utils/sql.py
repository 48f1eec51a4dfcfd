"""SQL the two backends spell differently: exact floor(a * b / d), and SQLite's stored instants."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


def muldiv_floor(a: int | None, b: int | None, d: int | None) -> int | None:
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


def sqlite_time(at: datetime) -> str:
    """An instant as SQLAlchemy stores a DateTime on SQLite (naive UTC, microseconds always)."""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
