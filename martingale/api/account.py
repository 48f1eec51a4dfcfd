"""The caller's own account: portfolio, trades, settlements, performance."""

from __future__ import annotations

from typing import Any

from flask import request

from .. import money, reports, trading
from ..app import current_game
from ..extensions import limiter
from ..portfolio import portfolio as portfolio_view
from . import bp, serialize
from .access import int_arg, json_body, optional_int_arg, principal


def _player_key() -> str:
    who = principal(optional=True)
    return f"player:{who.player_id}" if who else request.remote_addr or "anonymous"


@bp.get("/portfolio")
def portfolio() -> Any:
    """Cash, positions at current prices, and P&L."""
    return serialize.portfolio(portfolio_view(current_game(), principal().player_id))


@bp.post("/trades")
@limiter.limit("50 per second;2000 per minute", key_func=_player_key)
def place_trade() -> Any:
    """A market order; Idempotency-Key makes retries safe."""
    who = principal()
    body = json_body()
    game = current_game()
    result = trading.execute_trade(
        game,
        player_id=who.player_id,
        symbol=body.get("symbol"),
        side=body.get("side"),
        quantity=body.get("quantity"),
        idempotency_key=request.headers.get("Idempotency-Key"),
    )
    reply = serialize.trade_reply(result, portfolio_view(game, who.player_id))
    if result.replayed:
        return reply, 200, {"Idempotent-Replayed": "true"}
    return reply, 201


@bp.get("/trades")
def trades() -> Any:
    """The caller's trades, newest first; page with before=<id>."""
    rows = reports.player_trades(
        current_game(),
        principal().player_id,
        int_arg("limit", 50, 1, 500),
        optional_int_arg("before"),
    )
    return {"trades": [serialize.trade(t) for t in rows]}


@bp.get("/settlements")
def settlements() -> Any:
    """The caller's settled positions, newest first."""
    rows = reports.player_settlements(
        current_game(), principal().player_id, int_arg("limit", 50, 1, 200)
    )
    return {"settlements": [serialize.settlement(s) for s in rows]}


@bp.get("/performance/history")
def performance_history() -> Any:
    """Account value over the last hour, sampled evenly."""
    points = reports.performance_history(
        current_game(), principal().player_id, int_arg("points", 120, 2, 600)
    )
    return {"points": [{"t": serialize.iso(p.t), "value": money.usd(p.value)} for p in points]}
