"""Asset lifecycle: birth, the pool, expiry and the worthless rule, settlement, and the books' guards."""

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError

from martingale import engine as engine_module
from martingale import errors
from martingale.asset_manager import PALETTE, _lease_symbol, refill_pool
from martingale.engine import MarketEngine
from martingale.models import LIVE, Asset, Holding, Player, Settlement
from martingale.money import USD_SCALE, value_floor
from martingale.reconcile import reconcile
from martingale.settlement import settle_asset
from martingale.transaction_utils import read, run_in_transaction

from .helpers import execute, new_asset, new_player, trade

GRANT = 100_000 * USD_SCALE


def live(game):
    return read(game.database, lambda s: s.scalars(select(Asset).where(Asset.status == LIVE)).all())


def test_the_pool_fills_with_distinct_symbols_and_colours(game):
    born = refill_pool(game)
    assert len(born) == game.settings.pool_size == 4
    assets = live(game)
    assert len({a.symbol for a in assets}) == 4 and len({a.color for a in assets}) == 4
    assert all(a.color in PALETTE and len(a.symbol) == 3 and a.symbol.isalpha() for a in assets)
    assert all(len(a.seed_commitment) == 64 for a in assets)
    assert refill_pool(game) == []  # already full


def test_an_expired_asset_settles_every_holder_once_at_the_expiry_tick_price(game, clock):
    asset = new_asset(game, lifetime_s="10", volatility="0.02")
    alice, bob = new_player(game, "alice"), new_player(game, "bob")
    a = trade(game, alice, "buy", asset.symbol, "3.5")
    b = trade(game, bob, "buy", asset.symbol, "100")
    trade(game, bob, "sell", asset.symbol, "100")  # bob has nothing left to settle
    engine = MarketEngine(game)
    for _ in range(10):
        clock.advance(1)
        report = engine.step()
    assert [s.symbol for s in report.settled] == [asset.symbol]
    final = game.path(asset).price(10)
    settled = report.settled[0]
    assert (settled.final_tick, settled.final_price, settled.holders) == (10, final, 1)

    rows = read(game.database, lambda s: s.scalars(select(Settlement)).all())
    assert [(r.player_id, r.quantity, r.price) for r in rows] == [(alice, a.quantity, final)]
    assert rows[0].value == value_floor(a.quantity, final)
    alice_row = read(game.database, lambda s: s.get(Player, alice))
    assert alice_row.cash == GRANT - a.total + rows[0].value
    assert alice_row.realized_pnl == rows[0].value - a.total
    assert read(game.database, lambda s: s.get(Holding, (alice, asset.id))).quantity == 0
    assert b.total > 0
    # the job running again, or late, changes nothing
    assert settle_asset(game, asset.id) is None
    # the pool was refilled in the same step
    assert len(live(game)) == game.settings.pool_size


def test_the_first_tick_below_the_worthless_price_ends_trading_and_settles_there(game, clock):
    # drift -0.5 per tick: about x0.6 a tick, from $1 below $0.01 within a dozen ticks
    asset = new_asset(game, drift="-0.5", volatility="0.001", initial="1", lifetime_s="60")
    assert asset.end_tick < asset.expiry_tick
    path = game.path(asset)
    assert all(path.price(k) >= game.settings.worthless_price for k in range(asset.end_tick))
    assert path.price(asset.end_tick) < game.settings.worthless_price
    alice = new_player(game)
    trade(game, alice, "buy", asset.symbol, "1000")
    clock.advance(asset.end_tick)
    with pytest.raises(errors.AssetNotTradable):
        trade(game, alice, "sell", asset.symbol, "1")
    report = MarketEngine(game).step()
    assert [s.worthless for s in report.settled] == [True]
    assert report.settled[0].final_price == path.price(asset.end_tick)


def test_a_worthless_settlement_that_pays_nothing_still_balances(game, clock):
    asset = new_asset(game, drift="-0.5", volatility="0.001", initial="0.02", lifetime_s="60")
    alice = new_player(game)
    trade(
        game, alice, "buy", asset.symbol, "0.00000001"
    )  # worth less than a micro-dollar at the end
    clock.advance(asset.end_tick)
    settled = settle_asset(game, asset.id)
    assert settled is not None and settled.value == 0 and settled.holders == 1


def test_a_symbol_is_not_reissued_within_24_hours_of_expiry(game, clock):
    class Letters:
        """An rng whose choices spell ABC, then ABD."""

        def __init__(self, text):
            self.letters = iter(text)

        def choice(self, _options):
            return next(self.letters)

    expiry = clock.now() + timedelta(minutes=10)

    def lease(letters, reusable_after):
        game.rng = Letters(letters)
        return run_in_transaction(
            game.database, lambda s: _lease_symbol(s, game, clock.now(), reusable_after)
        )

    assert lease("ABC", expiry + timedelta(hours=24)) == "ABC"
    assert lease("ABCABD", expiry) == "ABD"  # ABC is still leased
    clock.set(expiry + timedelta(hours=24))
    assert lease("ABC", expiry + timedelta(hours=48)) == "ABC"


