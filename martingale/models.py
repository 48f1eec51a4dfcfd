"""The schema: players, assets and their price ticks, and the double-entry books.

Invariants the database itself enforces (the reconcile command checks the rest):
- every amount is an integer count of atoms (see ``money``), never a float;
- a player's cash and each holding are never negative, never above their caps (CHECK);
- postings, journal entries, trades and settlements are append-only (triggers in the migration);
- one trade per (player, idempotency key); one settlement per (player, asset) (UNIQUE);
- a symbol is held by one asset at a time and for 24 hours after its expiry (``symbol_leases`` PK);
  symbols and colours are unique among live assets (partial UNIQUE indexes).

The house has no balance row: its balance is minus the sum of everyone else's postings, so no trade
ever waits on a house row lock.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Select,
    String,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from .extensions import Base
from .money import MAX_CASH, MAX_HOLDING
from .names import MAX_LENGTH, SKELETON_LENGTH


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC, on both backends."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


LIVE = "live"
SETTLED = "settled"


class Player(Base):
    __tablename__ = "players"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(20))
    # lowercased: usernames are unique case-insensitively
    username_key: Mapped[str] = mapped_column(String(20), unique=True)
    # what login names look like (names.skeleton): no display name may look like another
    # player's username; usernames themselves may look alike (they are never shown)
    username_skeleton: Mapped[str] = mapped_column(String(SKELETON_LENGTH), index=True)
    # the only name anyone else ever sees (tape, leaderboard); the username stays private
    display_name: Mapped[str] = mapped_column(String(MAX_LENGTH), unique=True)
    # unique: two players racing for look-alike names cannot both commit (names.skeleton)
    display_skeleton: Mapped[str] = mapped_column(String(SKELETON_LENGTH), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # cached sum of this player's USD postings, updated in the same transaction as they are written
    cash: Mapped[int] = mapped_column(BigInteger)
    # what the player was actually granted: the P&L baseline
    granted: Mapped[int] = mapped_column(BigInteger)
    realized_pnl: Mapped[int] = mapped_column(BigInteger, default=0)
    # NULL for accounts that cannot log in (simulator bots, deleted accounts)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # set by account_deletion: the names above are then placeholders, the books stay as they were
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("cash >= 0", name="cash_nonnegative"),
        CheckConstraint(f"cash <= {MAX_CASH}", name="cash_cap"),
        CheckConstraint("granted >= 0", name="granted_nonnegative"),
        CheckConstraint(
            "deleted_at IS NULL OR password_hash IS NULL", name="deleted_cannot_log_in"
        ),
    )


class Asset(Base):
    __tablename__ = "assets"

    id: Mapped[int] = mapped_column(primary_key=True)
    symbol: Mapped[str] = mapped_column(ForeignKey("symbol_leases.symbol"), index=True)
    color: Mapped[str] = mapped_column(String(7))
    status: Mapped[str] = mapped_column(String(10), default=LIVE)
    # secret until settled: never serialised while status is live
    seed: Mapped[bytes] = mapped_column(LargeBinary(32))
    seed_commitment: Mapped[str] = mapped_column(String(64))
    # per-tick parameters as exact decimal text (the published recipe uses these strings)
    drift: Mapped[str] = mapped_column(String(32))
    volatility: Mapped[str] = mapped_column(String(32))
    initial_price: Mapped[int] = mapped_column(BigInteger)
    born_at: Mapped[datetime] = mapped_column(UTCDateTime)
    tick_us: Mapped[int] = mapped_column(BigInteger)
    expiry_tick: Mapped[int] = mapped_column(Integer)
    # the worthless threshold in force at birth: part of the published proof, immune to config changes
    worthless_price: Mapped[int] = mapped_column(BigInteger)
    # secret like the seed: min(expiry_tick, first tick priced below the worthless price)
    end_tick: Mapped[int] = mapped_column(Integer)
    final_tick: Mapped[int | None] = mapped_column(Integer)
    final_price: Mapped[int | None] = mapped_column(BigInteger)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # set once its stored ticks are dropped (retention.py): its history is recomputed from the seed
    ticks_compacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("status IN ('live', 'settled')", name="status_known"),
        CheckConstraint("initial_price > 0", name="initial_price_positive"),
        CheckConstraint("tick_us > 0", name="tick_positive"),
        CheckConstraint(
            "expiry_tick > 0 AND end_tick > 0 AND end_tick <= expiry_tick", name="ticks"
        ),
        CheckConstraint(
            "(status = 'live' AND final_tick IS NULL AND final_price IS NULL)"
            " OR (status = 'settled' AND final_tick = end_tick AND final_price IS NOT NULL)",
            name="settled_fields",
        ),
        Index(
            "uq_assets_live_symbol",
            "symbol",
            unique=True,
            sqlite_where=text("status = 'live'"),
            postgresql_where=text("status = 'live'"),
        ),
        Index(
            "uq_assets_live_color",
            "color",
            unique=True,
            sqlite_where=text("status = 'live'"),
            postgresql_where=text("status = 'live'"),
        ),
        Index("ix_assets_status", "status"),
    )

    @classmethod
    def live(cls) -> Select[Asset]:
        """The live assets, oldest first: the pool the engine ticks and the market quotes."""
        return select(cls).where(cls.status == LIVE).order_by(cls.id)


class SymbolLease(Base):
    """One row per symbol ever used: who may take it next, and from when."""

    __tablename__ = "symbol_leases"

    symbol: Mapped[str] = mapped_column(String(3), primary_key=True)
    reusable_after: Mapped[datetime] = mapped_column(UTCDateTime)


class PriceTick(Base):
    __tablename__ = "price_ticks"

    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), primary_key=True)
    tick: Mapped[int] = mapped_column(Integer, primary_key=True)
    price: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint("price >= 0", name="price_nonnegative"),
        CheckConstraint("tick >= 0", name="tick_nonnegative"),
    )


class JournalEntry(Base):
    """One money movement; its postings sum to zero per unit."""

    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    player_id: Mapped[int | None] = mapped_column(ForeignKey("players.id"))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("kind IN ('grant', 'buy', 'sell', 'settlement')", name="kind_known"),
    )


class Posting(Base):
    """One leg of an entry. ``player_id`` NULL is the house; ``asset_id`` NULL is USD."""

    __tablename__ = "postings"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), index=True)
    player_id: Mapped[int | None] = mapped_column(ForeignKey("players.id"))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"))
    amount: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_nonzero"),
        Index("ix_postings_account", "player_id", "asset_id"),
    )


class Holding(Base):
    __tablename__ = "holdings"

    player_id: Mapped[int] = mapped_column(ForeignKey("players.id"), primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), primary_key=True, index=True)
    # cached sum of this player's postings in this asset
    quantity: Mapped[int] = mapped_column(BigInteger)
    # what the units still held cost, in cash atoms: the average cost is cost_basis / quantity
    cost_basis: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_nonnegative"),
        CheckConstraint(f"quantity <= {MAX_HOLDING}", name="quantity_cap"),
        CheckConstraint("cost_basis >= 0", name="cost_basis_nonnegative"),
        CheckConstraint("quantity > 0 OR cost_basis = 0", name="no_basis_without_units"),
    )


class Trade(Base):
    __tablename__ = "trades"

    id: Mapped[int] = mapped_column(primary_key=True)
    player_id: Mapped[int] = mapped_column(ForeignKey("players.id"))
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), index=True)
    side: Mapped[str] = mapped_column(String(4))
    quantity: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    # sells only: proceeds minus the cost basis released
    realized_pnl: Mapped[int | None] = mapped_column(BigInteger)
    tick: Mapped[int] = mapped_column(Integer)
    executed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    idempotency_key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), unique=True)

    __table_args__ = (
        UniqueConstraint("player_id", "idempotency_key", name="uq_trades_player_key"),
        CheckConstraint("side IN ('buy', 'sell')", name="side_known"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("total >= 0", name="total_nonnegative"),
        Index("ix_trades_player_id_id", "player_id", "id"),
        # performance history reads only the window it draws (reports.performance_history)
        Index("ix_trades_player_id_executed_at", "player_id", "executed_at"),
    )


class Settlement(Base):
    __tablename__ = "settlements"

    id: Mapped[int] = mapped_column(primary_key=True)
    player_id: Mapped[int] = mapped_column(ForeignKey("players.id"))
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), index=True)
    quantity: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[int] = mapped_column(BigInteger)
    cost_basis: Mapped[int] = mapped_column(BigInteger)
    realized_pnl: Mapped[int] = mapped_column(BigInteger)
    settled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))

    __table_args__ = (
        # exactly once per holding, whoever runs the settlement and however often
        UniqueConstraint("player_id", "asset_id", name="uq_settlements_player_asset"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("value >= 0", name="value_nonnegative"),
        # a player's list, newest first, and the performance history's window
        Index("ix_settlements_player_id_id", "player_id", "id"),
        Index("ix_settlements_player_id_settled_at", "player_id", "settled_at"),
    )


class EngineBeat(Base):
    """The engine's heartbeat (readiness checks read it) and its leadership term (the fence).

    ``term`` rises by one each time an engine takes the lead; every engine transaction locks this
    row and checks the term is still its own, so a leader that lost the lead cannot write late.
    """

    __tablename__ = "engine_beats"

    id: Mapped[int] = mapped_column(primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ticks: Mapped[int] = mapped_column(BigInteger, default=0)
    term: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))


class LeaderboardRank(Base):
    """The engine's last ranking pass, one row per player (leaderboard.py): a read model.

    Rebuilt whole by each pass from players and holdings, so it holds nothing the books do not; on
    PostgreSQL the table is UNLOGGED (migration 0004): a crash empties it and the next pass refills
    it. No foreign key: nothing is ever looked up from it but by the caller's own id.
    """

    __tablename__ = "leaderboard_ranks"

    player_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    rank: Mapped[int] = mapped_column(Integer, index=True)
    name: Mapped[str] = mapped_column(String(MAX_LENGTH))  # the display name, never the username
    total_pnl: Mapped[int] = mapped_column(BigInteger)
    granted: Mapped[int] = mapped_column(BigInteger)


class LeaderboardPass(Base):
    """When the ranking in ``leaderboard_ranks`` was computed (one row, id 1)."""

    __tablename__ = "leaderboard_passes"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    tick_seq: Mapped[int] = mapped_column(BigInteger)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    players: Mapped[int] = mapped_column(Integer)
    # how long the ranking statement took (operators and bench/reads.py read it)
    took_us: Mapped[int] = mapped_column(BigInteger)


class AuthSession(Base):
    """One login: a browser cookie or an API client's refresh-token family.

    Logging out revokes one session; changing the password revokes them all. Access tokens and
    cookies name their session, so revocation takes effect on the next request or socket event.
    """

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    player_id: Mapped[int] = mapped_column(ForeignKey("players.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("kind IN ('web', 'api')", name="kind_known"),)


class RefreshToken(Base):
    """A refresh token is stored only as its hash and is good for one rotation."""

    __tablename__ = "refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("auth_sessions.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


AUTH_EVENT_KINDS = (
    "registered", "login_ok", "login_failed", "login_locked", "logout", "password_changed",
    "refresh_reuse", "account_deleted",
)  # fmt: skip


class AuthEvent(Base):
    """What happened to an account, written in the transaction that made it happen (audit.py).

    Append-only: an operator's record of logins, failures, logouts, password changes and stolen
    refresh tokens. A failure names the player only when the username exists; what was typed as a
    username is never stored (it may be a password typed into the wrong field).
    """

    __tablename__ = "auth_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    player_id: Mapped[int | None] = mapped_column(ForeignKey("players.id"))
    session_id: Mapped[str | None] = mapped_column(String(32))
    channel: Mapped[str | None] = mapped_column(String(8))  # web or api
    remote: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in AUTH_EVENT_KINDS) + ")", name="kind_known"
        ),
        Index("ix_auth_events_player_at", "player_id", "at"),
    )


class MarketControl(Base):
    """The operator's switches, one row: while ``trading_halted`` every insert into ``trades`` is
    refused by a trigger (migration 0009), on every trade path, in the trade's own transaction."""

    __tablename__ = "market_controls"

    id: Mapped[int] = mapped_column(primary_key=True)
    trading_halted: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(String(200))
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)
