"""Test databases exist before any engine does, and are always throwaway.

Every test that takes ``game`` runs once on SQLite (a copy of a freshly migrated file) and once on
PostgreSQL (a database created for this session, truncated between tests) when PostgreSQL is
reachable at MARTINGALE_TEST_POSTGRES_URL. Under CI=true an unreachable PostgreSQL is an error, not a
skip. After each test the books must reconcile.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from flask_migrate import upgrade

from martingale import create_app
from martingale.clock import ManualClock
from martingale.game import Game, game_of
from martingale.realtime import BRIDGE
from martingale.reconcile import format_report, reconcile

from .helpers import make_config

PG_URL = os.environ.get(
    "MARTINGALE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TABLES = (
    "postings, journal_entries, trades, settlements, holdings, price_ticks, assets, "
    "symbol_leases, players, engine_beats, leaderboard_ranks, leaderboard_passes"
)


def _pg_reachable() -> bool:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    app = create_app(make_config(f"sqlite:///{path}"))
    with app.app_context():
        upgrade()
    game_of(app).database.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    if not _pg_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI: PostgreSQL is not reachable at {PG_URL}")
        pytest.skip("PostgreSQL not reachable")
    name = f"martingale_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_URL.rsplit("/", 1)[0] + "/" + name
    app = create_app(make_config(url))
    with app.app_context():
        upgrade()
    game_of(app).database.dispose()
    yield url
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def empty_pg_database(pg_database: str) -> Iterator[str]:
    """A PostgreSQL database with nothing in it, dropped afterwards (a restore's target)."""
    name = f"martingale_test_empty_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield PG_URL.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        target = tmp_path / "martingale.db"
        shutil.copy(template, target)
        return f"sqlite:///{target}"
    url = request.getfixturevalue("pg_database")
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
        conn.execute("UPDATE market_controls SET trading_halted = false, reason = NULL")
    return url


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    app = create_app(make_config(database_url))
    yield app
    # Every app shares the one Socket.IO server, so a tape batch still waiting for its timer
    # would reach the next test's sockets: send it now, before they connect.
    app.extensions[BRIDGE].flush_tape()
    game_of(app).database.dispose()


@pytest.fixture
def game(app: Flask, request: pytest.FixtureRequest) -> Iterator[Game]:
    game: Game = game_of(app)
    yield game
    if request.node.get_closest_marker("books_may_break") is None:
        checks = reconcile(game.database)
        assert all(c.ok for c in checks), format_report(checks)


@pytest.fixture
def clock(game: Game) -> ManualClock:
    assert isinstance(game.clock, ManualClock)
    return game.clock
