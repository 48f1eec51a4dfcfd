"""The double-entry journal: every movement of cash or units is one balanced entry.

An entry's postings sum to zero in each unit (USD, and each asset). Entries are written two ways,
under the same rule:

- ``post``/``transfer``: legs known in Python (a trade, a grant); an unbalanced entry is refused
  before it reaches the database;
- ``post_selected``: legs computed by the database from other rows (a settlement credits every
  holder in a few statements); the entry is proven balanced by a query before the transaction can
  commit.

The reconcile command re-proves the rule over the whole journal. Nothing here commits: the calling
service owns the transaction, so a refused entry rolls back with everything else it did.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, func, insert, literal, select
from sqlalchemy.orm import Session

from .models import JournalEntry, Posting

HOUSE = None  # the house's postings carry no player
USD = None  # USD postings carry no asset


@dataclass(frozen=True)
class Leg:
    player_id: int | None
    asset_id: int | None
    amount: int


class UnbalancedEntry(AssertionError):
    """A programming error: a movement that would create or destroy value."""


def open_entry(
    session: Session,
    *,
    kind: str,
    at: datetime,
    player_id: int | None = None,
    asset_id: int | None = None,
) -> int:
    """Add a journal entry with no postings yet; its id ties the postings and the business row."""
    entry = JournalEntry(kind=kind, player_id=player_id, asset_id=asset_id, created_at=at)
    session.add(entry)
    session.flush()
    return entry.id


def post(
    session: Session,
    *,
    kind: str,
    legs: list[Leg],
    at: datetime,
    player_id: int | None = None,
    asset_id: int | None = None,
) -> int:
    """Write one entry of ``kind`` with ``legs`` and return its id.

    Refuses (``UnbalancedEntry``) unless the legs sum to zero per unit. Zero legs are dropped: a
    posting always moves something. ``player_id`` and ``asset_id`` say whom and what the entry is
    about, for the audit trail.
    """
    _refuse_unbalanced(kind, legs)
    entry_id = open_entry(session, kind=kind, at=at, player_id=player_id, asset_id=asset_id)
    session.execute(
        insert(Posting),
        [
            {"entry_id": entry_id, "player_id": leg.player_id, "asset_id": leg.asset_id,
             "amount": leg.amount}
            for leg in legs
            if leg.amount
        ],
    )  # fmt: skip
    return entry_id


def transfer(
    session: Session,
    *,
    kind: str,
    player_id: int,
    asset_id: int | None,
    cash_to_player: int,
    units_to_player: int,
    at: datetime,
) -> int:
    """Player <-> house: cash one way and (optionally) units of one asset the other."""
    legs = transfer_legs(player_id, asset_id, cash_to_player, units_to_player)
    return post(session, kind=kind, legs=legs, at=at, player_id=player_id, asset_id=asset_id)


def transfer_legs(
    player_id: int, asset_id: int | None, cash_to_player: int, units_to_player: int
) -> list[Leg]:
    """The legs of a player <-> house transfer, zero legs dropped, refused unless balanced.

    A trade's entry (trade_store: the SQLite twin writes these; PostgreSQL's mg_trade writes the
    same four legs in SQL) is at most these four postings.
    """
    legs = [Leg(player_id, USD, cash_to_player), Leg(HOUSE, USD, -cash_to_player)]
    if asset_id is not None:
        legs += [Leg(player_id, asset_id, units_to_player), Leg(HOUSE, asset_id, -units_to_player)]
    _refuse_unbalanced("transfer", legs)
    return [leg for leg in legs if leg.amount]


def _refuse_unbalanced(kind: str, legs: Iterable[Leg]) -> None:
    totals: dict[int | None, int] = defaultdict(int)
    for leg in legs:
        totals[leg.asset_id] += leg.amount
    if any(totals.values()):
        raise UnbalancedEntry(f"{kind} entry does not balance: {dict(totals)}")


def post_selected(
    session: Session, entry_id: int, legs: Iterable[Select[*tuple[Any, ...]]]
) -> None:
    """Write an open entry's postings from SELECTs with columns labelled ``player_id``,
    ``asset_id`` and ``amount`` (NULL player: the house; NULL asset: USD).

    Each SELECT may yield any number of rows (one per holder, or one aggregate for the house);
    rows with a zero amount are dropped. Then the entry is proven balanced in SQL: a refused entry
    raises ``UnbalancedEntry`` inside the caller's transaction, which therefore never commits.
    """
    for leg in legs:
        rows = leg.subquery()
        session.execute(
            insert(Posting).from_select(
                ["entry_id", "player_id", "asset_id", "amount"],
                select(literal(entry_id), rows.c.player_id, rows.c.asset_id, rows.c.amount).where(
                    rows.c.amount != 0
                ),
            )
        )
    prove_balanced(session, entry_id)


def prove_balanced(session: Session, entry_id: int) -> None:
    """Refuse an entry whose stored postings do not sum to zero per unit, or that has none."""
    unbalanced = session.execute(
        select(Posting.asset_id, func.sum(Posting.amount))
        .where(Posting.entry_id == entry_id)
        .group_by(Posting.asset_id)
        .having(func.sum(Posting.amount) != 0)
    ).all()
    if unbalanced:
        raise UnbalancedEntry(f"entry {entry_id} does not balance: {dict(unbalanced)}")
    if not session.scalar(select(exists().where(Posting.entry_id == entry_id))):
        raise UnbalancedEntry(f"entry {entry_id} moves nothing")
