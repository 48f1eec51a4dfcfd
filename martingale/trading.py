"""Market orders: buy and sell at the current tick's price, exactly once per idempotency key.

One trade is one database round trip (trade_store: the PostgreSQL function ``mg_trade``, or its
SQLite twin in a group-committed transaction) that, in this order:
1. checks the caller's login session, when the caller names one (revocation acts at once);
2. takes a shared lock on the live asset's row, which settlement must wait for;
3. locks the player's row (every trade of one player queues here, so two requests with the same key
   cannot both miss each other);
4. replays the earlier result if the key was used for the same request, refuses it otherwise;
5. checks the trade's own tick against the asset's end: no trade can execute at or after expiry,
   job or no job; then the order's own bounds: an amount that bought nothing, a price beyond the
   order's limit_price (after the key, so a retry of an executed key always replays);
6. moves cash and units with guarded updates and writes one balanced journal entry;
7. answers the trade, the player's name, cash, grant, realized P&L and open holdings.

Before the call, Python prices the order from the asset's immutable fields (asset_cache) and the
path cache: the trade's tick from the clock, S(tick), the quantity a dollar amount buys at it, and
the value (cost rounded up, proceeds rounded down). The database re-checks the asset and the tick under its lock. After the call nothing
is read: the reply's portfolio and the pushes are built from what the transaction returned.

``place_trade`` is the one trade service of the REST API and the socket: the trade, then the
trader's portfolio after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .asset_cache import AssetCache, LiveAsset, cache_of
from .auth import SessionEnded, require_live_session
from .errors import (
    AmountTooSmall,
    AssetNotTradable,
    DuplicateRequest,
    InsufficientFunds,
    InsufficientHoldings,
    MartingaleError,
    PriceMoved,
    TradeValueTooLarge,
    TradingHalted,
    UnknownAsset,
    UnknownPlayer,
)
from .game import Game
from .models import Trade
from .money import MAX_QUANTITY, VALUE_DIVISOR, usd, value_ceil, value_floor
from .money import price as price_text
from .portfolio import PortfolioView, Position
from .trade_store import OK, REPLAYED, TradeCall, TradeRow, run_trade
from .validators import Order, parse_order

_STALE_RETRIES = 3  # the cache named a settled asset, or another one now holds its symbol


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
    # the trader's account as the trade's own transaction left it (a replay: as it is now); None
    # where a trade is read back from the books
    portfolio: PortfolioView | None = field(default=None, compare=False, repr=False)


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
    session_id: str | None = None,
    amount: object = None,
    limit_price: object = None,
) -> TradeResult:
    """Validate a market order and execute it in one round trip.

    ``session_id``: the caller's login session, checked in the trade's own round trip (a refused
    order checks it first too, so an ended session is always answered as such).
    """
    try:
        order = parse_order(symbol, side, quantity, idempotency_key, amount, limit_price)
    except MartingaleError:
        if session_id is not None:
            require_live_session(game, player_id, session_id)
        raise
    result = _execute(game, player_id, order, session_id)
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
    session_id: str | None = None,
    amount: object = None,
    limit_price: object = None,
) -> TradeReply:
    """Execute a market order for a client and answer with the portfolio it leaves."""
    result = execute_trade(
        game, player_id=player_id, symbol=symbol, side=side, quantity=quantity,
        idempotency_key=idempotency_key, session_id=session_id, amount=amount,
        limit_price=limit_price,
    )  # fmt: skip
    if result.portfolio is None:
        raise AssertionError("a trade answers with the account it leaves")
    return TradeReply(result, result.portfolio)


def _execute(game: Game, player_id: int, order: Order, session_id: str | None) -> TradeResult:
    assets = cache_of(game)
    for _ in range(_STALE_RETRIES):
        now = game.clock.now()
        asset = assets.live(game, order.symbol)
        call = _call(game, asset, player_id, session_id, order, now)
        row = run_trade(game.database, call)
        if row.status in (OK, REPLAYED):
            return _result(game, assets, player_id, row, now)
        if row.status in ("stale_asset", "asset_expired"):
            assets.forget(order.symbol)  # settled, or its symbol moved on: read it again
        if row.status != "stale_asset":
            raise _refusal(row, order, call)
    raise AssertionError(f"{order.symbol}: the asset cache kept disagreeing with the database")


def _call(
    game: Game,
    asset: LiveAsset | None,
    player_id: int,
    session_id: str | None,
    order: Order,
    now: datetime,
) -> TradeCall:
    tick = price = value = 0
    quantity = order.quantity or 0
    if asset is not None:
        tick = asset.tick_at(now)
        if 0 <= tick < asset.end_tick:  # else the database refuses it: no price to compute
            price = asset.path(game).price(tick)
            if order.amount is not None and price > 0:
                quantity = units_for(order.amount, price)
            quote = value_ceil if order.side == "buy" else value_floor
            value = quote(quantity, price)
    # an amount that buys nothing goes to the database as quantity 0, which refuses it only
    # after the key lookup: a retry of a key that did buy replays, whatever the price is now
    return TradeCall(
        player_id=player_id, session_id=session_id, now=now, symbol=order.symbol,
        side=order.side, quantity=quantity, key=order.idempotency_key,
        fingerprint=order.fingerprint, asset_id=None if asset is None else asset.id, tick=tick,
        price=price, value=value, limit_price=order.limit_price,
    )  # fmt: skip


def units_for(amount: int, price: int) -> int:
    """The most atoms whose cost (``value_ceil``) is at most ``amount`` at ``price``: cost <=
    amount iff quantity * price <= amount * VALUE_DIVISOR, as the cost is the ceiling of an
    exact quotient and the amount an integer. At most one order's largest quantity."""
    return min(amount * VALUE_DIVISOR // price, MAX_QUANTITY)


def _refusal(row: TradeRow, order: Order, call: TradeCall) -> MartingaleError:
    symbol = order.symbol
    match row.status:
        case "session_ended":
            return SessionEnded("session ended")
        case "unknown_player":
            return UnknownPlayer("no such player")
        case "duplicate_request":
            return DuplicateRequest("this idempotency key was already used for a different request")
        case "unknown_asset":
            return UnknownAsset(f"no asset is called {symbol}")
        case "asset_expired":
            return AssetNotTradable(f"{symbol} has expired")
        case "asset_not_tradable":
            return AssetNotTradable(f"{symbol} is no longer trading")
        case "trade_value_too_large":
            return TradeValueTooLarge("trade value exceeds $10,000,000,000")
        case "insufficient_funds":
            return InsufficientFunds("not enough cash for this trade", available=row.cash)
        case "insufficient_holdings":
            return InsufficientHoldings("not enough units to sell")
        case "trading_halted":
            return TradingHalted("trading is paused for maintenance; prices keep ticking")
        case "amount_too_small":
            return AmountTooSmall(
                f"${usd(order.amount or 0)} buys less than 0.00000001 {symbol} at"
                f" ${price_text(call.price)}"
            )
        case "price_moved":
            limit = order.limit_price or 0
            bound = "above your highest" if order.side == "buy" else "below your lowest"
            return PriceMoved(
                f"{symbol} traded at ${price_text(call.price)}, {bound} price of"
                f" ${price_text(limit)}; nothing was traded",
                price=price_text(call.price),
                limit_price=price_text(limit),
            )
    raise AssertionError(f"the trade store answered {row.status!r}")


def _result(
    game: Game, assets: AssetCache, player_id: int, row: TradeRow, now: datetime
) -> TradeResult:
    known = assets.by_ids(game, [asset_id for asset_id, _, _ in row.holdings])
    positions = []
    for asset_id, quantity, cost_basis in row.holdings:
        asset = known[asset_id]
        price = asset.path(game).price(asset.quoted_tick(now))
        positions.append(
            Position(
                asset_id=asset_id,
                symbol=asset.symbol,
                quantity=quantity,
                cost_basis=cost_basis,
                price=price,
                market_value=value_floor(quantity, price),
                expires_at=asset.expires_at,
            )
        )
    positions.sort(key=lambda p: p.symbol)
    view = PortfolioView(
        player_id=player_id, cash=_int(row.cash), granted=_int(row.granted),
        realized_pnl=_int(row.player_realized_pnl), positions=tuple(positions),
    )  # fmt: skip
    if (
        row.executed_at is None
        or row.display_name is None
        or row.symbol is None
        or row.side is None
    ):
        raise AssertionError("a trade row names its trade")
    return TradeResult(
        id=_int(row.trade_id), player_id=player_id, asset_id=_int(row.asset_id), symbol=row.symbol,
        side=row.side, quantity=_int(row.quantity), price=_int(row.price), total=_int(row.total),
        realized_pnl=row.realized_pnl, tick=_int(row.tick), executed_at=row.executed_at,
        trader=row.display_name, replayed=row.status == REPLAYED, portfolio=view,
    )  # fmt: skip


def _int(value: int | None) -> int:
    if value is None:
        raise AssertionError("a trade row is complete")
    return value


def trade_result(trade: Trade, symbol: str, trader: str) -> TradeResult:
    """The result of a stored trade; the symbol and trader come from the rows joined to it."""
    return TradeResult(
        id=trade.id, player_id=trade.player_id, asset_id=trade.asset_id, symbol=symbol,
        side=trade.side, quantity=trade.quantity, price=trade.price, total=trade.total,
        realized_pnl=trade.realized_pnl, tick=trade.tick, executed_at=trade.executed_at,
        trader=trader,
    )  # fmt: skip
