"""`flask simulate`: bots play through the real services on both databases and the books reconcile."""

from __future__ import annotations

import pytest

from martingale.simulate import simulate


@pytest.fixture
def simulation_url(backend: str, request: pytest.FixtureRequest) -> str | None:
    if backend == "sqlite":
        return None  # simulate's own temporary file
    return str(request.getfixturevalue("empty_pg_database"))


def test_a_simulated_quarter_hour_reconciles_and_sums_in_integer_atoms(simulation_url):
    report = simulate(players=6, minutes=15, seed=7, database_url=simulation_url)
    assert report.reconciled, report.reconcile_report
    assert report.trades > 0 and report.settlements > 0
    # PostgreSQL's SUM over bigint is numeric: a Decimal here once broke the summary
    assert type(report.settled_value) is int
    assert "reconcile: OK" in report.summary()
