"""Read models for players and the public: history, trades, settlements, performance.

(The leaderboard is a read model of its own, computed by the engine: leaderboard.py.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from .game import Game, tick_time
from .market import find_asset
from .models import Asset, Holding, Player, PriceTick, Settlement, Trade
from .money import value_floor
from .trading import TradeResult, trade_result
from .transaction_utils import read


@dataclass(frozen=True)
class PricePoint:
    tick: int
    t: datetime
    price: int


def history(
    game: Game, ref: str, since_tick: int | None, limit: int
) -> tuple[Asset, list[PricePoint]]:
    """Ticks of an asset, oldest first: after ``since_tick``, else the latest ``limit``."""

    def work(session: Session) -> tuple[Asset, list[PricePoint]]:
        asset = find_asset(session, ref, past=False)
        if asset.ticks_compacted_at is not None and asset.final_tick is not None:
            return asset, _recomputed(game, asset, asset.final_tick, since_tick, limit)
        query = select(PriceTick.tick, PriceTick.price).where(PriceTick.asset_id == asset.id)
        if since_tick is not None:
            rows = session.execute(
                query.where(PriceTick.tick > since_tick).order_by(PriceTick.tick).limit(limit)
            ).all()
        else:
            rows = session.execute(query.order_by(PriceTick.tick.desc()).limit(limit)).all()[::-1]
        return asset, [PricePoint(k, tick_time(asset, k), p) for k, p in rows]

    return read(game.database, work)


def _recomputed(
    game: Game, asset: Asset, last: int, since_tick: int | None, limit: int
) -> list[PricePoint]:
    """A compacted asset's history from its revealed seed (retention.py): the same points the
    stored ticks gave, ticks 0 to ``last`` without gaps."""
    first = since_tick + 1 if since_tick is not None else last - limit + 1
    first = max(0, first)
    ticks = range(first, min(last, first + limit - 1) + 1)
    path = game.path(asset)
    return [PricePoint(k, tick_time(asset, k), path.price(k)) for k in ticks]


def _trade_rows(session: Session, query: Select[Trade]) -> list[TradeResult]:
    rows = session.execute(
        query.add_columns(Asset.symbol, Player.display_name)
        .join(Asset, Asset.id == Trade.asset_id)
        .join(Player, Player.id == Trade.player_id)
        .order_by(Trade.id.desc())
    ).all()
    return [trade_result(t, symbol, name) for t, symbol, name in rows]


def player_trades(game: Game, player_id: int, limit: int, before: int | None) -> list[TradeResult]:
    query = select(Trade).where(Trade.player_id == player_id)
    if before is not None:
        query = query.where(Trade.id < before)
    return read(game.database, lambda s: _trade_rows(s, query.limit(limit)))


def order_outcome(game: Game, player_id: int, key: str) -> TradeResult | None:
    """The caller's trade made with this Idempotency-Key, or None: the order never reached the
    books (a trade is one transaction, so once no request with the key is in flight, never)."""
    query = select(Trade).where(Trade.player_id == player_id, Trade.idempotency_key == key)
    rows = read(game.database, lambda s: _trade_rows(s, query))
    return rows[0] if rows else None


def tape(game: Game, limit: int) -> list[TradeResult]:
    """Everyone's latest trades, for the public tape (display names only)."""
    return read(game.database, lambda s: _trade_rows(s, select(Trade).limit(limit)))


@dataclass(frozen=True)
class SettlementRow:
    player_id: int
    asset_id: int
    symbol: str
    quantity: int
    price: int
    value: int
    realized_pnl: int
    settled_at: datetime


def _settlement_rows(session: Session, query: Select[Settlement]) -> list[SettlementRow]:
    rows = session.execute(
        query.add_columns(Asset.symbol).join(Asset, Asset.id == Settlement.asset_id)
    ).all()
    return [
        SettlementRow(
            s.player_id, s.asset_id, symbol, s.quantity, s.price, s.value, s.realized_pnl,
            s.settled_at,
        )
        for s, symbol in rows
    ]  # fmt: skip


