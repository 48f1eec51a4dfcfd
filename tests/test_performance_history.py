"""Performance history replays the window backwards from the account; the result is the forward
replay's, sample for sample, and it reads only the window's trades (tests/api/test_account.py checks
the wire shape)."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import event, select

from martingale import reports
from martingale.engine import MarketEngine
from martingale.models import Asset, Player, Settlement, Trade
from martingale.money import value_floor
from martingale.reports import ValuePoint
from martingale.transaction_utils import read

from .helpers import new_asset, new_player, trade


def forward_replay(game, player_id: int, points: int) -> list[ValuePoint]:
    """The reference: every trade and settlement the player ever made, from the grant forwards."""

    def work(session):
        now = game.clock.now()
        player = session.get(Player, player_id)
        start = max(player.created_at, now - timedelta(hours=1))
        events = []
        for t in session.scalars(select(Trade).where(Trade.player_id == player_id)):
            sign = -1 if t.side == "buy" else 1
            events.append((t.executed_at, sign * t.total, t.asset_id, -sign * t.quantity))
        for s in session.scalars(select(Settlement).where(Settlement.player_id == player_id)):
            events.append((s.settled_at, s.value, s.asset_id, -s.quantity))
        events.sort(key=lambda e: e[0])
        assets = {a.id: a for a in session.scalars(select(Asset))}
        span = now - start
        count = max(1, min(points, int(span.total_seconds()) + 1))
        instants = [start + span * n / max(1, count - 1) for n in range(count)]
        cash, units, i, out = player.granted, {}, 0, []
        for t in instants:
            while i < len(events) and events[i][0] <= t:
                _, dc, aid, du = events[i]
                cash += dc
                units[aid] = units.get(aid, 0) + du
                i += 1
            value = cash + sum(
                value_floor(q, game.price_at(assets[a], t)) for a, q in units.items() if q > 0
            )
            out.append(ValuePoint(t, value))
        return out

    return read(game.database, work)


def test_backwards_from_the_account_equals_forwards_from_the_grant(game, clock):
    rng = random.Random(8)
    alice, bob = new_player(game, "alice"), new_player(game, "bob")
    engine = MarketEngine(game)
    assets = [new_asset(game, volatility="0.05", lifetime_s="120") for _ in range(2)]
    for minute in range(100):  # 100 minutes: the first 40 are before the window
        for player in (alice, bob):
            live = [a for a in assets if a.born_at + timedelta(seconds=100) > clock.now()]
            if live and rng.random() < 0.8:
                asset = rng.choice(live)
                trade(game, player, "buy", asset.symbol, str(rng.randint(1, 20)))
                if rng.random() < 0.5:
                    trade(game, player, "sell", asset.symbol, "1")
        clock.advance(rng.choice([7, 29, 60]))
        engine.step()  # settles what expired
        if minute % 3 == 0:
            assets.append(new_asset(game, volatility="0.05", lifetime_s="120"))
    assert read(game.database, lambda s: s.scalar(select(Settlement.id).limit(1))) is not None
    for player in (alice, bob):
        for points in (2, 7, 120, 600):
            expected = forward_replay(game, player, points)
            assert reports.performance_history(game, player, points) == expected
    # a young account: fewer samples than asked, at least a second apart
    carol = new_player(game, "carol")
    clock.advance(3)
    assert reports.performance_history(game, carol, 120) == forward_replay(game, carol, 120)


def test_trades_before_the_window_are_never_read(game, clock):
    asset = new_asset(game, lifetime_s="7200")
    alice = new_player(game, "alice")
    for _ in range(30):
        trade(game, alice, "buy", asset.symbol, "1")
        clock.advance(150)  # 75 minutes in all
    trade(game, alice, "sell", asset.symbol, "2")
    statements: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(game.database, "before_cursor_execute", capture)
    try:
        points = reports.performance_history(game, alice, 60)
    finally:
        event.remove(game.database, "before_cursor_execute", capture)
    assert len(points) == 60 and points == forward_replay(game, alice, 60)
    reads_of_trades = [s for s in statements if "FROM trades" in s]
    assert reads_of_trades and all("trades.executed_at >" in s for s in reads_of_trades)
