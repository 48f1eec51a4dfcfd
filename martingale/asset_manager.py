"""Asset lifecycle: birth, price-tick persistence, expiry and settlement, pool refill.

Settlement is one path for both endings (expiry and the worthless rule): the asset's ``end_tick`` is
fixed by its path at birth, and settling means crediting every holder quantity x S(end_tick) with a
handful of set-based statements, in one transaction that first flips the asset from live to settled
with a guarded UPDATE. A second run, or a second engine racing the first, finds nothing to flip and
does nothing; the UNIQUE (player, asset) on settlements makes a double credit impossible anyway.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, func, insert, literal, select, update
from sqlalchemy.orm import Session

from .game import Game, tick_at
from .models import (
    LIVE,
    SETTLED,
    Asset,
    Holding,
    JournalEntry,
    Player,
    Posting,
    PriceTick,
    Settlement,
    SymbolLease,
)
from .money import PRICE_SCALE, VALUE_DIVISOR
from .price_client import PathParams, PricePath, commitment
from .transaction_utils import muldiv, run_in_transaction
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


@dataclass(frozen=True)
class SettlementReport:
    asset_id: int
    symbol: str
    final_tick: int
    final_price: int
    holders: int
    quantity: int
    value: int
    worthless: bool
    seed_hex: str


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
        taken = session.execute(
            update(SymbolLease)
            .where(SymbolLease.symbol == symbol, SymbolLease.reusable_after <= now)
            .values(reusable_after=reusable_after)
            .execution_options(synchronize_session=False)
        ).rowcount
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


def refill_pool(game: Game) -> list[Asset]:
    """Create as many assets as the pool lacks, in one transaction."""

    def work(session: Session) -> list[Asset]:
        live = session.scalar(select(func.count()).select_from(Asset).where(Asset.status == LIVE))
        now = game.clock.now()
        return [
            create_asset(session, game, now) for _ in range(game.settings.pool_size - (live or 0))
        ]

    return run_in_transaction(game.engine, work)


def live_assets(session: Session) -> list[Asset]:
    return list(session.scalars(select(Asset).where(Asset.status == LIVE).order_by(Asset.id)))


@dataclass(frozen=True)
class TickState:
    latest: dict[int, tuple[int, int]]  # asset id -> (tick, price) now
    due: list[int]  # assets whose trading has ended and that await settlement
    live: int


def persist_ticks(session: Session, game: Game) -> TickState:
    """Store every elapsed tick of every live asset, up to its end; report what is due."""
    now = game.clock.now()
    assets = live_assets(session)
    stored = dict(
        session.execute(
            select(PriceTick.asset_id, func.max(PriceTick.tick))
            .where(PriceTick.asset_id.in_([a.id for a in assets]))
            .group_by(PriceTick.asset_id)
        ).all()
    )
    rows, latest, due = [], {}, []
    for asset in assets:
        current = tick_at(asset, now)
        upto = min(current, asset.end_tick)
        path = game.path(asset)
        for k in range(stored.get(asset.id, -1) + 1, upto + 1):
            rows.append({"asset_id": asset.id, "tick": k, "price": path.price(k)})
        latest[asset.id] = (upto, path.price(max(0, upto)))
        if current >= asset.end_tick:
            due.append(asset.id)
    if rows:
        session.execute(insert(PriceTick), rows)
    return TickState(latest=latest, due=due, live=len(assets))


def settle_asset(game: Game, asset_id: int) -> SettlementReport | None:
    """Settle every holding of a finished asset at S(end_tick); None if there was nothing to do."""
    return run_in_transaction(game.engine, lambda session: _settle(session, game, asset_id))


def _settle(session: Session, game: Game, asset_id: int) -> SettlementReport | None:
    asset = session.get(Asset, asset_id)
    now = game.clock.now()
    if asset is None or asset.status != LIVE or tick_at(asset, now) < asset.end_tick:
        return None
    final_price = game.path(asset).price(asset.end_tick)
    # the guarded flip: of all racers exactly one sees rowcount 1; it also waits for every trade
    # holding a shared lock on the asset, so their holdings are visible to the statements below
    flipped = session.execute(
        update(Asset)
        .where(Asset.id == asset_id, Asset.status == LIVE)
        .values(status=SETTLED, final_tick=asset.end_tick, final_price=final_price, settled_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if flipped != 1:
        return None
    holders = select(Holding.player_id).where(Holding.asset_id == asset_id, Holding.quantity > 0)
    # lock holders in id order so concurrent settlements of different assets cannot deadlock
    locked = session.execute(
        select(Player.id).where(Player.id.in_(holders)).order_by(Player.id).with_for_update()
    ).all()
    report = SettlementReport(
        asset_id=asset_id, symbol=asset.symbol, final_tick=asset.end_tick, final_price=final_price,
        holders=0, quantity=0, value=0, worthless=final_price < asset.worthless_price,
        seed_hex=asset.seed.hex(),
    )  # fmt: skip
    if session.get(PriceTick, (asset_id, asset.end_tick)) is None:
        session.add(PriceTick(asset_id=asset_id, tick=asset.end_tick, price=final_price))
    game.paths.forget(asset_id)
    if not locked:  # nobody held it: no money moves, no journal entry
        return report
    entry = JournalEntry(kind="settlement", asset_id=asset_id, created_at=now)
    session.add(entry)
    session.flush()

    value = muldiv(Holding.quantity, literal(final_price), literal(VALUE_DIVISOR))
    session.execute(
        insert(Settlement).from_select(
            [
                "player_id",
                "asset_id",
                "quantity",
                "price",
                "value",
                "cost_basis",
                "realized_pnl",
                "settled_at",
                "entry_id",
            ],
            select(
                Holding.player_id,
                Holding.asset_id,
                Holding.quantity,
                literal(final_price),
                value,
                Holding.cost_basis,
                value - Holding.cost_basis,
                literal(now, Settlement.settled_at.type),
                literal(entry.id),
            ).where(Holding.asset_id == asset_id, Holding.quantity > 0),
        )
    )
    mine = and_(Settlement.asset_id == asset_id)
    legs = [
        select(literal(entry.id), Settlement.player_id, literal(None), Settlement.value)
        .where(mine, Settlement.value > 0),
        select(literal(entry.id), Settlement.player_id, literal(asset_id), -Settlement.quantity)
        .where(mine),
        select(literal(entry.id), literal(None), literal(None), -func.sum(Settlement.value))
        .where(mine).having(func.sum(Settlement.value) > 0),
        select(literal(entry.id), literal(None), literal(asset_id), func.sum(Settlement.quantity))
        .where(mine).having(func.count() > 0),
    ]  # fmt: skip
    for leg in legs:
        session.execute(
            insert(Posting).from_select(["entry_id", "player_id", "asset_id", "amount"], leg)
        )
    credited = (
        select(Settlement.value).where(mine, Settlement.player_id == Player.id).scalar_subquery()
    )
    realized = (
        select(Settlement.realized_pnl)
        .where(mine, Settlement.player_id == Player.id)
        .scalar_subquery()
    )
    session.execute(
        update(Player)
        .where(Player.id.in_(select(Settlement.player_id).where(mine)))
        .values(cash=Player.cash + credited, realized_pnl=Player.realized_pnl + realized)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Holding)
        .where(Holding.asset_id == asset_id, Holding.quantity > 0)
        .values(quantity=0, cost_basis=0)
        .execution_options(synchronize_session=False)
    )
    count, quantity, total = session.execute(
        select(func.count(), func.sum(Settlement.quantity), func.sum(Settlement.value)).where(mine)
    ).one()
    return replace(report, holders=count, quantity=int(quantity), value=int(total))
