"""Read models of the market: what anyone may see of the live assets (never a seed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from .asset_manager import live_assets
from .game import Game, expires_at, quoted_tick
from .transaction_utils import read


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
        for asset in live_assets(session):
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

    return read(game.engine, work)
