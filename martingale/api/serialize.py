"""JSON shapes of the API: money and quantities as decimal strings, times as ISO 8601 UTC with Z."""

from __future__ import annotations

from typing import Any

from .. import money
from ..auth import Login
from ..clock import iso
from ..market import Quote
from ..portfolio import PortfolioView
from ..reports import Ranking, SettlementRow, TradeRow
from ..trading import TradeResult


def trade_reply(result: TradeResult, view: PortfolioView) -> dict[str, Any]:
    """The answer to a trade, the same over REST and Socket.IO."""
    return {"trade": trade(result), "portfolio": portfolio(view), "replayed": result.replayed}


def quote(q: Quote) -> dict[str, Any]:
    return {
        "id": q.id, "symbol": q.symbol, "price": money.price(q.price),
        "initial_price": money.price(q.initial_price), "drift": q.drift,
        "volatility": q.volatility, "color": q.color, "born_at": iso(q.born_at),
        "expires_at": iso(q.expires_at), "seconds_to_expiry": round(q.seconds_to_expiry, 3),
        "tick": q.tick, "seed_commitment": q.seed_commitment,
    }  # fmt: skip


def trade(t: TradeResult, symbol: str | None = None) -> dict[str, Any]:
    body = {
        "id": t.id, "symbol": symbol or t.symbol, "side": t.side,
        "quantity": money.qty(t.quantity), "price": money.price(t.price),
        "total": money.usd(t.total), "tick": t.tick, "executed_at": iso(t.executed_at),
    }  # fmt: skip
    if t.realized_pnl is not None:
        body["realized_pnl"] = money.usd(t.realized_pnl)
    return body


def public_trade(t: TradeRow) -> dict[str, Any]:
    return {
        "id": t.id, "symbol": t.symbol, "side": t.side, "quantity": money.qty(t.quantity),
        "price": money.price(t.price), "total": money.usd(t.total),
        "executed_at": iso(t.executed_at), "name": t.trader,
    }  # fmt: skip


def portfolio(view: PortfolioView) -> dict[str, Any]:
    granted = view.granted or 1
    return {
        "cash": money.usd(view.cash),
        "value": money.usd(view.value),
        "total_pnl": money.usd(view.total_pnl),
        "realized_pnl": money.usd(view.realized_pnl),
        "unrealized_pnl": money.usd(view.unrealized_pnl),
        # a ratio for display, to 2 decimals, computed exactly in integers
        "return_pct": money.fmt(_toward_zero(view.total_pnl * 10_000, granted), 100),
        "holdings": [
            {
                "symbol": p.symbol,
                "asset_id": p.asset_id,
                "quantity": money.qty(p.quantity),
                "avg_cost": money.price(p.cost_basis * money.VALUE_DIVISOR // p.quantity),
                "cost_basis": money.usd(p.cost_basis),
                "price": money.price(p.price),
                "market_value": money.usd(p.market_value),
                "unrealized_pnl": money.usd(p.unrealized_pnl),
                "expires_at": iso(p.expires_at),
            }
            for p in view.positions
        ],
    }


def settlement(s: SettlementRow) -> dict[str, Any]:
    return {
        "asset_id": s.asset_id, "symbol": s.symbol, "quantity": money.qty(s.quantity),
        "price": money.price(s.price), "value": money.usd(s.value),
        "realized_pnl": money.usd(s.realized_pnl), "settled_at": iso(s.settled_at),
    }  # fmt: skip


def ranking(r: Ranking) -> dict[str, Any]:
    return {"rank": r.rank, "name": r.name, "total_pnl": money.usd(r.total_pnl)}


def login(result: Login) -> dict[str, Any]:
    p = result.principal
    return {
        "user": {"id": p.player_id, "username": p.username},
        "access_token": result.access_token,
        "refresh_token": result.refresh_token,
        "token_type": "Bearer",
    }


def _toward_zero(numerator: int, denominator: int) -> int:
    quotient = abs(numerator) // denominator
    return -quotient if numerator < 0 else quotient
