"""What an operator does by hand: see the live assets, settle what is due, refill the pool, and
halt or resume trading.

Settling and refilling are the engine's own writes (fenced by its leadership term), so a command
does them only as the engine: it takes the leader lock, claims a term, does the one job and lets
go. While a market engine runs and leads, the command refuses instead: that engine does the same
job within a tick, and two engines fighting over the term would only stall both.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from .asset_manager import refill_pool
from .engine import MarketEngine, StepReport
from .game import Game, expires_at, quoted_tick, tick_at
from .models import LIVE, Asset, Holding, MarketControl
from .transaction_utils import changed_rows, read, run_in_transaction


class EngineRunning(Exception):
    """A market engine leads: the operator's command would race it."""


@dataclass(frozen=True)
class AssetRow:
    id: int
    symbol: str
    price: int
    born_at: datetime
    expires_at: datetime
    due: bool  # trading has ended, the settlement has not run yet
    holders: int
    open_units: int


def live_assets(game: Game) -> list[AssetRow]:
    """The live assets with what is held of each (open interest), oldest first."""

    def work(session: Session) -> list[AssetRow]:
        now = game.clock.now()
        held = dict(
            (aid, (n, units))
            for aid, n, units in session.execute(
                select(Holding.asset_id, func.count(), func.sum(Holding.quantity))
                .join(Asset, Asset.id == Holding.asset_id)
                .where(Asset.status == LIVE)
                .group_by(Holding.asset_id)
            )
        )
        rows = []
        for asset in session.scalars(Asset.live()):
            holders, units = held.get(asset.id, (0, 0))
            rows.append(
                AssetRow(
                    id=asset.id,
                    symbol=asset.symbol,
                    price=game.path(asset).price(quoted_tick(asset, now)),
                    born_at=asset.born_at,
                    expires_at=expires_at(asset),
                    due=tick_at(asset, now) >= asset.end_tick,
                    holders=int(holders),
                    open_units=int(units),  # SUM over bigint is numeric on PostgreSQL
                )
            )
        return rows

    return read(game.database, work)


@contextmanager
def leading(game: Game) -> Iterator[MarketEngine]:
    """Act as the market engine for one job, or refuse while another engine leads."""
    engine = MarketEngine(game)
    if not engine.lock.try_acquire():
        raise EngineRunning(
            "a market engine is running and leads: it settles due assets and refills the pool "
            "itself within a tick (stop it first to do this by hand)"
        )
    try:
        engine.claim()
        yield engine
    finally:
        engine.lock.release()


def settle_due(game: Game) -> StepReport:
    """One engine step: store elapsed ticks, settle every due asset, refill the pool."""
    with leading(game) as engine:
        return engine.step()


def refill(game: Game) -> list[Asset]:
    with leading(game) as engine:
        return refill_pool(game, fence=engine.fence)


@dataclass(frozen=True)
class TradingState:
    halted: bool
    reason: str | None
    changed_at: datetime | None


def trading_state(game: Game) -> TradingState:
    row = read(game.database, lambda s: s.get(MarketControl, 1))
    if row is None:  # migration 0009 writes the row; a database emptied by hand has none: open
        return TradingState(False, None, None)
    return TradingState(row.trading_halted, row.reason, row.changed_at)


def set_trading(game: Game, *, halted: bool, reason: str | None = None) -> TradingState:
    """Halt (or resume) every trade path at once. On return no trade is still in flight.

    The switch commits first: from then on the trigger refuses every new trade. Then a SHARE lock on
    ``trades`` waits for the trades already past the trigger, whose transactions hold the table's
    ROW EXCLUSIVE lock until they end (SQLite: its one writer already ran them).
    """
    now = game.clock.now()

    def flip(session: Session) -> None:
        values = {"trading_halted": halted, "reason": reason if halted else None, "changed_at": now}
        changed = changed_rows(
            session, update(MarketControl).where(MarketControl.id == 1).values(**values)
        )
        if not changed:  # the row is gone (a database emptied by hand): the switch must still hold
            session.add(MarketControl(id=1, **values))

    run_in_transaction(game.database, flip)
    if halted and game.database.dialect.name == "postgresql":
        with game.database.begin() as conn:
            conn.execute(text("LOCK TABLE trades IN SHARE MODE"))
    state = TradingState(halted, reason if halted else None, now)
    game.events.publish(
        "market_status", {"trading": "halted" if halted else "open", "reason": state.reason}
    )
    return state
