"""Commit-reveal proofs of settled assets, checked against what the database stored."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import AssetNotTradable, UnknownAsset
from .game import Game
from .models import SETTLED, Asset, PriceTick
from .price_client import PathParams, Verdict, verify_path
from .transaction_utils import read


def find_asset(session: Session, ref: str) -> Asset | None:
    """An id names any asset; a symbol names its live asset, else its most recent one."""
    if ref.isdigit():
        return session.get(Asset, int(ref))
    return session.scalar(
        select(Asset).where(Asset.symbol == ref.upper()).order_by(Asset.id.desc()).limit(1)
    )


def verify_asset(game: Game, ref: str) -> tuple[Asset, Verdict]:
    """Recompute a settled asset's whole path from its revealed seed and compare with storage."""

    def work(session: Session) -> tuple[Asset, Verdict]:
        asset = find_asset(session, ref)
        if asset is None:
            raise UnknownAsset(f"no asset {ref}")
        if asset.status != SETTLED or asset.final_tick is None or asset.final_price is None:
            raise AssetNotTradable(f"{asset.symbol} has not settled yet: its seed is still secret")
        ticks = dict(
            session.execute(
                select(PriceTick.tick, PriceTick.price).where(PriceTick.asset_id == asset.id)
            ).all()
        )
        params = PathParams(
            asset.seed, asset.initial_price, Decimal(asset.drift), Decimal(asset.volatility)
        )
        verdict = verify_path(
            seed=asset.seed,
            seed_commitment=asset.seed_commitment,
            params=params,
            expiry_tick=asset.expiry_tick,
            worthless=asset.worthless_price,
            ticks=ticks,
            final_tick=asset.final_tick,
            final_price=asset.final_price,
        )
        return asset, verdict

    return read(game.engine, work)
