"""Races with real threads against real databases, and a negative control that must lose money.

Each race releases all threads at once from a barrier. The negative control runs the same race
through a deliberately unguarded buy (read cash, check in Python, write it back, no lock, default
driver transactions) and must be caught, which shows the race can fail.
"""

import multiprocessing
import os
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import create_engine, select, text

from martingale import errors
from martingale.models import Holding, Player, Settlement, Trade
from martingale.money import USD_SCALE, value_ceil
from martingale.reconcile import reconcile
from martingale.settlement import SettlementReport, settle_asset
from martingale.trading import TradeResult
from martingale.transaction_utils import read

from .helpers import new_asset, new_player, race, trade

GRANT = 100_000 * USD_SCALE
THREADS = 32


def outcome(results):
    return Counter(getattr(r, "code", type(r).__name__) for r in results)


def test_32_buys_of_40_percent_each_exactly_two_succeed(game):
    asset = new_asset(game, initial="100", volatility="0.0001")
    alice = new_player(game)
    results = race(THREADS, lambda i: trade(game, alice, "buy", asset.symbol, "400"))
    assert outcome(results) == {"TradeResult": 2, "insufficient_funds": THREADS - 2}
    bought = [r for r in results if isinstance(r, TradeResult)]
    player = read(game.database, lambda s: s.get(Player, alice))
    # exactly the two winners paid, each the full $40,000: no lost update, no double charge
    assert player.cash == GRANT - sum(r.total for r in bought) == GRANT - 2 * 40_000 * USD_SCALE
    holding = read(game.database, lambda s: s.get(Holding, (alice, asset.id)))
    assert (holding.quantity, holding.cost_basis) == (800 * 10**8, 80_000 * USD_SCALE)
    # the game fixture then reconciles the books


def unguarded_buy(engine, player_id, asset_id, quantity, price):
    """What the upstream app did: check cash in Python and write the balance back, unlocked."""
    with engine.connect() as conn:
        cash = conn.execute(
            text("SELECT cash FROM players WHERE id = :p"), {"p": player_id}
        ).scalar()
        cost = value_ceil(quantity, price)
        if cash < cost:
            raise errors.InsufficientFunds("not enough cash")
        time.sleep(0.01)  # the window every real request has between its read and its write
        conn.execute(
            text("UPDATE players SET cash = :c WHERE id = :p"), {"c": cash - cost, "p": player_id}
        )
        conn.commit()
    return "bought"


@pytest.mark.books_may_break
def test_negative_control_an_unguarded_buy_creates_money(game, database_url):
    asset = new_asset(game, initial="100", volatility="0.0001")
    alice = new_player(game)
    # a plain engine: default pysqlite transactions, no BEGIN IMMEDIATE, no locks
    raw = create_engine(database_url)
    price = game.path(asset).price(0)
    try:
        results = race(THREADS, lambda i: unguarded_buy(raw, alice, asset.id, 400 * 10**8, price))
    finally:
        raw.dispose()
    bought = outcome(results)["str"]
    books = {c.name: c.ok for c in reconcile(game.database)}
    # more than two buys went through against $100,000, and the books show it
    assert bought > 2
    assert not books["cash equals the sum of USD postings"]


