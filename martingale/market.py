"""Read models of the market: what anyone may see of the live assets (never a seed), and the one
rule for naming an asset in a URL or a command."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .errors import UnknownAsset
from .game import Game, expires_at, quoted_tick
from .models import LIVE, Asset, Holding
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
    open_interest: int  # quantity atoms held by all players together


def live_quotes(game: Game) -> list[Quote]:
    def work(session: Session) -> list[Quote]:
        now = game.clock.now()
        quotes = []
        assets = session.scalars(Asset.live()).all()
        held = _open_interest(session, [asset.id for asset in assets])
        for asset in assets:
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
                    open_interest=held.get(asset.id, 0),
                )
            )
        return quotes

    return read(game.database, work)


def _open_interest(session: Session, asset_ids: list[int]) -> dict[int, int]:
    """Units held per asset, all players together: one grouped read on holdings' asset index."""
    if not asset_ids:
        return {}
    rows = session.execute(
        select(Holding.asset_id, func.sum(Holding.quantity))
        .where(Holding.asset_id.in_(asset_ids))
        .group_by(Holding.asset_id)
    )
    # PostgreSQL sums BIGINT as NUMERIC (a Decimal here): whole, so int() is exact
    return {asset_id: int(total) for asset_id, total in rows}


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
