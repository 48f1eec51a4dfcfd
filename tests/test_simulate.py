"""`flask simulate`: bots play through the real services on both databases and the books reconcile."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from martingale.simulate import simulate

from .conftest import PG_URL


@pytest.fixture
def simulation_url(backend: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    if backend == "sqlite":
        yield None  # simulate's own temporary file
        return
    request.getfixturevalue("pg_database")  # skips (or fails under CI) when PostgreSQL is absent
    name = f"martingale_test_sim_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield PG_URL.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_simulated_quarter_hour_reconciles_and_sums_in_integer_atoms(simulation_url):
    report = simulate(players=6, minutes=15, seed=7, database_url=simulation_url)
    assert report.reconciled, report.reconcile_report
    assert report.trades > 0 and report.settlements > 0
    # PostgreSQL's SUM over bigint is numeric: a Decimal here once broke the summary
    assert type(report.settled_value) is int
    assert "reconcile: OK" in report.summary()
