"""Settlement: every holder of a finished asset is paid quantity x S(end_tick), exactly once.

Settlement is one path for both endings (expiry and the worthless rule): the asset's ``end_tick`` is
fixed by its path at birth, and settling means crediting every holder with a handful of set-based
statements, in one transaction that first flips the asset from live to settled with a guarded
UPDATE. A second run, or a second engine racing the first, finds nothing to flip and does nothing;
the UNIQUE (player, asset) on settlements makes a double credit impossible anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import ColumnElement, Integer, cast, func, insert, literal, null, select, update
from sqlalchemy.orm import Session

from . import ledger
from .game import Game, tick_at
from .models import LIVE, SETTLED, Asset, Holding, Player, PriceTick, Settlement
from .money import VALUE_DIVISOR
from .transaction_utils import changed_rows, muldiv, run_in_transaction


def _house() -> ColumnElement[int]:
    """The house (no player) as a typed NULL, so INSERT..SELECT needs no guessing of its type."""
    return cast(null(), Integer).label("player_id")


def _usd() -> ColumnElement[int]:
    return cast(null(), Integer).label("asset_id")


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


def settle_asset(
    game: Game, asset_id: int, *, fence: Callable[[Session], object] | None = None
) -> SettlementReport | None:
    """Settle every holding of a finished asset at S(end_tick); None if there was nothing to do.

    ``fence`` runs first inside the transaction and raises to refuse it (the market engine checks
    that it still holds the leadership term there).
    """

    def work(session: Session) -> SettlementReport | None:
        if fence is not None:
            fence(session)
        return _settle(session, game, asset_id)

    return run_in_transaction(game.database, work)


def _settle(session: Session, game: Game, asset_id: int) -> SettlementReport | None:
    asset = session.get(Asset, asset_id)
    now = game.clock.now()
    if asset is None or asset.status != LIVE or tick_at(asset, now) < asset.end_tick:
        return None
    final_price = game.path(asset).price(asset.end_tick)
    # the guarded flip: of all racers exactly one sees rowcount 1; it also waits for every trade
    # holding a shared lock on the asset, so their holdings are visible to the statements below
    flipped = changed_rows(
        session,
        update(Asset)
        .where(Asset.id == asset_id, Asset.status == LIVE)
        .values(status=SETTLED, final_tick=asset.end_tick, final_price=final_price, settled_at=now),
    )
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
    entry_id = ledger.open_entry(session, kind="settlement", at=now, asset_id=asset_id)
    _record_settlements(session, asset_id, final_price, now, entry_id)
    mine = Settlement.asset_id == asset_id
    units = literal(asset_id).label("asset_id")
    ledger.post_selected(
        session,
        entry_id,
        [
            # each holder: cash in, units out; the house: the opposite, in one row per unit
            select(Settlement.player_id, _usd(), Settlement.value.label("amount")).where(mine),
            select(Settlement.player_id, units, (-Settlement.quantity).label("amount")).where(mine),
            select(_house(), _usd(), (-func.sum(Settlement.value)).label("amount")).where(mine),
            select(_house(), units, func.sum(Settlement.quantity).label("amount")).where(mine),
        ],
    )
    _pay_holders(session, asset_id)
    count, quantity, total = session.execute(
        select(func.count(), func.sum(Settlement.quantity), func.sum(Settlement.value)).where(mine)
    ).one()
    return replace(report, holders=count, quantity=int(quantity), value=int(total))


def _record_settlements(
    session: Session, asset_id: int, final_price: int, now: datetime, entry_id: int
) -> None:
    """One settlement row per open holding: the business record the postings are computed from."""
    value = muldiv(Holding.quantity, literal(final_price), literal(VALUE_DIVISOR))
    session.execute(
        insert(Settlement).from_select(
            [
                "player_id", "asset_id", "quantity", "price", "value", "cost_basis",
                "realized_pnl", "settled_at", "entry_id",
            ],
            select(
                Holding.player_id, Holding.asset_id, Holding.quantity, literal(final_price), value,
                Holding.cost_basis, value - Holding.cost_basis,
                literal(now, Settlement.settled_at.type), literal(entry_id),
            ).where(Holding.asset_id == asset_id, Holding.quantity > 0),
        )
    )  # fmt: skip


def _pay_holders(session: Session, asset_id: int) -> None:
    """Move the cached balances the postings just justified: cash and P&L up, holdings to zero."""
    mine = Settlement.asset_id == asset_id
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
