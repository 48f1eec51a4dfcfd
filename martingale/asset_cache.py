"""The immutable fields of live assets, kept in process for the trade path.

An asset's birth fixes everything a trade needs to price itself: its id, symbol, birth instant, tick
length, expiry and end ticks, worthless price and the parameters of its path. So the trade path reads
them here, computes the trade's tick and price in Python before it goes to the database, and the
database re-checks, under its shared lock on the asset, that the asset is still live, that it is the
asset this cache named, and that the tick is before the end (trade_store.py). What can change (the
asset settles; a symbol is leased to a new asset a day after expiry) is therefore never trusted from
here: the database answers "stale" and the trade path reloads the symbol and tries again.

One cache per database engine (ids are per database); bounded, oldest entries dropped first.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from .game import Game
from .models import LIVE, Asset
from .price_path import PathParams, PricePath
from .transaction_utils import read

_LIMIT = 1024
_COLUMNS = (
    Asset.id, Asset.symbol, Asset.seed, Asset.initial_price, Asset.drift, Asset.volatility,
    Asset.born_at, Asset.tick_us, Asset.expiry_tick, Asset.end_tick, Asset.worthless_price,
)  # fmt: skip


@dataclass(frozen=True)
class LiveAsset:
    """What a trade needs of an asset, fixed at its birth."""

    id: int
    symbol: str
    params: PathParams
    born_at: datetime
    tick_us: int
    expiry_tick: int
    end_tick: int
    worthless_price: int

    def tick_at(self, now: datetime) -> int:
        """Whole ticks since birth (negative before it): game.tick_at for this record."""
        elapsed = now - self.born_at
        elapsed_us = (elapsed.days * 86_400 + elapsed.seconds) * 1_000_000 + elapsed.microseconds
        return elapsed_us // self.tick_us

    def quoted_tick(self, now: datetime) -> int:
        return max(0, min(self.tick_at(now), self.end_tick))

    @property
    def expires_at(self) -> datetime:
        return self.born_at + timedelta(microseconds=self.expiry_tick * self.tick_us)

    def path(self, game: Game) -> PricePath:
        return game.paths.get(self.id, self.params)


def _record(row: Any) -> LiveAsset:
    (asset_id, symbol, seed, initial, drift, volatility, born_at, tick_us, expiry_tick, end_tick,
     worthless) = row  # fmt: skip
    return LiveAsset(
        id=asset_id,
        symbol=symbol,
        params=PathParams(seed, initial, Decimal(drift), Decimal(volatility)),
        born_at=born_at,
        tick_us=tick_us,
        expiry_tick=expiry_tick,
        end_tick=end_tick,
        worthless_price=worthless,
    )


class AssetCache:
    def __init__(self) -> None:
        self._by_symbol: dict[str, LiveAsset] = {}
        self._by_id: dict[int, LiveAsset] = {}
        self._lock = threading.Lock()

    def live(self, game: Game, symbol: str) -> LiveAsset | None:
        """The live asset called ``symbol`` as last seen; one read on a miss (None: there is none)."""
        with self._lock:
            found = self._by_symbol.get(symbol)
        if found is not None:
            return found
        rows = read(
            game.database,
            lambda s: s.execute(
                select(*_COLUMNS).where(Asset.symbol == symbol, Asset.status == LIVE)
            ).all(),
        )
        return self._keep([_record(r) for r in rows])[0] if rows else None

    def by_ids(self, game: Game, ids: list[int]) -> dict[int, LiveAsset]:
        """The assets of these ids; those not seen yet are read in one query."""
        with self._lock:
            found = {i: self._by_id[i] for i in ids if i in self._by_id}
        missing = [i for i in ids if i not in found]
        if missing:

            def work(session: Session) -> list[LiveAsset]:
                return [
                    _record(r)
                    for r in session.execute(select(*_COLUMNS).where(Asset.id.in_(missing))).all()
                ]

            for asset in self._keep(read(game.database, work)):
                found[asset.id] = asset
        return found

    def forget(self, symbol: str) -> None:
        """The database said this symbol's record is stale: read it again next time."""
        with self._lock:
            stale = self._by_symbol.pop(symbol, None)
            if stale is not None:
                self._by_id.pop(stale.id, None)

    def _keep(self, assets: list[LiveAsset]) -> list[LiveAsset]:
        with self._lock:
            for asset in assets:
                while len(self._by_id) >= _LIMIT:
                    oldest = self._by_id.pop(next(iter(self._by_id)))
                    if self._by_symbol.get(oldest.symbol) is oldest:
                        del self._by_symbol[oldest.symbol]
                self._by_id[asset.id] = asset
                self._by_symbol[asset.symbol] = asset
        return assets


_CACHES: weakref.WeakKeyDictionary[Engine, AssetCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def cache_of(game: Game) -> AssetCache:
    """The cache of the game's database (one per engine, as ids are per database)."""
    with _CACHES_LOCK:
        cache = _CACHES.get(game.database)
        if cache is None:
            cache = _CACHES[game.database] = AssetCache()
        return cache
