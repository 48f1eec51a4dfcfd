"""The double-entry journal: every movement of cash or units is one balanced entry.

An entry's postings sum to zero in each unit (USD, and each asset). ``post`` refuses an unbalanced
entry before it reaches the database; the reconcile command re-proves the rule over the whole journal.
Nothing here commits: the calling service owns the transaction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert
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


def post(
    session: Session,
    *,
    kind: str,
    legs: list[Leg],
    at: datetime,
    player_id: int | None = None,
    asset_id: int | None = None,
) -> int:
    totals: dict[int | None, int] = defaultdict(int)
    for leg in legs:
        totals[leg.asset_id] += leg.amount
    if any(totals.values()):
        raise UnbalancedEntry(f"{kind} entry does not balance: {dict(totals)}")
    entry = JournalEntry(kind=kind, player_id=player_id, asset_id=asset_id, created_at=at)
    session.add(entry)
    session.flush()
    session.execute(
        insert(Posting),
        [
            {"entry_id": entry.id, "player_id": leg.player_id, "asset_id": leg.asset_id,
             "amount": leg.amount}
            for leg in legs
            if leg.amount
        ],
    )  # fmt: skip
    return entry.id


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
    legs = [Leg(player_id, USD, cash_to_player), Leg(HOUSE, USD, -cash_to_player)]
    if asset_id is not None:
        legs += [Leg(player_id, asset_id, units_to_player), Leg(HOUSE, asset_id, -units_to_player)]
    return post(session, kind=kind, legs=legs, at=at, player_id=player_id, asset_id=asset_id)
