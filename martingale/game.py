"""The service context: what every service function needs besides its own arguments.

Routes, socket events, the engine, the simulator and tests all build or receive one ``Game`` and
call the same service functions with it.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from random import Random
from typing import Any

from sqlalchemy import Engine

from .clock import Clock, SystemClock
from .models import Asset
from .money import PRICE_SCALE, USD_SCALE, to_atoms
from .price_client import PathCache, PathParams, PricePath

log = logging.getLogger(__name__)

Listener = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class GameSettings:
    initial_cash: int
    pool_size: int
    tick_us: int
    lifetime_min_s: Decimal
    lifetime_max_s: Decimal
    lifetime_mean_s: Decimal
    worthless_price: int
    excluded_symbols: frozenset[str] = frozenset()
    secret_key: str = ""
    password_hash_method: str = "scrypt:32768:8:1"  # noqa: S105 (a method name, not a secret)
    access_token_seconds: int = 900
    refresh_token_seconds: int = 30 * 86_400
    web_session_seconds: int = 12 * 3600

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> GameSettings:
        return cls(
            initial_cash=to_atoms(Decimal(config["INITIAL_CASH"]), USD_SCALE),
            pool_size=int(config["MARTINGALE_POOL_SIZE"]),
            tick_us=int(Decimal(config["MARTINGALE_TICK_SECONDS"]) * 1_000_000),
            lifetime_min_s=Decimal(config["MARTINGALE_LIFETIME_MIN_SECONDS"]),
            lifetime_max_s=Decimal(config["MARTINGALE_LIFETIME_MAX_SECONDS"]),
            lifetime_mean_s=Decimal(config["MARTINGALE_LIFETIME_MEAN_SECONDS"]),
            worthless_price=to_atoms(Decimal(config["MARTINGALE_WORTHLESS_PRICE"]), PRICE_SCALE),
            excluded_symbols=frozenset(config.get("MARTINGALE_EXCLUDED_SYMBOLS", ())),
            secret_key=str(config["SECRET_KEY"]),
            password_hash_method=config.get("MARTINGALE_PASSWORD_HASH", "scrypt:32768:8:1"),
            access_token_seconds=int(config.get("MARTINGALE_ACCESS_TOKEN_SECONDS", 900)),
            refresh_token_seconds=int(config.get("MARTINGALE_REFRESH_TOKEN_DAYS", 30)) * 86_400,
            web_session_seconds=int(config.get("PERMANENT_SESSION_LIFETIME", 12 * 3600)),
        )


class EventBus:
    """Fan-out of committed facts (ticks, births, settlements, trades) to whoever listens."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def publish(self, name: str, payload: dict[str, Any]) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(name, payload)
            except Exception:  # a listener's bug must not undo a committed fact
                log.exception("event listener failed on %s", name)


@dataclass
class Game:
    engine: Engine
    settings: GameSettings
    clock: Clock = field(default_factory=SystemClock)
    paths: PathCache = field(default_factory=PathCache)
    events: EventBus = field(default_factory=EventBus)
    rng: Random = field(default_factory=secrets.SystemRandom)

    def path(self, asset: Asset) -> PricePath:
        params = PathParams(
            seed=asset.seed,
            initial_price=asset.initial_price,
            drift=Decimal(asset.drift),
            volatility=Decimal(asset.volatility),
        )
        return self.paths.get(asset.id, params)

    def price_at(self, asset: Asset, at: datetime) -> int:
        """The asset's quoted price at an instant, in atoms."""
        return self.path(asset).price(quoted_tick(asset, at))


def tick_at(asset: Asset, now: datetime) -> int:
    """Whole tick intervals since the asset's birth (negative before it)."""
    elapsed = now - asset.born_at
    elapsed_us = (elapsed.days * 86_400 + elapsed.seconds) * 1_000_000 + elapsed.microseconds
    return elapsed_us // asset.tick_us


def tick_time(asset: Asset, tick: int) -> datetime:
    return asset.born_at + timedelta(microseconds=tick * asset.tick_us)


def quoted_tick(asset: Asset, at: datetime) -> int:
    """The tick whose price is the asset's quote at ``at``: held at 0 before birth, at the end after."""
    return max(0, min(tick_at(asset, at), asset.end_tick))


def expires_at(asset: Asset) -> datetime:
    return tick_time(asset, asset.expiry_tick)
