"""Public market data: assets, price history, proofs, the tape and the leaderboard."""

from __future__ import annotations

from typing import Any

from .. import market, proofs, reports, wire
from ..clock import iso
from ..game import current_game
from ..leaderboard import MAX_TOP, board
from .access import int_arg, optional_caller, optional_int_arg
from .blueprint import bp
from .limits import read_limit


@bp.get("/assets")
@read_limit
def assets() -> Any:
    """Every live asset with its current price and countdown."""
    game = current_game()
    return {
        "server_time": iso(game.clock.now()),
        "assets": [wire.quote(q) for q in market.live_quotes(game)],
    }


@bp.get("/assets/<ref>/history")
@read_limit
def history(ref: str) -> Any:
    """Stored price ticks: after since_tick, or the latest `limit`."""
    since = optional_int_arg("since_tick")
    limit = int_arg("limit", 300, 1, 2000)
    asset, points = reports.history(current_game(), ref, since, limit)
    return {
        "id": asset.id,
        "symbol": asset.symbol,
        "points": [wire.price_point(p) for p in points],
    }


@bp.get("/assets/<ref>/proof")
@read_limit
def proof(ref: str) -> Any:
    """The commitment; after settlement also the seed, so anyone can recompute the path."""
    return wire.proof(proofs.proof_asset(current_game(), ref))


@bp.get("/tape")
@read_limit
def tape() -> Any:
    """Everyone's latest trades (public display names only)."""
    rows = reports.tape(current_game(), int_arg("limit", 50, 1, 200))
    return {"tape": [wire.public_trade(t) for t in rows]}


@bp.get("/leaderboard")
@read_limit
def leaderboard() -> Any:
    """The engine's last ranking pass: the top `limit`, and the caller's own row when logged in."""
    who = optional_caller()
    limit = int_arg("limit", 25, 1, MAX_TOP)
    found = board(current_game(), limit, who.player_id if who else None)
    return wire.leaderboard(found, with_me=who is not None)
