"""The caller's own account: names, portfolio, trades, settlements, performance."""

from __future__ import annotations

from typing import Any

from flask import g, request

from .. import accounts, rate_limits, reports, trading, wire
from ..auth import require_live_session
from ..errors import InvalidJson
from ..extensions import limiter
from ..game import current_game
from ..portfolio import portfolio as portfolio_view
from .access import (
    caller,
    int_arg,
    json_body,
    optional_caller,
    optional_int_arg,
    trade_caller,
)
from .blueprint import bp
from .limits import heavy_read_limit, read_limit, spend_trade_budget


def _player_key() -> str:
    who = optional_caller()
    return f"player:{who.player_id}" if who else request.remote_addr or "anonymous"


@bp.get("/account")
@read_limit
def account() -> Any:
    """The caller's username (theirs alone to see) and public display name."""
    return wire.account(accounts.account(current_game(), caller().player_id))


# limited as the password routes are: a refusal tells whether a name looks like some username
@bp.patch("/account")
@limiter.limit(rate_limits.ACCOUNT_WRITES)
def update_account() -> Any:
    """Change the public display name."""
    who = caller()
    body = json_body()
    found = accounts.change_display_name(current_game(), who.player_id, body.get("display_name"))
    return wire.account(found)


@bp.get("/portfolio")
@read_limit
def portfolio() -> Any:
    """Cash, positions at current prices, and P&L."""
    return wire.portfolio(portfolio_view(current_game(), caller().player_id))


@bp.post("/trades")
def place_trade() -> Any:
    """A market order; Idempotency-Key makes retries safe."""
    spend_trade_budget()
    game, who = current_game(), trade_caller()
    try:
        body = json_body()
    except InvalidJson:
        require_live_session(game, who.player_id, who.session_id)  # an ended session answers first
        raise
    reply = trading.place_trade(
        game,
        player_id=who.player_id,
        symbol=body.get("symbol"),
        side=body.get("side"),
        quantity=body.get("quantity"),
        idempotency_key=request.headers.get("Idempotency-Key"),
        session_id=who.session_id,  # checked in the trade's own round trip
    )
    g.player_id, g.trade_id = who.player_id, reply.trade.id  # for the request's log line
    if reply.trade.replayed:
        return wire.trade_reply(reply), 200, {"Idempotent-Replayed": "true"}
    return wire.trade_reply(reply), 201


@bp.get("/trades")
@read_limit
def trades() -> Any:
    """The caller's trades, newest first; page with before=<id>."""
    rows = reports.player_trades(
        current_game(),
        caller().player_id,
        int_arg("limit", 50, 1, 500),
        optional_int_arg("before"),
    )
    return {"trades": [wire.trade(t) for t in rows]}


@bp.get("/settlements")
@read_limit
def settlements() -> Any:
    """The caller's settled positions, newest first."""
    rows = reports.player_settlements(
        current_game(), caller().player_id, int_arg("limit", 50, 1, 200)
    )
    return {"settlements": [wire.settlement(s) for s in rows]}


@bp.get("/performance/history")
@heavy_read_limit
def performance_history() -> Any:
    """Account value over the last hour, sampled evenly."""
    points = reports.performance_history(
        current_game(), caller().player_id, int_arg("points", 120, 2, 600)
    )
    return {"points": [wire.value_point(p) for p in points]}
