"""Backups and the restore drill: play, back up, restore into a fresh database, the books agree."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine, text

from martingale import create_app
from martingale.backup import BackupError, backup, restore
from martingale.engine import MarketEngine
from martingale.game import Game, game_of

from .helpers import execute, make_config, new_asset, new_player, trade

# what the books are, row by row: a restore that loses or doubles anything changes one of these
FINGERPRINT = {
    "players": "SELECT id, username, cash, granted, realized_pnl FROM players ORDER BY id",
    "holdings": "SELECT player_id, asset_id, quantity, cost_basis FROM holdings "
    "ORDER BY player_id, asset_id",
    "trades": "SELECT id, player_id, side, quantity, price, total, idempotency_key FROM trades "
    "ORDER BY id",
    "settlements": "SELECT id, player_id, asset_id, value FROM settlements ORDER BY id",
    "postings": "SELECT id, entry_id, player_id, asset_id, amount FROM postings ORDER BY id",
    "ticks": "SELECT count(*), sum(price) FROM price_ticks",
    "assets": "SELECT id, symbol, status, final_price FROM assets ORDER BY id",
}


def fingerprint(database: Engine) -> dict[str, list[tuple]]:
    with database.connect() as conn:
        return {k: [tuple(r) for r in conn.execute(text(q))] for k, q in FINGERPRINT.items()}


def play(game: Game) -> None:
    """Trades, ticks and one settlement: every kind of row the books hold."""
    clock = game.clock
    short = new_asset(game, lifetime_s="5", volatility="0.05")
    long = new_asset(game, lifetime_s="600")
    alice, bob = new_player(game, "alice"), new_player(game, "bob")
    trade(game, alice, "buy", short.symbol, "3.25")
    trade(game, bob, "buy", long.symbol, "10")
    trade(game, bob, "sell", long.symbol, "2.5")
    engine = MarketEngine(game)
    for _ in range(6):
        clock.advance(1)  # type: ignore[attr-defined]
        engine.step()
    settled = execute(game, "SELECT count(*) FROM settlements")
    assert settled == [(1,)]


@pytest.fixture
def fresh_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A database with nothing in it, as an operator creates for a restore."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'restored.db'}"
    return str(request.getfixturevalue("empty_pg_database"))


@pytest.fixture
def fresh(fresh_url: str) -> Iterator[Flask]:
    app = create_app(make_config(fresh_url))
    yield app
    game_of(app).database.dispose()


def test_the_restore_drill_gives_back_the_same_books_and_they_reconcile(game, fresh, tmp_path):
    play(game)
    before = fingerprint(game.database)
    copy = backup(game.database, tmp_path / "books.backup")
    assert copy.bytes > 0 and copy.path.is_file()

    restored, checks = restore(game_of(fresh).database, copy.path)
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]
    assert len(checks) >= 10
    after = fingerprint(game_of(fresh).database)
    assert after == before
    assert len(after["trades"]) == 3 and len(after["settlements"]) == 1  # the drill played
    assert restored.seconds >= 0


def test_the_restored_game_plays_on(game, fresh, tmp_path):
    """The restored database is a whole game: its sequences continue, nothing collides."""
    play(game)
    copy = backup(game.database, tmp_path / "books.backup")
    restore(game_of(fresh).database, copy.path)
    other = game_of(fresh)
    carol = new_player(other, "carol")
    asset = new_asset(other, lifetime_s="600")
    done = trade(other, carol, "buy", asset.symbol, "1")
    assert done.id > max(row[0] for row in fingerprint(game.database)["trades"])


def test_a_backup_never_overwrites_and_a_restore_never_drops_players_unasked(game, tmp_path):
    play(game)
    target = tmp_path / "books.backup"
    target.write_bytes(b"an earlier backup")
    with pytest.raises(BackupError, match="never overwrites"):
        backup(game.database, target)
    assert target.read_bytes() == b"an earlier backup"

    copy = backup(game.database, tmp_path / "second.backup")
    before = fingerprint(game.database)
    with pytest.raises(BackupError, match="holds players"):
        restore(game.database, copy.path)
    assert fingerprint(game.database) == before


def test_replace_restores_over_books_that_moved_on(game, tmp_path):
    """--replace: the books go back to the backup's moment, every later row gone, still balanced."""
    play(game)
    before = fingerprint(game.database)
    copy = backup(game.database, tmp_path / "books.backup")
    dave = new_player(game, "dave")
    asset = new_asset(game, lifetime_s="600")
    trade(game, dave, "buy", asset.symbol, "1")
    assert fingerprint(game.database) != before

    _, checks = restore(game.database, copy.path, replace=True)
    assert all(c.ok for c in checks)
    assert fingerprint(game.database) == before


def test_the_cli_backs_up_and_restores(app, game, fresh, tmp_path):
    play(game)
    path = tmp_path / "cli.backup"
    out = app.test_cli_runner().invoke(args=["backup", str(path)])
    assert out.exit_code == 0, out.output
    assert "bytes in" in out.output and path.is_file()

    again = app.test_cli_runner().invoke(args=["backup", str(path)])
    assert again.exit_code == 2 and "never overwrites" in again.output

    out = fresh.test_cli_runner().invoke(args=["restore", str(path)])
    assert out.exit_code == 0, out.output
    assert "restored" in out.output and "FAIL" not in out.output
    assert fingerprint(game_of(fresh).database) == fingerprint(game.database)


def test_a_damaged_backup_is_refused_and_leaves_the_target_as_it_was(backend, fresh, tmp_path):
    damaged = tmp_path / "damaged.backup"
    damaged.write_bytes(
        b"PGDMP not really" if backend == "postgresql" else b"SQLite format 3\0junk"
    )
    database = game_of(fresh).database
    with pytest.raises(BackupError, match=r"not a sound SQLite backup|pg_restore failed"):
        restore(database, damaged)
    with database.connect() as conn:  # nothing was created in the target
        assert database.dialect.get_table_names(conn) == []
