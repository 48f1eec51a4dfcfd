"""One market order, one round trip: the PostgreSQL function ``mg_trade`` and its SQLite twin.

Both take a ``TradeCall`` (the order, the caller's login session, and the tick, price and value
Python computed from the asset's immutable fields) and answer a ``TradeRow``: the trade (new, or the
stored one its key replays), the player's display name, cash, grant and realized P&L, and every open holding
of a live asset, all as the trade's own transaction saw them; or a refusal status. The steps, their
order and their locks are the money rules of docs/ARCHITECTURE.md "One trade":

1. the login session is live (revocation acts at once);
2. the live asset by symbol, shared lock (settlement's flip waits); 3. the player, row lock;
4. the key: same request -> replay, another -> duplicate_request;
5. no live asset -> asset_expired or unknown_asset; another live asset than Python priced ->
   stale_asset (the caller reloads and retries); the tick is the clock's and lies before end_tick;
   a dollar amount that buys nothing -> amount_too_small; a price beyond the order's limit ->
   price_moved (after the key: a retry of an executed key replays whatever the price is now);
6. buy: value cap, cash check, guarded debit, holding upsert; sell: holding lock and check, value
   cap, basis released (all, or prorata rounded to nearest, ties up), credit and realized P&L;
7. one journal entry of (up to) four postings, balanced by construction; the trade row.

PostgreSQL runs the function (migration 0003_trade_path, last replaced by 0011_order_limits) as one autocommit statement: the statement
is the transaction. SQLite runs ``_sqlite_trade`` on the group-commit writer
(transaction_utils.sqlite_writer): one BEGIN IMMEDIATE for every queued trade, each in a savepoint.
A refusal writes nothing: every check precedes the first write.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from . import ledger
from .money import MAX_TRADE_VALUE, prorata
from .transaction_utils import call_autocommit, sqlite_time, sqlite_writer

OK, REPLAYED = "ok", "replayed"


@dataclass(frozen=True)
class TradeCall:
    player_id: int
    session_id: str | None  # None: the caller's session was checked already (or there is none)
    now: datetime  # aware UTC: the trade's instant
    symbol: str
    side: str
    quantity: int
    key: str
    fingerprint: str
    asset_id: int | None  # the live asset Python priced, None if it knows none by that symbol
    tick: int
    price: int  # 0 when the tick is outside the asset's trading life
    value: int  # cost (rounded up) of a buy, proceeds (rounded down) of a sell
    # price atoms: a buy's highest, a sell's lowest acceptable price; None, any price
    limit_price: int | None = None


@dataclass(frozen=True)
class TradeRow:
    status: str
    trade_id: int | None = None
    asset_id: int | None = None
    symbol: str | None = None
    side: str | None = None
    quantity: int | None = None
    price: int | None = None
    total: int | None = None
    realized_pnl: int | None = None
    tick: int | None = None
    executed_at: datetime | None = None
    display_name: str | None = None  # public: what the tape shows
    cash: int | None = None
    granted: int | None = None
    player_realized_pnl: int | None = None
    holdings: tuple[tuple[int, int, int], ...] = ()  # (asset id, quantity, cost basis)


HALTED = "trading_halted"


def run_trade(engine: Engine, call: TradeCall) -> TradeRow:
    """The trade in one round trip (PostgreSQL) or one group-committed savepoint (SQLite)."""
    try:
        if engine.dialect.name == "postgresql":
            return _postgresql_trade(engine, call)
        return sqlite_writer(engine).run(lambda conn: _sqlite_trade(conn, call))
    except (DBAPIError, sqlite3.IntegrityError) as exc:
        # the halt trigger (migration 0009) aborted the whole trade: nothing of it was written
        if _is_halt(exc):
            return TradeRow(HALTED)
        raise


def _is_halt(exc: Exception) -> bool:
    if isinstance(exc, DBAPIError):
        return getattr(exc.orig, "sqlstate", None) == "MG001"
    return HALTED in str(exc)


# -- PostgreSQL --------------------------------------------------------------------------------
_PG_CALL = (
    "SELECT * FROM mg_trade(%s::integer, %s::varchar, %s::timestamp, %s::varchar, %s::varchar,"
    " %s::bigint, %s::varchar, %s::varchar, %s::integer, %s::integer, %s::bigint, %s::bigint,"
    " %s::bigint)"
)


def _postgresql_trade(engine: Engine, c: TradeCall) -> TradeRow:
    row = call_autocommit(
        engine,
        _PG_CALL,
        (c.player_id, c.session_id, _naive(c.now), c.symbol, c.side, c.quantity, c.key,
         c.fingerprint, c.asset_id, c.tick, c.price, c.value, c.limit_price),
    )  # fmt: skip
    (status, trade_id, asset_id, symbol, side, quantity, price, total, realized, tick, at, display_name,
     cash, granted, player_realized, assets, quantities, costs) = row  # fmt: skip
    return TradeRow(
        status, trade_id, asset_id, symbol, side, quantity, price, total, realized, tick,
        None if at is None else at.replace(tzinfo=UTC), display_name, cash, granted, player_realized,
        tuple(zip(assets, quantities, costs, strict=True)) if assets else (),
    )  # fmt: skip


def _naive(at: datetime) -> datetime:
    """The columns hold naive UTC (models.UTCDateTime)."""
    return at.astimezone(UTC).replace(tzinfo=None)


# -- SQLite: the twin of mg_trade, statement for statement ---------------------------------------
_HOLDINGS = (
    "SELECT h.asset_id, h.quantity, h.cost_basis FROM holdings h JOIN assets a ON a.id = h.asset_id"
    " WHERE h.player_id = ? AND h.quantity > 0 AND a.status = 'live' ORDER BY h.asset_id"
)
_POSTINGS = "INSERT INTO postings (entry_id, player_id, asset_id, amount) VALUES "


def _sqlite_trade(conn: sqlite3.Connection, c: TradeCall) -> TradeRow:
    now = sqlite_time(c.now)
    if c.session_id is not None:
        live = conn.execute(
            "SELECT 1 FROM auth_sessions WHERE id = ? AND player_id = ? AND revoked_at IS NULL"
            " AND expires_at > ?",
            (c.session_id, c.player_id, now),
        ).fetchone()
        if live is None:
            return TradeRow("session_ended")
    # BEGIN IMMEDIATE already holds the database's write lock: the asset, player and holding are
    # as good as locked, in the order PostgreSQL takes them
    asset = conn.execute(
        "SELECT id, born_at, tick_us, end_tick, worthless_price FROM assets"
        " WHERE symbol = ? AND status = 'live'",
        (c.symbol,),
    ).fetchone()
    player = conn.execute(
        "SELECT display_name, cash, granted, realized_pnl FROM players WHERE id = ?", (c.player_id,)
    ).fetchone()
    if player is None:
        return TradeRow("unknown_player")
    display_name, cash, granted, player_realized = player
    earlier = conn.execute(
        "SELECT t.id, t.asset_id, a.symbol, t.side, t.quantity, t.price, t.total, t.realized_pnl,"
        " t.tick, t.executed_at, t.request_hash FROM trades t JOIN assets a ON a.id = t.asset_id"
        " WHERE t.player_id = ? AND t.idempotency_key = ?",
        (c.player_id, c.key),
    ).fetchone()
    if earlier is not None:
        if earlier[10] != c.fingerprint:
            return TradeRow("duplicate_request")
        trade = _TradeFields._make((*earlier[:9], _parse_time(earlier[9])))
        status = REPLAYED
    else:
        if asset is None:
            seen = conn.execute("SELECT 1 FROM assets WHERE symbol = ? LIMIT 1", (c.symbol,))
            return TradeRow("asset_expired" if seen.fetchone() else "unknown_asset")
        asset_id, born_at, tick_us, end_tick, worthless = asset
        if c.asset_id != asset_id:
            return TradeRow("stale_asset")
        if c.tick != _elapsed_us(_parse_time(born_at), c.now) // tick_us:
            return TradeRow("tick_mismatch")
        if c.tick < 0 or c.tick >= end_tick or c.price < worthless:
            return TradeRow("asset_not_tradable")
        if c.quantity <= 0:
            return TradeRow("amount_too_small")
        if c.limit_price is not None and (
            c.price > c.limit_price if c.side == "buy" else c.price < c.limit_price
        ):
            return TradeRow("price_moved")
        if c.side == "buy":
            if c.value > MAX_TRADE_VALUE:
                return TradeRow("trade_value_too_large")
            if c.value > cash:
                return TradeRow("insufficient_funds", cash=cash)
            debited = conn.execute(
                "UPDATE players SET cash = cash - ? WHERE id = ? AND cash >= ? RETURNING cash",
                (c.value, c.player_id, c.value),
            ).fetchone()
            if debited is None:
                return TradeRow("insufficient_funds", cash=cash)
            cash = debited[0]
            conn.execute(
                "INSERT INTO holdings (player_id, asset_id, quantity, cost_basis) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (player_id, asset_id) DO UPDATE SET"
                " quantity = quantity + excluded.quantity,"
                " cost_basis = cost_basis + excluded.cost_basis",
                (c.player_id, asset_id, c.quantity, c.value),
            )
            cash_delta, units_delta, realized = -c.value, c.quantity, None
        else:
            held = conn.execute(
                "SELECT quantity, cost_basis FROM holdings WHERE player_id = ? AND asset_id = ?",
                (c.player_id, asset_id),
            ).fetchone()
            if held is None or held[0] < c.quantity:
                return TradeRow("insufficient_holdings")
            if c.value > MAX_TRADE_VALUE:
                return TradeRow("trade_value_too_large")
            quantity, basis = held
            released = basis if c.quantity == quantity else prorata(basis, c.quantity, quantity)
            conn.execute(
                "UPDATE holdings SET quantity = quantity - ?, cost_basis = cost_basis - ?"
                " WHERE player_id = ? AND asset_id = ?",
                (c.quantity, released, c.player_id, asset_id),
            )
            realized = c.value - released
            cash, player_realized = conn.execute(
                "UPDATE players SET cash = cash + ?, realized_pnl = realized_pnl + ? WHERE id = ?"
                " RETURNING cash, realized_pnl",
                (c.value, realized, c.player_id),
            ).fetchone()
            cash_delta, units_delta = c.value, -c.quantity
        entry_id = conn.execute(
            "INSERT INTO journal_entries (kind, player_id, asset_id, created_at)"
            " VALUES (?, ?, ?, ?) RETURNING id",
            (c.side, c.player_id, asset_id, now),
        ).fetchone()[0]
        legs = ledger.transfer_legs(c.player_id, asset_id, cash_delta, units_delta)
        conn.execute(
            _POSTINGS + ", ".join(["(?, ?, ?, ?)"] * len(legs)),
            [v for leg in legs for v in (entry_id, leg.player_id, leg.asset_id, leg.amount)],
        )
        trade_id = conn.execute(
            "INSERT INTO trades (player_id, asset_id, side, quantity, price, total, realized_pnl,"
            " tick, executed_at, idempotency_key, request_hash, entry_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (c.player_id, asset_id, c.side, c.quantity, c.price, c.value, realized, c.tick, now,
             c.key, c.fingerprint, entry_id),
        ).fetchone()[0]  # fmt: skip
        trade = _TradeFields(trade_id, asset_id, c.symbol, c.side, c.quantity, c.price, c.value,
                             realized, c.tick, c.now)  # fmt: skip
        status = OK
    holdings = tuple(conn.execute(_HOLDINGS, (c.player_id,)).fetchall())
    return TradeRow(
        status, trade.id, trade.asset_id, trade.symbol, trade.side, trade.quantity, trade.price,
        trade.total, trade.realized_pnl, trade.tick, trade.executed_at, display_name, cash, granted,
        player_realized, holdings,
    )  # fmt: skip


class _TradeFields(NamedTuple):
    id: int
    asset_id: int
    symbol: str
    side: str
    quantity: int
    price: int
    total: int
    realized_pnl: int | None
    tick: int
    executed_at: datetime


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _elapsed_us(since: datetime, now: datetime) -> int:
    elapsed = now - since
    return (elapsed.days * 86_400 + elapsed.seconds) * 1_000_000 + elapsed.microseconds
