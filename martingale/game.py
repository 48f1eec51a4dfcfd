"""The service context: what every service function needs besides its own arguments.

Routes, socket events, the market engine, the simulator and tests all build or receive one ``Game``
and call the same service functions with it. ``create_app`` stores it in ``app.extensions`` under
``EXTENSION``; request handlers reach it with ``current_game()``.
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

from flask import Flask, current_app
from sqlalchemy import Engine

from .clock import Clock, SystemClock
from .models import Asset
from .money import PRICE_SCALE, USD_SCALE, to_atoms
from .price_path import PathCache, PathParams, PricePath

log = logging.getLogger(__name__)
EXTENSION = "martingale"

Listener = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class GameSettings:
    """The game's rules and secrets, parsed once from the Flask config (defaults: config.py)."""

    initial_cash: int
    pool_size: int
    tick_us: int
    lifetime_min_s: Decimal
    lifetime_max_s: Decimal
    lifetime_mean_s: Decimal
    worthless_price: int
    excluded_symbols: frozenset[str]
    secret_key: str
    password_hash_method: str
    access_token_seconds: int
    refresh_token_seconds: int
    web_session_seconds: int

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
            excluded_symbols=frozenset(config["MARTINGALE_EXCLUDED_SYMBOLS"]),
            secret_key=str(config["SECRET_KEY"]),
            password_hash_method=config["MARTINGALE_PASSWORD_HASH"],
            access_token_seconds=int(config["MARTINGALE_ACCESS_TOKEN_SECONDS"]),
            refresh_token_seconds=int(config["MARTINGALE_REFRESH_TOKEN_DAYS"]) * 86_400,
            web_session_seconds=int(config["PERMANENT_SESSION_LIFETIME"]),
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
    database: Engine
    settings: GameSettings
    clock: Clock = field(default_factory=SystemClock)
    paths: PathCache = field(default_factory=PathCache)
    events: EventBus = field(default_factory=EventBus)
    rng: Random = field(default_factory=secrets.SystemRandom)

    def path(self, asset: Asset) -> PricePath:
        return self.paths.get(asset.id, path_params(asset))

    def price_at(self, asset: Asset, at: datetime) -> int:
        """The asset's quoted price at an instant, in atoms."""
        return self.path(asset).price(quoted_tick(asset, at))


def game_of(app: Flask) -> Game:
    """The game ``create_app`` built for ``app``."""
    game: Game = app.extensions[EXTENSION]
    return game


def current_game() -> Game:
    """The game of the app handling the current request, socket event or CLI command."""
    return game_of(current_app)


def path_params(asset: Asset) -> PathParams:
    """The published parameters of an asset's price path, exactly as the proof states them."""
    return PathParams(
        seed=asset.seed,
        initial_price=asset.initial_price,
        drift=Decimal(asset.drift),
        volatility=Decimal(asset.volatility),
    )


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
