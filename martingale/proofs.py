"""Commit-reveal proofs of settled assets, checked against what the database stored."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import AssetNotTradable
from .game import Game, path_params
from .market import find_asset
from .models import SETTLED, Asset, PriceTick
from .price_path import Verdict, verify_path
from .transaction_utils import read


def proof_asset(game: Game, ref: str) -> Asset:
    """The asset whose proof ``ref`` asks for: live (commitment only) or settled (seed revealed)."""
    return read(game.database, lambda session: find_asset(session, ref, past=True))


def verify_asset(game: Game, ref: str) -> tuple[Asset, Verdict]:
    """Recompute a settled asset's whole path from its revealed seed and compare with storage."""

    def work(session: Session) -> tuple[Asset, Verdict]:
        asset = find_asset(session, ref, past=True)
        if asset.status != SETTLED or asset.final_tick is None or asset.final_price is None:
            raise AssetNotTradable(f"{asset.symbol} has not settled yet: its seed is still secret")
        ticks = dict(
            session.execute(
                select(PriceTick.tick, PriceTick.price).where(PriceTick.asset_id == asset.id)
            ).all()
        )
        verdict = verify_path(
            seed=asset.seed,
            seed_commitment=asset.seed_commitment,
            params=path_params(asset),
            expiry_tick=asset.expiry_tick,
            worthless=asset.worthless_price,
            ticks=ticks,
            final_tick=asset.final_tick,
            final_price=asset.final_price,
            complete=asset.ticks_compacted_at is None,
        )
        return asset, verdict

    return read(game.database, work)