def player_settlements(game: Game, player_id: int, limit: int) -> list[SettlementRow]:
    """A player's settled positions, newest first."""
    query = (
        select(Settlement)
        .where(Settlement.player_id == player_id)
        .order_by(Settlement.id.desc())
        .limit(limit)
    )
    return read(game.database, lambda s: _settlement_rows(s, query))


def asset_settlements(game: Game, asset_id: int) -> list[SettlementRow]:
    """Every holder's settlement of one asset, by player."""
    query = select(Settlement).where(Settlement.asset_id == asset_id).order_by(Settlement.player_id)
    return read(game.database, lambda s: _settlement_rows(s, query))


@dataclass(frozen=True)
class ValuePoint:
    t: datetime
    value: int


def performance_history(game: Game, player_id: int, points: int = 120) -> list[ValuePoint]:
    """Account value over the last hour (or since joining), sampled evenly, replayed exactly.

    Cash and units come from the player's own trades and settlements; prices from each asset's
    path at the sampled instant, the same numbers the market showed then.

    The replay runs backwards from the account as it stands (cash, open holdings), undoing only
    the trades and settlements inside the window, which the indexes on (player_id, executed_at)
    and (player_id, settled_at) find: the cost is O(points x assets held + events in the window),
    whatever the player did before it. It equals replaying every event forwards from the grant,
    because cash and holdings are exactly the grant plus every event (reconcile proves it).
    """
    return read(game.database, lambda session: values_over_time(session, game, player_id, points))


def values_over_time(
    session: Session, game: Game, player_id: int, points: int, now: datetime | None = None
) -> list[ValuePoint]:
    """``performance_history`` inside a read the caller already holds, ending at ``now`` (the
    clock's, unless given): profiles.py reads it in the snapshot and at the instant of the rest
    of a profile."""
    now = game.clock.now() if now is None else now
    player = session.execute(
        select(Player.created_at, Player.cash).where(Player.id == player_id)
    ).first()
    if player is None:
        return []
    start = max(player.created_at, now - timedelta(hours=1))
    # the account now, in the same snapshot as the events below
    cash = player.cash
    units: dict[int, int] = {
        asset_id: quantity
        for asset_id, quantity in session.execute(
            select(Holding.asset_id, Holding.quantity).where(
                Holding.player_id == player_id, Holding.quantity > 0
            )
        )
    }
    events: list[tuple[datetime, int, int, int]] = []  # (at, cash delta, asset, unit delta)
    for at, side, total, asset_id, quantity in session.execute(
        select(Trade.executed_at, Trade.side, Trade.total, Trade.asset_id, Trade.quantity).where(
            Trade.player_id == player_id, Trade.executed_at > start
        )
    ):
        sign = -1 if side == "buy" else 1
        events.append((at, sign * total, asset_id, -sign * quantity))
    for at, value, asset_id, quantity in session.execute(
        select(
            Settlement.settled_at, Settlement.value, Settlement.asset_id, Settlement.quantity
        ).where(Settlement.player_id == player_id, Settlement.settled_at > start)
    ):
        events.append((at, value, asset_id, -quantity))
    events.sort(key=lambda e: e[0], reverse=True)  # newest first: undone in that order
    wanted = set(units) | {e[2] for e in events}
    assets = {a.id: a for a in session.scalars(select(Asset).where(Asset.id.in_(wanted)))}
    span = now - start
    count = max(1, min(points, int(span.total_seconds()) + 1))  # at most one a second
    instants = [start + span * n / max(1, count - 1) for n in range(count)]
    samples: list[ValuePoint] = []
    i = 0
    for t in reversed(instants):
        while i < len(events) and events[i][0] > t:  # undo what happened after t
            _, dc, aid, du = events[i]
            cash -= dc
            units[aid] = units.get(aid, 0) - du
            i += 1
        value = cash
        for aid, qty in units.items():
            if qty > 0:
                value += value_floor(qty, game.price_at(assets[aid], t))
        samples.append(ValuePoint(t, value))
    samples.reverse()
    return samples
