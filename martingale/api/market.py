"""Public market data: assets, price history, proofs, the tape, the leaderboard, profiles."""

from __future__ import annotations

from typing import Any

from .. import market, profiles, proofs, reports, wire
from ..clock import iso
from ..contract import replies as r
from ..contract.operations import READS, Auth, Reply, operation, refusal
from ..contract.requests import HistoryQuery, LeaderboardQuery, TapeQuery
from ..errors import UnknownAsset, UnknownPlayer
from ..game import current_game
from ..leaderboard import board
from .access import optional_caller, query
from .blueprint import bp
from .limits import read_limit


@bp.get("/assets")
@operation("listAssets", "market", {200: Reply(r.AssetList, "The live assets.")}, limit=READS)
@read_limit
def assets() -> Any:
    """Every live asset with its current price and countdown."""
    game = current_game()
    return {
        "server_time": iso(game.clock.now()),
        "assets": [wire.quote(q) for q in market.live_quotes(game)],
    }


@bp.get("/assets/<ref>/history")
@operation("assetHistory", "market", {
    200: Reply(r.PriceHistory, "Ticks, oldest first."),
    404: refusal("No asset has this id, or no live asset has this symbol.", UnknownAsset),
}, params=("AssetRef",), query=HistoryQuery, limit=READS)  # fmt: skip
@read_limit
def history(ref: str) -> Any:
    """Stored price ticks: after since_tick, or the latest `limit`."""
    args = query(HistoryQuery)
    asset, points = reports.history(current_game(), ref, args.since_tick, args.limit)
    return {
        "id": asset.id,
        "symbol": asset.symbol,
        "points": [wire.price_point(p) for p in points],
    }


@bp.get("/assets/<ref>/proof")
@operation("assetProof", "market", {
    200: Reply(r.Proof, "The proof."),
    404: refusal("No such asset.", UnknownAsset),
}, params=("AssetRef",), limit=READS)  # fmt: skip
@read_limit
def proof(ref: str) -> Any:
    """The commitment; after settlement also the seed, so anyone can recompute the path."""
    return wire.proof(proofs.proof_asset(current_game(), ref))


@bp.get("/tape")
@operation("tape", "market", {200: Reply(r.Tape, "The tape.")}, query=TapeQuery, limit=READS)
@read_limit
def tape() -> Any:
    """Everyone's latest trades (public display names only), newest first."""
    rows = reports.tape(current_game(), query(TapeQuery).limit)
    return {"tape": [wire.public_trade(t) for t in rows]}


@bp.get("/leaderboard")
@operation("leaderboard", "market", {200: Reply(r.Leaderboard, "The ranking, best first.")},
           auth=Auth.OPTIONAL, query=LeaderboardQuery, limit=READS)  # fmt: skip
@read_limit
def leaderboard() -> Any:
    """The engine's last ranking pass: the top players and, for a logged-in caller, their own rank."""
    who = optional_caller()
    limit = query(LeaderboardQuery).limit
    found = board(current_game(), limit, who.player_id if who else None)
    return wire.leaderboard(found, with_me=who is not None)


@bp.get("/players/<name>")
@operation("playerProfile", "market", {
    200: Reply(r.PlayerProfile, "The profile."),
    404: refusal("No live player has this display name (a deleted account has none).",
                 UnknownPlayer),
}, params=("PlayerName",), auth=Auth.OPTIONAL, limit=READS)  # fmt: skip
@read_limit
def player_profile(name: str) -> Any:
    """A player's public profile: standing, P&L over the last hour, trades, settlements."""
    optional_caller()  # credentials, when sent, must be valid, as on the leaderboard
    return wire.profile(profiles.profile(current_game(), name))
