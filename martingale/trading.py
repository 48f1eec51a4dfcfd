"""Market orders: buy and sell at the current tick's price, exactly once per idempotency key.

One trade is one transaction that, in this order:
1. takes a shared lock on the live asset's row, which settlement must wait for;
2. locks the player's row (every trade of one player queues here, so two requests with the same key
   cannot both miss each other);
3. replays the earlier result if the key was used for the same request, refuses it otherwise;
4. checks the trade's own tick against the asset's end: no trade can execute at or after expiry,
   job or no job;
5. moves cash and units with guarded updates and writes one balanced journal entry.

``place_trade`` is the one trade service of the REST API and the socket: the trade, then the
trader's portfolio after it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from . import ledger
from .errors import (
    AssetNotTradable,
    DuplicateRequest,
    InsufficientFunds,
    InsufficientHoldings,
    TradeValueTooLarge,
    UnknownAsset,
    UnknownPlayer,
)
from .game import Game, tick_at
from .models import LIVE, Asset, Holding, Player, Trade
from .money import MAX_TRADE_VALUE, prorata, value_ceil, value_floor
from .portfolio import PortfolioView, portfolio
from .transaction_utils import changed_rows, run_in_transaction
from .validators import Order, parse_order


@dataclass(frozen=True)
class TradeResult:
    """A trade as every reader sees it: the trader's reply, the player's list and the public tape."""

    id: int
    player_id: int
    asset_id: int
    symbol: str
    side: str
    quantity: int
    price: int
    total: int
    realized_pnl: int | None
    tick: int
    executed_at: datetime
    trader: str  # the player's public display name (the tape shows nothing else of them)
    replayed: bool = False


@dataclass(frozen=True)
class TradeReply:
    trade: TradeResult
    portfolio: PortfolioView


def execute_trade(
    game: Game,
    *,
    player_id: int,
    symbol: object,
    side: object,
    quantity: object,
    idempotency_key: object,
) -> TradeResult:
    """Validate a market order and execute it in one retried transaction."""
    order = parse_order(symbol, side, quantity, idempotency_key)
    result = run_in_transaction(
        game.database, lambda session: _execute(session, game, player_id, order)
    )
    if not result.replayed:  # published after commit, so listeners only ever see real trades
        game.events.publish("trade", result.__dict__)
    return result


def place_trade(
    game: Game,
    *,
    player_id: int,
    symbol: object,
    side: object,
    quantity: object,
    idempotency_key: object,
) -> TradeReply:
    """Execute a market order for a client and answer with the portfolio it leaves."""
    result = execute_trade(
        game, player_id=player_id, symbol=symbol, side=side, quantity=quantity,
        idempotency_key=idempotency_key,
    )  # fmt: skip
    return TradeReply(result, portfolio(game, player_id))


def _execute(session: Session, game: Game, player_id: int, order: Order) -> TradeResult:
    # lock order everywhere: asset, then player(s), then holding; settlement follows the same order
    asset = session.scalar(
        select(Asset)
        .where(Asset.symbol == order.symbol, Asset.status == LIVE)
        .with_for_update(read=True)
    )
    player = session.scalar(select(Player).where(Player.id == player_id).with_for_update())
    if player is None:
        raise UnknownPlayer("no such player")
    earlier = session.scalar(
        select(Trade).where(
            Trade.player_id == player_id, Trade.idempotency_key == order.idempotency_key
        )
    )
    if earlier is not None:
        return _replay(session, earlier, order, player.username)
    if asset is None:
        if session.scalar(select(Asset.id).where(Asset.symbol == order.symbol).limit(1)):
            raise AssetNotTradable(f"{order.symbol} has expired")
        raise UnknownAsset(f"no asset is called {order.symbol}")
    now = game.clock.now()
    tick = tick_at(asset, now)
    if tick < 0 or tick >= asset.end_tick:
        raise AssetNotTradable(f"{asset.symbol} is no longer trading")
    price = game.path(asset).price(tick)
    # unreachable while end_tick is right; kept so a wrong end_tick can never trade below it
    if price < asset.worthless_price:
        raise AssetNotTradable(f"{asset.symbol} is no longer trading")

    if order.side == "buy":
        total, realized = _buy(session, player, asset, order.quantity, price)
        cash_delta, units_delta = -total, order.quantity
    else:
        total, realized = _sell(session, player, asset, order.quantity, price)
        cash_delta, units_delta = total, -order.quantity

    entry_id = ledger.transfer(
        session, kind=order.side, player_id=player.id, asset_id=asset.id,
        cash_to_player=cash_delta, units_to_player=units_delta, at=now,
    )  # fmt: skip
    trade = Trade(
        player_id=player.id, asset_id=asset.id, side=order.side, quantity=order.quantity,
        price=price, total=total, realized_pnl=realized, tick=tick, executed_at=now,
        idempotency_key=order.idempotency_key, request_hash=order.fingerprint, entry_id=entry_id,
    )  # fmt: skip
    session.add(trade)
    session.flush()
    return trade_result(trade, asset.symbol, player.username)


def _buy(
    session: Session, player: Player, asset: Asset, quantity: int, price: int
) -> tuple[int, None]:
    cost = value_ceil(quantity, price)
    if cost > MAX_TRADE_VALUE:
        raise TradeValueTooLarge("trade value exceeds $10,000,000,000")
    if cost > player.cash:
        raise InsufficientFunds(
            "not enough cash for this trade", needed=cost, available=player.cash
        )
    # guarded: even without the row lock this can never take cash below zero
    debited = changed_rows(
        session,
        update(Player)
        .where(Player.id == player.id, Player.cash >= cost)
        .values(cash=Player.cash - cost),
    )
    if debited != 1:
        raise InsufficientFunds("not enough cash for this trade")
    holding = session.get(Holding, (player.id, asset.id), with_for_update=True)
    if holding is None:
        session.add(
            Holding(player_id=player.id, asset_id=asset.id, quantity=quantity, cost_basis=cost)
        )
    else:
        holding.quantity += quantity
        holding.cost_basis += cost
    return cost, None


def _sell(
    session: Session, player: Player, asset: Asset, quantity: int, price: int
) -> tuple[int, int]:
    holding = session.get(Holding, (player.id, asset.id), with_for_update=True)
    if holding is None or holding.quantity < quantity:
        raise InsufficientHoldings("not enough units to sell")
    proceeds = value_floor(quantity, price)
    if proceeds > MAX_TRADE_VALUE:
        raise TradeValueTooLarge("trade value exceeds $10,000,000,000")
    released = (
        holding.cost_basis
        if quantity == holding.quantity
        else prorata(holding.cost_basis, quantity, holding.quantity)
    )
    realized = proceeds - released
    holding.quantity -= quantity
    holding.cost_basis -= released
    session.execute(
        update(Player)
        .where(Player.id == player.id)
        .values(cash=Player.cash + proceeds, realized_pnl=Player.realized_pnl + realized)
        .execution_options(synchronize_session=False)
    )
    return proceeds, realized


def _replay(session: Session, earlier: Trade, order: Order, trader: str) -> TradeResult:
    if earlier.request_hash != order.fingerprint:
        raise DuplicateRequest("this idempotency key was already used for a different request")
    symbol = session.scalar(select(Asset.symbol).where(Asset.id == earlier.asset_id))
    return replace(trade_result(earlier, symbol or "", trader), replayed=True)


def trade_result(trade: Trade, symbol: str, trader: str) -> TradeResult:
    """The result of a stored trade; the symbol and trader come from the rows joined to it."""
    return TradeResult(
        id=trade.id, player_id=trade.player_id, asset_id=trade.asset_id, symbol=symbol,
        side=trade.side, quantity=trade.quantity, price=trade.price, total=trade.total,
        realized_pnl=trade.realized_pnl, tick=trade.tick, executed_at=trade.executed_at,
        trader=trader,
    )  # fmt: skip
