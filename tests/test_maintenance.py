"""Operator commands: list the live assets, settle what is due, refill the pool."""

from __future__ import annotations

from martingale.engine import leader_lock_for

from .helpers import execute, new_asset, new_player, trade


def test_assets_lists_each_live_asset_with_its_open_interest(app, game, clock):
    asset = new_asset(game, lifetime_s="60")
    alice, bob = new_player(game, "alice"), new_player(game, "bob")
    trade(game, alice, "buy", asset.symbol, "1.5")
    trade(game, bob, "buy", asset.symbol, "2.25")
    out = app.test_cli_runner().invoke(args=["assets"])
    assert out.exit_code == 0, out.output
    line = next(row for row in out.output.splitlines() if f" {asset.symbol} " in row)
    assert line.split()[-2:] == ["2", "3.75000000"]  # holders, units held
    assert "1 live assets, 0 due for settlement" in out.output
    clock.advance(61)
    assert "DUE" in app.test_cli_runner().invoke(args=["assets"]).output


def test_settle_due_settles_through_the_engine_path_and_refills(app, game, clock):
    asset = new_asset(game, lifetime_s="10")
    alice = new_player(game, "alice")
    trade(game, alice, "buy", asset.symbol, "2")
    clock.advance(11)
    out = app.test_cli_runner().invoke(args=["settle-due"])
    assert out.exit_code == 0, out.output
    assert f"settled {asset.symbol} at tick 10" in out.output and "1 holders" in out.output
    status, ticks = execute(
        game, "SELECT status, (SELECT count(*) FROM price_ticks WHERE asset_id = :a) "
        "FROM assets WHERE id = :a", a=asset.id)[0]  # fmt: skip
    assert (status, ticks) == ("settled", 11)  # every tick stored first: the proof is complete
    live = execute(game, "SELECT count(*) FROM assets WHERE status = 'live'")[0][0]
    assert live == game.settings.pool_size
    again = app.test_cli_runner().invoke(args=["settle-due"])
    assert again.exit_code == 0 and "0 assets settled" in again.output


def test_refill_pool_fills_to_the_pool_size(app, game):
    out = app.test_cli_runner().invoke(args=["refill-pool"])
    assert out.exit_code == 0, out.output
    assert f"{game.settings.pool_size} assets born" in out.output
    assert "(pool full)" in app.test_cli_runner().invoke(args=["refill-pool"]).output


def test_the_commands_refuse_while_an_engine_leads(app, game, clock):
    asset = new_asset(game, lifetime_s="10")
    clock.advance(11)
    running = leader_lock_for(game.database)
    assert running.try_acquire()
    try:
        for command in ("settle-due", "refill-pool"):
            out = app.test_cli_runner().invoke(args=[command])
            assert out.exit_code == 2 and "engine is running" in out.output, out.output
    finally:
        running.release()
    assert execute(game, "SELECT status FROM assets WHERE id = :a", a=asset.id) == [("live",)]
    assert execute(game, "SELECT count(*) FROM assets")[0][0] == 1
