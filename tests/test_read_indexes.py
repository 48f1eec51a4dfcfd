"""Every list read walks an index: its cost follows the rows it returns, not the size of the books.

The statements the read services send are captured and explained on the backend itself: SQLite's
EXPLAIN QUERY PLAN must not SCAN a table that grows with history, and PostgreSQL, with sequential
scans disabled, must still find an index for each (a Seq Scan left in the plan means none exists).
"""

from __future__ import annotations

import re

from sqlalchemy import event

from martingale import leaderboard, profiles, reports
from martingale.engine import MarketEngine

from .helpers import new_asset, new_player, trade

GROWING = ("trades", "settlements", "price_ticks", "leaderboard_ranks", "holdings", "postings")


def captured(game, work):
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    event.listen(game.database, "before_cursor_execute", capture)
    try:
        work()
    finally:
        event.remove(game.database, "before_cursor_execute", capture)
    return statements


def full_scans(game, statement, parameters) -> list[str]:
    with game.database.connect() as conn:
        if game.database.dialect.name == "sqlite":
            plan = [
                row[-1]
                for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            ]
            bad = [line for line in plan if re.match(rf"SCAN ({'|'.join(GROWING)})\b", line)]
            # the newest rows by primary key, stopped by LIMIT: bounded, whatever the table holds
            newest_first = re.search(r"ORDER BY trades\.id DESC\s+LIMIT", statement)
            return [] if newest_first and bad == ["SCAN trades"] else bad
        conn.exec_driver_sql("SET enable_seqscan = off")
        plan = [row[0] for row in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)]
        conn.rollback()
        return [line for line in plan if re.search(rf"Seq Scan on ({'|'.join(GROWING)})\b", line)]


def test_every_list_read_uses_an_index(game, clock):
    asset = new_asset(game, lifetime_s="30")
    alice = new_player(game, "alice", display_name="Alice Indexed")
    for _ in range(3):
        trade(game, alice, "buy", asset.symbol, "1")
        clock.advance(2)
    MarketEngine(game).step()
    clock.advance(40)
    MarketEngine(game).step()  # settles
    reads = {
        "history": lambda: reports.history(game, str(asset.id), None, 300),
        "history since": lambda: reports.history(game, str(asset.id), 3, 300),
        "trades": lambda: reports.player_trades(game, alice, 50, None),
        "trades before": lambda: reports.player_trades(game, alice, 50, 10**6),
        "tape": lambda: reports.tape(game, 50),
        "settlements": lambda: reports.player_settlements(game, alice, 50),
        "performance": lambda: reports.performance_history(game, alice, 120),
        "leaderboard": lambda: leaderboard.board(game, 25, alice),
        "profile": lambda: profiles.profile(game, "Alice Indexed"),
    }
    for name, work in reads.items():
        statements = captured(game, work)
        assert statements, name
        for statement, parameters in statements:
            assert full_scans(game, statement, parameters) == [], (name, statement)


def test_the_check_sees_a_full_scan(game):
    """Negative control: a filter no index serves is reported on both backends."""
    statement = "SELECT id FROM trades WHERE price > 5"
    assert full_scans(game, statement, {} if game.database.dialect.name == "sqlite" else None)