def test_the_database_refuses_two_live_assets_with_one_symbol(game):
    asset = new_asset(game)
    with pytest.raises(IntegrityError):
        execute(
            game,
            "INSERT INTO assets (symbol, color, status, seed, seed_commitment, drift, volatility,"
            " initial_price, born_at, tick_us, expiry_tick, worthless_price, end_tick)"
            " SELECT symbol, '#000000', 'live', seed, seed_commitment, drift, volatility,"
            " initial_price, born_at, tick_us, expiry_tick, worthless_price, end_tick"
            " FROM assets WHERE id = :id",
            id=asset.id,
        )


@pytest.mark.parametrize("table", ["postings", "journal_entries"])
@pytest.mark.parametrize("statement", ["UPDATE {t} SET id = id", "DELETE FROM {t}"])
def test_the_books_are_append_only(game, table, statement):
    new_player(game)
    with pytest.raises(DBAPIError, match="append-only"):
        execute(game, statement.format(t=table))


def test_the_database_refuses_negative_cash(game):
    alice = new_player(game)
    with pytest.raises(IntegrityError):
        execute(game, "UPDATE players SET cash = -1 WHERE id = :id", id=alice)


@pytest.mark.books_may_break
def test_reconcile_reports_a_tampered_balance(game, app):
    alice = new_player(game)
    assert all(c.ok for c in reconcile(game.database))
    execute(game, "UPDATE players SET cash = cash + 1 WHERE id = :id", id=alice)
    failed = [c.name for c in reconcile(game.database) if not c.ok]
    assert "cash equals the sum of USD postings" in failed
    result = app.test_cli_runner().invoke(args=["reconcile"])
    assert result.exit_code == 1 and "FAIL" in result.output


def test_reconcile_command_passes_on_healthy_books(game, app):
    asset = new_asset(game)
    trade(game, new_player(game), "buy", asset.symbol, "1")
    result = app.test_cli_runner().invoke(args=["reconcile"])
    assert result.exit_code == 0, result.output


def test_verify_command_accepts_a_settled_asset(game, app, clock):
    asset = new_asset(game, lifetime_s="5")
    engine = MarketEngine(game)
    for _ in range(6):
        clock.advance(1)
        engine.step()
    result = app.test_cli_runner().invoke(args=["verify", asset.symbol])
    assert result.exit_code == 0 and "verified" in result.output, result.output
    execute(
        game,
        "UPDATE price_ticks SET price = price + 1 WHERE asset_id = :a AND tick = 2",
        a=asset.id,
    )
    result = app.test_cli_runner().invoke(args=["verify", str(asset.id)])
    assert result.exit_code == 1 and "tick 2" in result.output


def test_the_seed_stays_secret_until_settlement(game, app):
    asset = new_asset(game)
    result = app.test_cli_runner().invoke(args=["verify", asset.symbol])
    assert result.exit_code == 2 and asset.seed.hex() not in result.output


def test_engine_ticks_are_persisted_without_gaps_and_survive_a_restart(game, clock, app):
    asset = new_asset(game, lifetime_s="60")
    engine = MarketEngine(game)
    clock.advance(3)
    engine.step()
    clock.advance(4)  # the engine was down for four ticks: they are filled in
    engine.step()
    rows = execute(
        game, "SELECT tick, price FROM price_ticks WHERE asset_id = :a ORDER BY tick", a=asset.id
    )
    assert rows == [(k, game.path(asset).price(k)) for k in range(8)]
    assert execute(game, "SELECT ticks FROM engine_beats") == [(2,)]


def test_a_failing_step_is_logged_and_the_loop_goes_on(game, monkeypatch, caplog):
    calls = {"n": 0}
    real = engine_module.asset_manager.persist_ticks

    def flaky(session, g, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("transient")
        return real(session, g, **kwargs)

    monkeypatch.setattr(engine_module.asset_manager, "persist_ticks", flaky)
    engine = MarketEngine(game)
    engine.start()
    try:
        deadline = time.monotonic() + 10
        while calls["n"] < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        engine.stop()
    assert calls["n"] >= 3
    assert "engine step failed" in caplog.text


def test_only_one_engine_ticks_and_a_standby_takes_over(game):
    first, second = MarketEngine(game), MarketEngine(game)
    first.start()
    deadline = time.monotonic() + 10
    while not first.is_leader and time.monotonic() < deadline:
        time.sleep(0.02)
    second.start()
    time.sleep(0.5)
    assert first.is_leader and not second.is_leader
    first.stop()
    deadline = time.monotonic() + 10
    while not second.is_leader and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert second.is_leader
    finally:
        second.stop()
    row = execute(game, "SELECT holder FROM engine_beats")
    assert row == [(second.holder,)]


def test_a_standby_engine_takes_over_when_the_engine_process_dies(game, database_url):
    """A real second process holds the lock; kill -9 it and the standby here starts ticking."""
    env = dict(os.environ, DATABASE_URL=database_url, MARTINGALE_POOL_SIZE="2")
    proc = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "martingale", "engine"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    standby = MarketEngine(game)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if execute(
                game, "SELECT holder FROM engine_beats WHERE holder LIKE :p", p=f"%:{proc.pid}:%"
            ):
                break
            time.sleep(0.1)
        else:
            pytest.fail("the engine process never ticked")
        standby.start()
        time.sleep(1)
        assert not standby.is_leader
        proc.kill()
        proc.wait(10)
        deadline = time.monotonic() + 15
        while not standby.is_leader and time.monotonic() < deadline:
            time.sleep(0.1)
        assert standby.is_leader
    finally:
        standby.stop()
        if proc.poll() is None:
            proc.kill()
