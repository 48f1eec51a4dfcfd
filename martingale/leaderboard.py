"""The leaderboard read model: ranked by the market engine, read cheaply by every web process.

A ranking pass is one set-based statement: every player's cash - granted + open holdings marked at
the current prices, ranked (best first, ties by who joined first) and written whole into
``leaderboard_ranks`` with the pass's tick in ``leaderboard_passes``, in one transaction. The prices
are not read from the database: the engine passes the ones it has just published (the in-process
price paths), sent to the statement as a small VALUES list. A marked holding is worth
``floor(quantity x price / 10^10)``, as a sale would pay (``muldiv``, exact beyond 64 bits).

Readers never compute: the top N is an index range on ``rank``, the caller's own row a primary-key
lookup, both in one snapshot, so a request costs the same with 100 players or 100,000.

The engine runs a pass after a step's ``prices`` are published, every ``MIN_EVERY`` steps, or less
often when a pass would otherwise take more than a quarter of the engine's time (``Ranker``). Each pass publishes ``leaderboard`` (the top ``PUSH_TOP``, display names only) on the
event bus; the bridge broadcasts it, so pages never ask again after their first load.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CompoundSelect,
    Integer,
    Select,
    String,
    bindparam,
    cast,
    delete,
    false,
    func,
    insert,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from .clock import ManualClock
from .game import Game
from .models import (
    LIVE,
    Asset,
    Holding,
    LeaderboardPass,
    LeaderboardRank,
    Player,
    UTCDateTime,
)
from .money import VALUE_DIVISOR
from .transaction_utils import muldiv, read, run_in_transaction

log = logging.getLogger(__name__)

PUSH_TOP = 25  # rows in each ``leaderboard`` push: what the page shows
MAX_TOP = 100  # the most GET /leaderboard serves
PASS_SHARE = 0.25  # at most this share of the engine's time goes to ranking passes
# at least this many steps between passes: a ranking a few seconds old is live enough for people,
# and each pass sends every socket a message (25 rows, about 2 KB; `prices` is about 1.5 KB a tick)
MIN_EVERY = 5


@dataclass(frozen=True)
class Ranking:
    rank: int
    name: str  # the display name: a ranking is public
    total_pnl: int  # USD atoms: value - granted
    granted: int  # USD atoms: the baseline of the percent return


@dataclass(frozen=True)
class Board:
    tick_seq: int | None  # the engine step the ranking was computed after; None before any pass
    as_of: datetime | None
    players: int  # how many players that pass ranked
    top: tuple[Ranking, ...]
    me: Ranking | None = None  # the caller's own row, when asked for and ranked


def _ranking_select(prices: Mapping[int, int]) -> Select[*tuple[Any, ...]]:
    """Every player's (id, rank, name, total P&L, granted), holdings marked at ``prices``."""
    if prices:
        quoted = union_all(
            *(
                select(
                    literal(asset_id, Integer).label("asset_id"),
                    literal(price, BigInteger).label("price"),
                )
                for asset_id, price in sorted(prices.items())
            )
        ).cte("quoted")
    else:
        quoted = (
            select(literal(0, Integer).label("asset_id"), literal(0, BigInteger).label("price"))
            .where(false())
            .cte("quoted")
        )
    # driven by the quoted (live) assets through ix_holdings_asset_id: settled holdings, however
    # many history has left, are never read
    marked = (
        select(
            Holding.player_id.label("player_id"),
            func.sum(muldiv(Holding.quantity, quoted.c.price, VALUE_DIVISOR)).label("value"),
        )
        .select_from(quoted)
        .join(Holding, Holding.asset_id == quoted.c.asset_id)
        .where(Holding.quantity > 0)
        .group_by(Holding.player_id)
        .cte("marked")
    )
    pnl = Player.cash - Player.granted + func.coalesce(marked.c.value, 0)
    return (
        select(
            Player.id,
            func.row_number().over(order_by=(pnl.desc(), Player.id)),
            Player.display_name,
            pnl,
            Player.granted,
        )
        .outerjoin(marked, marked.c.player_id == Player.id)
        .where(Player.deleted_at.is_(None))  # a deleted account plays no more: it is not ranked
    )


def _ranking(row: Any) -> Ranking:
    return Ranking(rank=row.rank, name=row.name, total_pnl=row.total_pnl, granted=row.granted)


def _rows(session: Session, query: Select[*tuple[Any, ...]]) -> tuple[Ranking, ...]:
    return tuple(_ranking(row) for row in session.execute(query))


def _top(limit: int) -> Select[*tuple[Any, ...]]:
    r = LeaderboardRank
    return select(r.rank, r.name, r.total_pnl, r.granted).where(r.rank <= limit).order_by(r.rank)


def rank_players(
    game: Game,
    tick_seq: int,
    prices: Mapping[int, int],
    guard: Callable[[Session], None] | None = None,
) -> Board:
    """One ranking pass: rebuild the stored ranking at ``prices`` (asset id -> price atoms).

    Every live asset must be priced: one without a price would count its holders' units as
    worthless, so any live asset missing from ``prices`` is priced from its path here. ``guard``
    runs first in the pass's transaction (the engine's check that it still leads, if it has one).
    """

    def work(session: Session) -> Board:
        if guard is not None:
            guard(session)
        now = game.clock.now()
        quoted = dict(prices)
        for asset in session.scalars(
            select(Asset).where(Asset.status == LIVE, Asset.id.not_in(list(quoted)))
        ):
            quoted[asset.id] = game.price_at(asset, now)
        started = time.perf_counter()
        session.execute(delete(LeaderboardRank))
        session.execute(
            insert(LeaderboardRank).from_select(
                ["player_id", "rank", "name", "total_pnl", "granted"], _ranking_select(quoted)
            )
        )
        # ranks are 1..n: the count is the last one, read from the rank index (sqlite3 reports no
        # rowcount for an INSERT that starts with WITH)
        players = session.scalar(select(func.max(LeaderboardRank.rank))) or 0
        took_us = int((time.perf_counter() - started) * 1_000_000)
        state = session.get(LeaderboardPass, 1)
        if state is None:
            state = LeaderboardPass(id=1)
            session.add(state)
        state.tick_seq, state.computed_at, state.players, state.took_us = (
            tick_seq, now, players, took_us,
        )  # fmt: skip
        return Board(tick_seq, now, players, _rows(session, _top(PUSH_TOP)))

    return run_in_transaction(game.database, work)


