"""Read models of the market: what anyone may see of the live assets (never a seed), and the one
rule for naming an asset in a URL or a command."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import UnknownAsset
from .game import Game, expires_at, quoted_tick
from .models import LIVE, Asset
from .transaction_utils import read

_ASSET_REF = re.compile(r"[A-Za-z]{1,10}|[0-9]{1,10}")
MAX_ASSET_ID = 2**31 - 1  # ids are 32-bit INTEGER columns


@dataclass(frozen=True)
class Quote:
    id: int
    symbol: str
    color: str
    price: int
    initial_price: int
    drift: str
    volatility: str
    born_at: datetime
    expires_at: datetime
    seconds_to_expiry: float
    tick: int
    seed_commitment: str


def live_quotes(game: Game) -> list[Quote]:
    def work(session: Session) -> list[Quote]:
        now = game.clock.now()
        quotes = []
        for asset in session.scalars(Asset.live()):
            tick = quoted_tick(asset, now)
            ends = expires_at(asset)
            quotes.append(
                Quote(
                    id=asset.id,
                    symbol=asset.symbol,
                    color=asset.color,
                    price=game.path(asset).price(tick),
                    initial_price=asset.initial_price,
                    drift=asset.drift,
                    volatility=asset.volatility,
                    born_at=asset.born_at,
                    expires_at=ends,
                    seconds_to_expiry=max(0.0, (ends - now).total_seconds()),
                    tick=tick,
                    seed_commitment=asset.seed_commitment,
                )
            )
        return quotes

    return read(game.database, work)


def find_asset(session: Session, ref: str, *, past: bool) -> Asset:
    """The asset ``ref`` names: an id names any asset; a symbol names its live asset, or, when
    ``past`` is allowed, its most recent one (symbols are reused a day after expiry).

    Anything that is neither letters nor an id that fits the column names nothing.
    """
    if not _ASSET_REF.fullmatch(ref) or (ref.isdigit() and int(ref) > MAX_ASSET_ID):
        raise UnknownAsset(f"no asset {ref[:20]}")
    if ref.isdigit():
        asset = session.get(Asset, int(ref))
    else:
        query = select(Asset).where(Asset.symbol == ref.upper())
        if not past:
            query = query.where(Asset.status == LIVE)
        asset = session.scalar(query.order_by(Asset.id.desc()).limit(1))
    if asset is None:
        raise UnknownAsset(f"no asset {ref}")
    return asset
