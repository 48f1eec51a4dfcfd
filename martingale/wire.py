"""The wire shapes shared by the REST API and Socket.IO: money and quantities as decimal strings,
times as ISO 8601 UTC with Z, refusals as ``{"error": {"code", "message"}}``."""

from __future__ import annotations

from typing import Any

from . import money
from .accounts import Account
from .auth import Login
from .clock import iso
from .leaderboard import Board, Ranking
from .market import Quote
from .models import SETTLED, Asset
from .portfolio import PortfolioView
from .price_path import RECIPE
from .profiles import Profile, PublicTrade, SettledPosition
from .reports import PricePoint, SettlementRow, ValuePoint
from .trading import TradeReply, TradeResult


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    """A refusal, over HTTP and in socket acknowledgements alike."""
    return {"error": {"code": code, "message": message}}


# A bug's reply: no exception text, no trace, nothing internal reaches a client.
INTERNAL_ERROR = error_body("internal_error", "something went wrong on our side")


def trade_reply(reply: TradeReply) -> dict[str, Any]:
    """The answer to a trade, the same over REST and Socket.IO."""
    return {
        "trade": trade(reply.trade),
        "portfolio": portfolio(reply.portfolio),
        "replayed": reply.trade.replayed,
    }


def quote(q: Quote) -> dict[str, Any]:
    return {
        "id": q.id, "symbol": q.symbol, "price": money.price(q.price),
        "initial_price": money.price(q.initial_price), "drift": q.drift,
        "volatility": q.volatility, "color": q.color, "born_at": iso(q.born_at),
        "expires_at": iso(q.expires_at), "seconds_to_expiry": round(q.seconds_to_expiry, 3),
        "tick": q.tick, "seed_commitment": q.seed_commitment,
        "open_interest": money.qty(q.open_interest),
    }  # fmt: skip


def trade(t: TradeResult) -> dict[str, Any]:
    body = {
        "id": t.id, "symbol": t.symbol, "side": t.side,
        "quantity": money.qty(t.quantity), "price": money.price(t.price),
        "total": money.usd(t.total), "tick": t.tick, "executed_at": iso(t.executed_at),
    }  # fmt: skip
    if t.realized_pnl is not None:
        body["realized_pnl"] = money.usd(t.realized_pnl)
    return body


def public_trade(t: TradeResult) -> dict[str, Any]:
    """A trade on the tape: its trader by display name only, never the username."""
    return {
        "id": t.id, "symbol": t.symbol, "side": t.side, "quantity": money.qty(t.quantity),
        "price": money.price(t.price), "total": money.usd(t.total),
        "executed_at": iso(t.executed_at), "display_name": t.trader,
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


def proof(asset: Asset) -> dict[str, Any]:
    """An asset's commitment; after settlement also its seed, so anyone can recompute the path."""
    body: dict[str, Any] = {
        "id": asset.id, "symbol": asset.symbol, "status": asset.status,
        "seed_commitment": asset.seed_commitment, "initial_price": money.price(asset.initial_price),
        "drift": asset.drift, "volatility": asset.volatility, "born_at": iso(asset.born_at),
        "tick_seconds": money.fmt(asset.tick_us, 10**6), "expiry_tick": asset.expiry_tick,
        "worthless_price": money.price(asset.worthless_price), "recipe": RECIPE,
    }  # fmt: skip
    if asset.status == SETTLED:  # never before: the seed is the future
        body.update(
            seed=asset.seed.hex(),
            settlement_tick=asset.final_tick,
            settlement_price=money.price(asset.final_price or 0),
            settled_at=iso(asset.settled_at) if asset.settled_at else None,
        )
    return body


def price_point(p: PricePoint) -> dict[str, Any]:
    return {"tick": p.tick, "t": iso(p.t), "price": money.price(p.price)}


def value_point(p: ValuePoint) -> dict[str, Any]:
    return {"t": iso(p.t), "value": money.usd(p.value)}


def settlement(s: SettlementRow) -> dict[str, Any]:
    return {
        "asset_id": s.asset_id, "symbol": s.symbol, "quantity": money.qty(s.quantity),
        "price": money.price(s.price), "value": money.usd(s.value),
        "realized_pnl": money.usd(s.realized_pnl), "settled_at": iso(s.settled_at),
    }  # fmt: skip


def ranking(r: Ranking) -> dict[str, Any]:
    return {
        "rank": r.rank,
        "display_name": r.name,
        "total_pnl": money.usd(r.total_pnl),
        "return_pct": return_pct(r.total_pnl, r.granted),
    }


def leaderboard(board: Board, *, with_me: bool = False) -> dict[str, Any]:
    """The last ranking pass: the REST reply and, without ``me``, the ``leaderboard`` push."""
    body: dict[str, Any] = {
        "tick_seq": board.tick_seq,
        "as_of": iso(board.as_of) if board.as_of else None,
        "players": board.players,
        "leaderboard": [ranking(r) for r in board.top],
    }
    if with_me:
        body["me"] = ranking(board.me) if board.me else None
    return body


def return_pct(total_pnl: int, granted: int) -> str:
    """P&L as a percent of the grant, for display: 2 decimals, computed exactly in integers."""
    return money.fmt(_toward_zero(total_pnl * 10_000, granted or 1), 100)


def profile(p: Profile) -> dict[str, Any]:
    """A player's public profile: their display name and nothing else that names them."""
    return {
        "display_name": p.name,
        "joined_at": iso(p.joined_at),
        "rank": p.rank,
        "ranked_at": iso(p.ranked_at) if p.ranked_at else None,
        "players": p.players,
        "as_of": iso(p.as_of),
        "total_pnl": money.usd(p.total_pnl),
        "return_pct": return_pct(p.total_pnl, p.granted),
        "curve": [{"t": iso(c.t), "pnl": money.usd(c.pnl)} for c in p.curve],
        "trades": [_profile_trade(t) for t in p.trades],
        "settled": p.settled,
        "wins": p.wins,
        "win_rate_pct": win_rate_pct(p.wins, p.settled),
        "best": _settled_position(p.best),
        "worst": _settled_position(p.worst),
    }


def _profile_trade(t: PublicTrade) -> dict[str, Any]:
    return {
        "symbol": t.symbol, "side": t.side, "quantity": money.qty(t.quantity),
        "price": money.price(t.price), "total": money.usd(t.total),
        "executed_at": iso(t.executed_at),
    }  # fmt: skip


def win_rate_pct(wins: int, settled: int) -> str | None:
    """Wins as a percent of settled positions, 2 decimals truncated; None before any settled."""
    return money.fmt(wins * 10_000 // settled, 100) if settled else None


def _settled_position(s: SettledPosition | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "symbol": s.symbol, "realized_pnl": money.usd(s.realized_pnl),
        "price": money.price(s.price), "settled_at": iso(s.settled_at),
    }  # fmt: skip


def login(result: Login) -> dict[str, Any]:
    p = result.principal
    return {
        # the caller's own login reply: the one place the username travels, to its owner
        "user": {"id": p.player_id, "username": p.username, "display_name": p.display_name},
        "access_token": result.access_token,
        "refresh_token": result.refresh_token,
        "token_type": "Bearer",
    }


def account(a: Account) -> dict[str, Any]:
    """The caller's own names (private: the username is shown to its owner alone)."""
    return {"id": a.player_id, "username": a.username, "display_name": a.display_name}


def _toward_zero(numerator: int, denominator: int) -> int:
    quotient = abs(numerator) // denominator
    return -quotient if numerator < 0 else quotient
