"""A player's public profile: what anyone may see of a player, found by their display name.

Public means what the tape and the leaderboard already show, gathered in one place: the display
name, when they joined, their standing and return, their account's P&L over the last hour, their
latest trades and how their settled positions went. Never the username, an id, an idempotency key
or the cash they hold.

The rank is the engine's last ranking pass's (leaderboard.py), as the leaderboard shows it. The
P&L and return are now's, valued the way a pass values a player (cash less the grant plus open
holdings of live assets at the current prices), so they are where the curve ends; the leaderboard
row they were opened from is at most one pass (a few seconds) older. Everything is read in one snapshot, with
a handful of indexed statements whatever the player's history: counts and the best and worst
settlement are computed by the database, and only the curve replays events in Python (the last
hour's, as ``reports.performance_history`` does).

A deleted account is nobody's profile: its names are placeholders (account_deletion.py), and
``deleted_at`` keeps even the placeholder from being looked up.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from .errors import UnknownPlayer
from .game import Game
from .models import (
    LIVE,
    Asset,
    Holding,
    LeaderboardPass,
    LeaderboardRank,
    Player,
    Settlement,
    Trade,
)
from .money import value_floor
from .names import MAX_LENGTH
from .reports import values_over_time
from .transaction_utils import read

LATEST_TRADES = 20
CURVE_POINTS = 90  # the page draws an hour's line; more points than pixels buy nothing


@dataclass(frozen=True)
class PublicTrade:
    """A trade as the tape shows it, without its id or its trader."""

    symbol: str
    side: str
    quantity: int
    price: int
    total: int
    executed_at: datetime


@dataclass(frozen=True)
class SettledPosition:
    symbol: str
    realized_pnl: int
    price: int  # the settlement price
    settled_at: datetime


@dataclass(frozen=True)
class PnlPoint:
    t: datetime
    pnl: int  # account value minus the grant, USD atoms


@dataclass(frozen=True)
class Profile:
    name: str
    joined_at: datetime
    total_pnl: int  # USD atoms, at the prices of ``as_of``
    granted: int  # the baseline of the return
    as_of: datetime  # now: the curve's last point, and the figures above it, are this instant's
    rank: int | None  # in the last ranking pass; None until a pass has ranked the player
    ranked_at: datetime | None  # when that pass priced the holdings
    players: int  # how many players the last pass ranked
    curve: tuple[PnlPoint, ...]  # oldest first, ending now
    trades: tuple[PublicTrade, ...]  # newest first
    settled: int  # settled positions
    wins: int  # of them, those that made money
    best: SettledPosition | None
    worst: SettledPosition | None


def _extreme(session: Session, player_id: int, best: bool) -> SettledPosition | None:
    order = Settlement.realized_pnl.desc() if best else Settlement.realized_pnl.asc()
    row = session.execute(
        select(Asset.symbol, Settlement.realized_pnl, Settlement.price, Settlement.settled_at)
        .join(Asset, Asset.id == Settlement.asset_id)
        .where(Settlement.player_id == player_id)
        .order_by(order, Settlement.id)  # a tie goes to the earlier settlement
        .limit(1)
    ).first()
    return SettledPosition(*row) if row else None


def _marked_now(session: Session, game: Game, player_id: int, now: datetime) -> int:
    """Open holdings at the current prices, as a ranking pass marks them."""
    rows = session.execute(
        select(Asset, Holding.quantity)
        .join(Holding, Holding.asset_id == Asset.id)
        .where(Holding.player_id == player_id, Holding.quantity > 0, Asset.status == LIVE)
    ).all()
    return sum(value_floor(quantity, game.price_at(asset, now)) for asset, quantity in rows)


def profile(
    game: Game,
    display_name: str,
    *,
    trades: int = LATEST_TRADES,
    points: int = CURVE_POINTS,
) -> Profile:
    """The public profile of the live player shown as ``display_name``; UnknownPlayer if none."""
    # names are stored as NFKC (names.parse_display_name): a link typed another way still finds it
    name = unicodedata.normalize("NFKC", display_name)
    if not 0 < len(name) <= MAX_LENGTH:
        raise UnknownPlayer("no player has this display name")

    def work(session: Session) -> Profile:
        player = session.execute(
            select(
                Player.id, Player.display_name, Player.created_at, Player.cash, Player.granted
            ).where(Player.display_name == name, Player.deleted_at.is_(None))
        ).first()
        if player is None:
            raise UnknownPlayer("no player has this display name")
        rank = session.execute(
            select(LeaderboardRank.rank).where(LeaderboardRank.player_id == player.id)
        ).scalar()
        last_pass = session.execute(
            select(LeaderboardPass.computed_at, LeaderboardPass.players).where(
                LeaderboardPass.id == 1
            )
        ).first()
        now = game.clock.now()
        total_pnl = player.cash - player.granted + _marked_now(session, game, player.id, now)
        latest = session.execute(
            select(
                Asset.symbol, Trade.side, Trade.quantity, Trade.price, Trade.total,
                Trade.executed_at,
            )
            .join(Asset, Asset.id == Trade.asset_id)
            .where(Trade.player_id == player.id)
            .order_by(Trade.executed_at.desc(), Trade.id.desc())
            .limit(trades)
        ).all()  # fmt: skip
        settled, wins = session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((Settlement.realized_pnl > 0, 1), else_=0)), 0),
            ).where(Settlement.player_id == player.id)
        ).one()
        curve = values_over_time(session, game, player.id, points, now)
        return Profile(
            name=player.display_name,
            joined_at=player.created_at,
            total_pnl=total_pnl,
            granted=player.granted,
            as_of=now,
            rank=rank,
            ranked_at=last_pass.computed_at if rank is not None and last_pass else None,
            players=last_pass.players if last_pass else 0,
            curve=tuple(PnlPoint(p.t, p.value - player.granted) for p in curve),
            trades=tuple(PublicTrade(*row) for row in latest),
            settled=settled,
            wins=wins,
            best=_extreme(session, player.id, best=True) if settled else None,
            worst=_extreme(session, player.id, best=False) if settled else None,
        )

    return read(game.database, work)
