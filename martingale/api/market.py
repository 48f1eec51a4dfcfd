"""Public market data: assets, price history, proofs, the tape and the leaderboard."""

from __future__ import annotations

from typing import Any

from .. import market, money, reports
from ..app import current_game
from ..models import SETTLED
from ..price_client import RECIPE
from . import bp, serialize
from .access import int_arg, optional_int_arg


@bp.get("/assets")
def assets() -> Any:
    """Every live asset with its current price and countdown."""
    game = current_game()
    return {
        "server_time": serialize.iso(game.clock.now()),
        "assets": [serialize.quote(q) for q in market.live_quotes(game)],
    }


@bp.get("/assets/<ref>/history")
def history(ref: str) -> Any:
    """Stored price ticks: after since_tick, or the latest `limit`."""
    since = optional_int_arg("since_tick")
    limit = int_arg("limit", 300, 1, 2000)
    asset, points = reports.history(current_game(), ref, since, limit)
    return {
        "id": asset.id,
        "symbol": asset.symbol,
        "points": [
            {"tick": p.tick, "t": serialize.iso(p.t), "price": money.price(p.price)} for p in points
        ],
    }


@bp.get("/assets/<ref>/proof")
def proof(ref: str) -> Any:
    """The commitment; after settlement also the seed, so anyone can recompute the path."""
    asset = reports.asset_for_proof(current_game(), ref)
    body: dict[str, Any] = {
        "id": asset.id, "symbol": asset.symbol, "status": asset.status,
        "seed_commitment": asset.seed_commitment, "initial_price": money.price(asset.initial_price),
        "drift": asset.drift, "volatility": asset.volatility, "born_at": serialize.iso(asset.born_at),
        "tick_seconds": money.fmt(asset.tick_us, 10**6), "expiry_tick": asset.expiry_tick,
        "worthless_price": money.price(asset.worthless_price), "recipe": RECIPE,
    }  # fmt: skip
    if asset.status == SETTLED:  # never before: the seed is the future
        body.update(
            seed=asset.seed.hex(),
            settlement_tick=asset.final_tick,
            settlement_price=money.price(asset.final_price or 0),
            settled_at=serialize.iso(asset.settled_at) if asset.settled_at else None,
        )
    return body


@bp.get("/tape")
def tape() -> Any:
    """Everyone's latest trades (public display names only)."""
    rows = reports.tape(current_game(), int_arg("limit", 50, 1, 200))
    return {"tape": [serialize.public_trade(t) for t in rows]}


@bp.get("/leaderboard")
def leaderboard() -> Any:
    """Players ranked by total P&L against what they were granted."""
    rows = reports.leaderboard(current_game(), int_arg("limit", 25, 1, 100))
    return {"leaderboard": [serialize.ranking(r) for r in rows]}
