"""Connections the server dropped (a PostgreSQL restart, a failover, an idle timeout) cost no request.

The pool still holds them; the first statement on one fails. A unit of work that had not reached
COMMIT runs once more on a fresh connection, and so does a read; a second failure is the caller's.
"""

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from martingale.transaction_utils import read, run_in_transaction

from .helpers import new_asset, new_player, trade

pytestmark = pytest.mark.parametrize("backend", ["postgresql"])  # SQLite has no server to lose


def drop(database_url, pid=None):
    """The server ends every session of this database but ours (or just ``pid``)."""
    with psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND (%(pid)s::int IS NULL OR pid = %(pid)s::int)",
            {"pid": pid},
        )


def test_a_trade_after_the_server_dropped_the_pool_runs_once_on_a_fresh_connection(
    game, database_url
):
    asset = new_asset(game)
    alice = new_player(game)
    trade(game, alice, "buy", asset.symbol, "1")
    drop(database_url)
    second = trade(game, alice, "buy", asset.symbol, "1")
    assert second.replayed is False
    assert read(game.database, lambda s: s.scalar(text("SELECT count(*) FROM trades"))) == 2


def test_a_read_after_the_server_dropped_the_pool_is_answered(game, database_url):
    new_player(game)
    drop(database_url)
    assert read(game.database, lambda s: s.scalar(text("SELECT count(*) FROM players"))) == 1


def test_work_whose_connection_dies_before_commit_runs_again_once(game, database_url):
    calls = []

    def work(session):
        calls.append(session.scalar(text("SELECT pg_backend_pid()")))
        if len(calls) == 1:
            drop(database_url, calls[0])
        return session.scalar(text("SELECT count(*) FROM players"))

    assert run_in_transaction(game.database, work) == 0
    assert len(calls) == 2 and calls[0] != calls[1]

    def always_dropped(session):
        calls.append(session.scalar(text("SELECT pg_backend_pid()")))
        drop(database_url, calls[-1])
        return session.scalar(text("SELECT 1"))

    calls.clear()
    with pytest.raises(OperationalError):
        run_in_transaction(game.database, always_dropped)
    assert len(calls) == 2
