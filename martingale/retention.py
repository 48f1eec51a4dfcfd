"""Retention: a settled asset's stored ticks are dropped after a configurable age.

price_ticks grows by one row per live asset per second (about 1.4 million a day with 16 assets).
Once an asset has settled and its seed is revealed, every one of its prices is a function of that
seed (price_path.py), so the rows add nothing a reader cannot recompute: history and proofs of a
compacted asset are answered from the seed, and they answer exactly what the rows said (tests).
The first and the final tick stay stored, so what settlement wrote is still there to compare.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, delete, select, update
from sqlalchemy.orm import Session

from .game import Game
from .models import SETTLED, Asset, PriceTick
from .transaction_utils import changed_rows, run_in_transaction

BATCH = 50  # assets per transaction: short transactions, never one that holds the table for long


@dataclass(frozen=True)
class Compaction:
    assets: int
    ticks_dropped: int


def compact_ticks(game: Game, older_than: timedelta, *, batch: int = BATCH) -> Compaction:
    """Drop the stored ticks of assets settled more than ``older_than`` ago, a batch at a time."""
    cutoff = game.clock.now() - older_than
    assets = dropped = 0

    def one_batch(session: Session) -> tuple[int, int]:
        now = game.clock.now()
        due = select(Asset.id).where(
            Asset.status == SETTLED,
            Asset.settled_at < cutoff,
            Asset.ticks_compacted_at.is_(None),
        )
        ids = list(session.scalars(due.order_by(Asset.id).limit(batch)))
        if not ids:
            return 0, 0
        end_tick = select(Asset.end_tick).where(Asset.id == PriceTick.asset_id).scalar_subquery()
        removed = changed_rows(
            session,
            delete(PriceTick).where(
                and_(PriceTick.asset_id.in_(ids), PriceTick.tick > 0, PriceTick.tick < end_tick)
            ),
        )
        # the guard repeats the selection: a second compactor that got here first makes this a no-op
        changed_rows(
            session,
            update(Asset)
            .where(Asset.id.in_(ids), Asset.ticks_compacted_at.is_(None))
            .values(ticks_compacted_at=now),
        )
        return len(ids), removed

    while True:
        count, rows = run_in_transaction(game.database, one_batch)
        if not count:
            return Compaction(assets, dropped)
        assets, dropped = assets + count, dropped + rows