def _board_query(with_me: bool) -> CompoundSelect[*tuple[Any, ...]]:
    """One statement, so one snapshot and one round trip: the pass, the top rows, the caller.

    Parameters ``limit`` and ``player_id``; built once per shape (``_BOARD``).
    """
    p, r = LeaderboardPass, LeaderboardRank
    none_int, none_big = cast(null(), Integer), cast(null(), BigInteger)
    parts = [
        select(
            literal(0).label("part"), p.tick_seq, p.computed_at, p.players,
            none_int.label("rank"), cast(null(), String).label("name"),
            none_big.label("total_pnl"), none_big.label("granted"),
        ).where(p.id == 1),
        select(
            literal(1), none_big, cast(null(), UTCDateTime), none_int,
            r.rank, r.name, r.total_pnl, r.granted,
        ).where(r.rank <= bindparam("limit", type_=Integer)),
    ]  # fmt: skip
    if with_me:
        parts.append(
            select(
                literal(2), none_big, cast(null(), UTCDateTime), none_int,
                r.rank, r.name, r.total_pnl, r.granted,
            ).where(r.player_id == bindparam("player_id", type_=Integer))
        )  # fmt: skip
    return union_all(*parts)


_BOARD = {with_me: _board_query(with_me) for with_me in (False, True)}


def board(game: Game, limit: int, player_id: int | None = None) -> Board:
    """The last pass's top ``limit`` and, when ``player_id`` is given, that player's own row.

    On PostgreSQL the one statement runs outside any explicit transaction (a statement is its own
    snapshot): no BEGIN, no isolation settings, no COMMIT, so a request costs one round trip.
    """
    query = _BOARD[player_id is not None]
    params = {"limit": limit, "player_id": player_id}
    engine = game.database
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            rows = conn.execute(query, params).all()
    else:
        rows = read(engine, lambda session: session.execute(query, params).all())
    state = next((row for row in rows if row.part == 0), None)
    top = tuple(sorted((_ranking(row) for row in rows if row.part == 1), key=lambda x: x.rank))
    me = next((_ranking(row) for row in rows if row.part == 2), None)
    if state is None:
        return Board(None, None, 0, top, me)
    return Board(state.tick_seq, state.computed_at, state.players, top, me)


class Ranker:
    """The engine's side: a pass every ``every`` steps, or as often as ``share`` of its time allows.

    On the system clock a pass runs in a thread of its own, beside the engine's loop: the step
    returns at once and the next tick never waits for a ranking (one pass at a time; a step that
    finds one running does not start another). On a manual clock someone drives the steps (tests,
    the simulator), so the pass runs inside the step and its ranking is there when it returns.
    """

    def __init__(
        self,
        game: Game,
        *,
        share: float = PASS_SHARE,
        every: int = MIN_EVERY,
        timer: Callable[[], float] = time.perf_counter,
        guard: Callable[[Session], None] | None = None,
        background: bool | None = None,
    ) -> None:
        self.game = game
        self.guard = guard
        self.share = share
        self.every = every
        self.timer = timer
        self.background = (
            not isinstance(game.clock, ManualClock) if background is None else background
        )
        self.next_seq = 0  # the first step always ranks
        self.last_cost_s = 0.0
        self._running = threading.Lock()

    def after_step(self, tick_seq: int, ticks: Mapping[int, tuple[int, int]]) -> Board | None:
        """Rank at the step's published prices (asset id -> (tick, price)) if due; publish it.

        Returns the new ranking when the pass ran inside the step, else None.
        """
        if tick_seq < self.next_seq or not self._running.acquire(blocking=False):
            return None
        prices = {aid: p for aid, (_, p) in ticks.items()}
        if not self.background:
            return self._pass(tick_seq, prices)
        threading.Thread(
            target=self._pass, args=(tick_seq, prices), name="martingale-ranker", daemon=True
        ).start()
        return None

    def _pass(self, tick_seq: int, prices: dict[int, int]) -> Board | None:
        """One pass, holding ``_running``; a failure is logged and the next due step tries again."""
        try:
            started = self.timer()
            result = rank_players(self.game, tick_seq, prices, self.guard)
            self.last_cost_s = self.timer() - started
            tick_s = self.game.settings.tick_us / 1_000_000
            by_cost = math.ceil(self.last_cost_s / (self.share * tick_s))
            self.next_seq = tick_seq + max(1, self.every, by_cost)
            if by_cost > self.every:
                log.info(
                    "ranking pass took %.3f s: next at step %d", self.last_cost_s, self.next_seq
                )
            self.game.events.publish("leaderboard", {"board": result})
            return result
        except Exception:
            if not self.background:
                raise
            log.exception("ranking pass failed; the next due step tries again")
            return None
        finally:
            self._running.release()