def test_16_concurrent_retries_of_one_key_trade_exactly_once(game):
    asset = new_asset(game, volatility="0.0001")
    alice = new_player(game)
    results = race(16, lambda i: trade(game, alice, "buy", asset.symbol, "5", key="once"))
    assert all(not isinstance(r, Exception) for r in results), results
    assert len({r.id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    trades = read(game.database, lambda s: s.scalars(select(Trade)).all())
    assert len(trades) == 1
    assert read(game.database, lambda s: s.get(Holding, (alice, asset.id))).quantity == 5 * 10**8


def test_trades_hammering_an_asset_across_its_expiry(game, clock):
    """No trade executes at or after the end; each holding settles once at the end tick's price."""
    asset = new_asset(game, lifetime_s="3", volatility="0.01")
    players = [new_player(game, f"player{i}") for i in range(8)]
    stop = threading.Event()
    executed, refused = [], Counter()

    def hammer(i):
        n = 0
        while not stop.is_set():
            n += 1
            side = "buy" if n % 3 else "sell"
            try:
                executed.append(trade(game, players[i], side, asset.symbol, "0.5"))
            except errors.MartingaleError as exc:
                refused[exc.code] += 1
        return n

    settled = []

    def advance(_i):
        # walk the clock across the expiry instant in small steps while settling races the traders
        for _ in range(80):
            clock.advance(0.05)
            report = settle_asset(game, asset.id)
            if report is not None:
                settled.append(report)
        stop.set()
        return "clock"

    results = race(len(players) + 1, lambda i: advance(i) if i == len(players) else hammer(i))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(settled) == 1
    assert refused["asset_not_tradable"] > 0 and len(executed) > 0
    end = asset.end_tick
    assert max(t.tick for t in executed) < end
    final_price = game.path(asset).price(end)
    rows = read(game.database, lambda s: s.scalars(select(Settlement)).all())
    assert {r.price for r in rows} == {final_price}
    assert len(rows) == len({r.player_id for r in rows}) == settled[0].holders
    holdings = read(game.database, lambda s: s.scalars(select(Holding)).all())
    assert all(h.quantity == 0 for h in holdings)


def test_two_settlers_racing_settle_once(game, clock):
    asset = new_asset(game, lifetime_s="2")
    for i in range(5):
        trade(game, new_player(game, f"player{i}"), "buy", asset.symbol, "1")
    clock.advance(2)
    results = race(8, lambda i: settle_asset(game, asset.id))
    reports = [r for r in results if r is not None]
    assert len(reports) == 1 and reports[0].holders == 5, results
    rows = read(game.database, lambda s: s.scalars(select(Settlement)).all())
    assert len(rows) == 5


def test_a_trade_racing_a_settlement_is_either_settled_or_refused(game, clock):
    """Buys that commit before the settlement flips are settled; later ones are refused."""
    for _round, head_start in enumerate((0, 0.01, 0.05)):
        asset = new_asset(game, lifetime_s="1", volatility="0.0001")
        player = new_player(game, f"racer{_round}")
        clock.advance(0.999)

        def work(i, asset=asset, player=player, head_start=head_start):
            if i == 0:
                # a head start growing by round: none, some, then all of the buys beat the flip
                time.sleep(head_start)
                clock.advance(0.001)
                return settle_asset(game, asset.id)
            return trade(game, player, "buy", asset.symbol, "1")

        settled, *buys = race(6, work)
        # the settler always finds the asset due: it settles it, and only it ever does
        assert isinstance(settled, SettlementReport), settled
        assert settle_asset(game, asset.id) is None
        bought = [b for b in buys if isinstance(b, TradeResult)]
        refused = [b for b in buys if isinstance(b, errors.MartingaleError)]
        assert len(bought) + len(refused) == len(buys), buys  # nothing else, no crash
        assert {e.code for e in refused} <= {"asset_not_tradable"}, refused
        assert all(b.tick < asset.end_tick for b in bought), bought
        # whatever was bought before the flip is settled, all of it and only it
        quantity = sum(b.quantity for b in bought)
        assert (settled.holders, settled.quantity) == ((1, quantity) if bought else (0, 0))
        query = select(Settlement).where(Settlement.asset_id == asset.id)
        rows = read(game.database, lambda s, q=query: s.scalars(q).all())
        assert [(r.player_id, r.quantity) for r in rows] == ([(player, quantity)] if bought else [])
        held = read(game.database, lambda s, a=asset, p=player: s.get(Holding, (p, a.id)))
        assert held is None or held.quantity == 0


def _buy_in_another_process(url, player, symbol, barrier, results):
    """Runs in a fresh interpreter: its own app, engine and pool; no lock shared with the parent."""
    from martingale import create_app
    from martingale.game import game_of

    from .helpers import make_config

    game = game_of(create_app(make_config(url)))
    barrier.wait()
    try:
        # a key of its own: each process's helper counter starts at k0, which would be one request
        result = trade(game, player, "buy", symbol, "400", key=f"proc-{os.getpid()}")
        results.put("replayed" if result.replayed else "ok")
    except errors.MartingaleError as exc:
        results.put(exc.code)
    finally:
        game.database.dispose()


def test_8_processes_buying_40_percent_each_exactly_two_succeed(game, database_url):
    """Across processes only the database's own locking (BEGIN IMMEDIATE, row locks) can protect."""
    ctx = multiprocessing.get_context("spawn")
    asset = new_asset(game, initial="100", volatility="0.0001")
    alice = new_player(game)
    barrier, results = ctx.Barrier(8), ctx.Queue()
    procs = [
        ctx.Process(
            target=_buy_in_another_process,
            args=(database_url, alice, asset.symbol, barrier, results),
        )
        for _ in range(8)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert Counter(results.get(timeout=5) for _ in procs) == {"ok": 2, "insufficient_funds": 6}
    assert read(game.database, lambda s: s.get(Player, alice)).cash == GRANT - 80_000 * USD_SCALE
