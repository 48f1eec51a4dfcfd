"""The pool of assets: birth (parameters, seed commitment, symbol, colour), refill, and storing
each elapsed price tick. Settlement of a finished asset lives in ``settlement``."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from .game import Game, tick_at
from .models import LIVE, Asset, PriceTick, SymbolLease
from .money import PRICE_SCALE
from .price_path import PathParams, PricePath, commitment
from .transaction_utils import changed_rows, run_in_transaction
from .validators import RESERVED_SYMBOLS

PALETTE = (
    "#f7931a", "#627eea", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#ff7f0e", "#1f77b4", "#bcbd22", "#ff6384", "#36a2eb", "#ffce56", "#4bc0c0", "#ff9f40",
    "#9966ff", "#c9cbcf", "#00d084", "#fe6b8b",
)  # fmt: skip
SYMBOL_REUSE_AFTER = timedelta(hours=24)
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_SYMBOL_ATTEMPTS = 1000


@dataclass(frozen=True)
class Draw:
    drift: Decimal
    volatility: Decimal
    initial_price: int
    lifetime_s: Decimal


def draw_parameters(game: Game) -> Draw:
    """Spec 3.2 priors and the issue's lifetime rule, from the game's CSPRNG."""
    rng, s = game.rng, game.settings
    drift = rng.gauss(-0.001, 0.001)
    volatility = min(1.0, math.exp(rng.gauss(math.log(0.05), 0.5)))
    drift = max(-volatility, min(volatility, drift))  # mu clipped to +-sigma, as upstream
    while True:
        initial = math.exp(rng.gauss(math.log(100) - 0.5, 1.0))
        if initial >= 2 * s.worthless_price / PRICE_SCALE:
            break
    lifetime = Decimal(repr(rng.expovariate(1 / float(s.lifetime_mean_s))))
    lifetime = min(s.lifetime_max_s, max(s.lifetime_min_s, lifetime))
    # parameters are fixed to published decimal strings; the path uses exactly these
    return Draw(
        drift=Decimal(f"{drift:.12f}"),
        volatility=Decimal(f"{volatility:.12f}"),
        initial_price=int(Decimal(f"{initial:.8f}") * PRICE_SCALE),
        lifetime_s=lifetime,
    )


def _lease_symbol(session: Session, game: Game, now: datetime, reusable_after: datetime) -> str:
    excluded = RESERVED_SYMBOLS | game.settings.excluded_symbols
    for _ in range(_SYMBOL_ATTEMPTS):
        symbol = "".join(game.rng.choice(_LETTERS) for _ in range(3))
        if symbol in excluded:
            continue
        lease = session.get(SymbolLease, symbol)
        if lease is None:
            session.add(SymbolLease(symbol=symbol, reusable_after=reusable_after))
            session.flush()
            return symbol
        taken = changed_rows(
            session,
            update(SymbolLease)
            .where(SymbolLease.symbol == symbol, SymbolLease.reusable_after <= now)
            .values(reusable_after=reusable_after),
        )
        if taken == 1:
            return symbol
    raise RuntimeError("no free symbol after 1000 draws")


def _pick_color(session: Session, game: Game) -> str:
    used = set(session.scalars(select(Asset.color).where(Asset.status == LIVE)))
    free = [c for c in PALETTE if c not in used]
    if not free:  # more live assets than palette colours: spread extra hues evenly
        free = [f"#{(i * 2654435761) & 0xFFFFFF:06x}" for i in range(1, 4096)]
        free = [c for c in free if c not in used]
    return game.rng.choice(free)


def create_asset(session: Session, game: Game, now: datetime, draw: Draw | None = None) -> Asset:
    """Birth: draw parameters and a seed, commit to the seed, fix the path's end, lease a symbol."""
    draw = draw or draw_parameters(game)
    tick_us = game.settings.tick_us
    expiry_tick = max(1, math.ceil(draw.lifetime_s * 1_000_000 / tick_us))
    expires_at = now + timedelta(microseconds=expiry_tick * tick_us)
    seed = game.rng.randbytes(32)
    params = PathParams(seed, draw.initial_price, draw.drift, draw.volatility)
    end_tick = PricePath(params).end_tick(expiry_tick, game.settings.worthless_price)
    asset = Asset(
        symbol=_lease_symbol(session, game, now, expires_at + SYMBOL_REUSE_AFTER),
        color=_pick_color(session, game),
        status=LIVE,
        seed=seed,
        seed_commitment=commitment(seed),
        drift=str(draw.drift),
        volatility=str(draw.volatility),
        initial_price=draw.initial_price,
        born_at=now,
        tick_us=tick_us,
        expiry_tick=expiry_tick,
        worthless_price=game.settings.worthless_price,
        end_tick=end_tick,
    )
    session.add(asset)
    session.flush()
    session.add(PriceTick(asset_id=asset.id, tick=0, price=draw.initial_price))
    return asset


def refill_pool(game: Game, *, fence: Callable[[Session], object] | None = None) -> list[Asset]:
    """Create as many assets as the pool lacks, in one transaction (``fence`` runs first in it)."""

    def work(session: Session) -> list[Asset]:
        if fence is not None:
            fence(session)
        live = session.scalar(select(func.count()).select_from(Asset).where(Asset.status == LIVE))
        now = game.clock.now()
        return [
            create_asset(session, game, now) for _ in range(game.settings.pool_size - (live or 0))
        ]

    return run_in_transaction(game.database, work)


@dataclass(frozen=True)
class TickState:
    latest: dict[int, tuple[int, int]]  # asset id -> (tick, price) now
    due: list[int]  # assets whose trading has ended and that await settlement
    live: int
    moved: frozenset[int] = frozenset()  # assets whose tick is later than at ``since``


def persist_ticks(
    session: Session, game: Game, *, now: datetime | None = None, since: datetime | None = None
) -> TickState:
    """Store every elapsed tick of every live asset, up to its end; report what is due.

    ``moved`` lists the assets whose tick at ``now`` is later than at ``since`` (all when None):
    the market engine publishes a tick once, even when the previous step was another engine's.
    """
    now = now or game.clock.now()
    assets = list(session.scalars(Asset.live()))
    stored = dict(
        session.execute(
            select(PriceTick.asset_id, func.max(PriceTick.tick))
            .where(PriceTick.asset_id.in_([a.id for a in assets]))
            .group_by(PriceTick.asset_id)
        ).all()
    )
    rows, latest, due, moved = [], {}, [], set()
    for asset in assets:
        current = tick_at(asset, now)
        upto = min(current, asset.end_tick)
        path = game.path(asset)
        for k in range(stored.get(asset.id, -1) + 1, upto + 1):
            rows.append({"asset_id": asset.id, "tick": k, "price": path.price(k)})
        latest[asset.id] = (upto, path.price(max(0, upto)))
        if since is None or upto > min(tick_at(asset, since), asset.end_tick):
            moved.add(asset.id)
        if current >= asset.end_tick:
            due.append(asset.id)
    if rows:
        session.execute(insert(PriceTick), rows)
    return TickState(latest=latest, due=due, live=len(assets), moved=frozenset(moved))
