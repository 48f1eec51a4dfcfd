"""Prove the books: every invariant of the ledger, checked from the raw rows in one snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import CompoundSelect, Engine, Select, and_, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from .models import (
    SETTLED,
    Asset,
    Holding,
    JournalEntry,
    Player,
    Posting,
    Settlement,
    Trade,
)
from .transaction_utils import read

_LIMIT = 20  # offenders listed per check


@dataclass(frozen=True)
class Check:
    name: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _rows(
    session: Session, stmt: Select[*tuple[Any, ...]] | CompoundSelect[*tuple[Any, ...]]
) -> tuple[str, ...]:
    """The first offending rows of a check's query (none: the check passes)."""
    return tuple(str(tuple(r)) for r in session.execute(stmt.limit(_LIMIT)).all())


def _checks(session: Session) -> list[Check]:
    usd_sum = (
        select(Posting.player_id, func.sum(Posting.amount).label("total"))
        .where(Posting.asset_id.is_(None), Posting.player_id.is_not(None))
        .group_by(Posting.player_id)
        .subquery()
    )
    unit_sum = (
        select(Posting.player_id, Posting.asset_id, func.sum(Posting.amount).label("total"))
        .where(Posting.asset_id.is_not(None), Posting.player_id.is_not(None))
        .group_by(Posting.player_id, Posting.asset_id)
        .subquery()
    )
    basis = (
        select(Holding.player_id, func.sum(Holding.cost_basis).label("basis"))
        .group_by(Holding.player_id)
        .subquery()
    )
    h = aliased(Holding)
    return [
        Check("entries balance per unit", _rows(session,
            select(Posting.entry_id, Posting.asset_id, func.sum(Posting.amount))
            .group_by(Posting.entry_id, Posting.asset_id)
            .having(func.sum(Posting.amount) != 0))),
        Check("per-unit totals are zero", _rows(session,
            select(Posting.asset_id, func.sum(Posting.amount))
            .group_by(Posting.asset_id).having(func.sum(Posting.amount) != 0))),
        Check("every entry has postings", _rows(session,
            select(JournalEntry.id).where(~select(Posting.id)
            .where(Posting.entry_id == JournalEntry.id).exists()))),
        Check("cash equals the sum of USD postings", _rows(session,
            select(Player.id, Player.cash, usd_sum.c.total)
            .outerjoin(usd_sum, usd_sum.c.player_id == Player.id)
            .where(Player.cash != func.coalesce(usd_sum.c.total, 0)))),
        Check("holdings equal the sum of unit postings", _rows(session,
            select(Holding.player_id, Holding.asset_id, Holding.quantity, unit_sum.c.total)
            .outerjoin(unit_sum, and_(unit_sum.c.player_id == Holding.player_id,
                                      unit_sum.c.asset_id == Holding.asset_id))
            .where(Holding.quantity != func.coalesce(unit_sum.c.total, 0)))),
        Check("no unit postings without a holding row", _rows(session,
            select(unit_sum.c.player_id, unit_sum.c.asset_id, unit_sum.c.total)
            .outerjoin(h, and_(h.player_id == unit_sum.c.player_id,
                               h.asset_id == unit_sum.c.asset_id))
            .where(h.player_id.is_(None), unit_sum.c.total != 0))),
        Check("nothing negative", _rows(session,
            select(literal("cash"), Player.id, Player.cash).where(Player.cash < 0)
            .union_all(select(literal("holding"), Holding.player_id, Holding.quantity)
                       .where(or_(Holding.quantity < 0, Holding.cost_basis < 0))))),
        Check("each holding settled at most once", _rows(session,
            select(Settlement.player_id, Settlement.asset_id, func.count())
            .group_by(Settlement.player_id, Settlement.asset_id).having(func.count() > 1))),
        Check("settled assets have no open holdings", _rows(session,
            select(Holding.player_id, Holding.asset_id, Holding.quantity)
            .join(Asset, Asset.id == Holding.asset_id)
            .where(Asset.status == SETTLED, Holding.quantity != 0))),
        Check("settlements are at the asset's final price", _rows(session,
            select(Settlement.id, Settlement.price, Asset.final_price)
            .join(Asset, Asset.id == Settlement.asset_id)
            .where(or_(Asset.final_price.is_(None), Settlement.price != Asset.final_price)))),
        Check("trades fall before their asset's end", _rows(session,
            select(Trade.id, Trade.tick, Asset.end_tick).join(Asset, Asset.id == Trade.asset_id)
            .where(Trade.tick >= Asset.end_tick))),
        Check("realized P&L = cash + open cost basis - grant", _rows(session,
            select(Player.id, Player.realized_pnl, Player.cash, basis.c.basis, Player.granted)
            .outerjoin(basis, basis.c.player_id == Player.id)
            .where(Player.realized_pnl
                   != Player.cash + func.coalesce(basis.c.basis, 0) - Player.granted))),
        Check("booked realized P&L equals trades plus settlements", _rows(session,
            select(Player.id, Player.realized_pnl).where(Player.realized_pnl != (
                func.coalesce(select(func.sum(Trade.realized_pnl))
                              .where(Trade.player_id == Player.id).scalar_subquery(), 0)
                + func.coalesce(select(func.sum(Settlement.realized_pnl))
                                .where(Settlement.player_id == Player.id).scalar_subquery(), 0))))),
    ]  # fmt: skip


def reconcile(engine: Engine) -> list[Check]:
    """Run every check in one read snapshot."""
    return read(engine, _checks)


def format_report(checks: list[Check]) -> str:
    lines = []
    for check in checks:
        lines.append(f"{'ok  ' if check.ok else 'FAIL'} {check.name}")
        lines.extend(f"       {p}" for p in check.problems)
    failed = sum(not c.ok for c in checks)
    lines.append(f"{len(checks) - failed} of {len(checks)} checks passed")
    return "\n".join(lines)
