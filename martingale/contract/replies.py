"""What the API answers, as wire.py writes it: these models document the replies (the suite and
schemathesis validate every reply against the document they generate); replies are not built
through them, so the trade path pays nothing for its description."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .types import DecimalText, Price, Quantity, Sha256Hex, Side, Symbol, Timestamp, Usd

Id = Annotated[int, Field(ge=1)]
Tick = Annotated[int, Field(ge=0)]
PUBLIC_NAME = "The player's public display name (never their username)."


class Reply(BaseModel):
    model_config = ConfigDict(extra="forbid")


def absent_unless(field: str, value: str, members: list[str]) -> dict[str, Any]:
    """``members`` are present exactly when ``field`` is ``value``."""
    return {
        "if": {"properties": {field: {"const": value}}},
        "then": {"required": members},
        "else": {"properties": dict.fromkeys(members, False)},
    }


class Asset(Reply):
    """A live asset as quoted now."""

    id: Id
    symbol: Symbol
    price: Price = Field(description="Price at the current tick.")
    initial_price: Price
    drift: DecimalText
    volatility: DecimalText
    color: str = Field(pattern="^#[0-9a-f]{6}$")
    born_at: Timestamp
    expires_at: Timestamp
    seconds_to_expiry: float = Field(ge=0)  # a countdown for display, never money
    tick: Tick
    seed_commitment: Sha256Hex = Field(
        description="sha256 of the secret seed, hex; the seed is revealed at settlement."
    )
    open_interest: Quantity = Field(
        description="Units of the asset all players hold together now (the public tape's trades"
        " move it: a buy adds its quantity, a sell takes it away)."
    )


class AssetList(Reply):
    server_time: Timestamp
    assets: list[Asset]


class PricePoint(Reply):
    tick: Tick
    t: Timestamp
    price: Price


class PriceHistory(Reply):
    id: Id
    symbol: Symbol
    points: list[PricePoint] = Field(description="Stored ticks, oldest first.")


_SETTLED = ["seed", "settlement_tick", "settlement_price", "settled_at"]


# A member typed without None but defaulting to None may be absent, never null: its schema must
# not admit null, and these models only describe (wire.py writes the replies).
class Proof(Reply):
    """The commitment and the path's parameters; once settled also the seed and the settlement,
    so anyone can recompute every price. Never the seed before settlement."""

    model_config = ConfigDict(json_schema_extra=absent_unless("status", "settled", _SETTLED))
    id: Id
    symbol: Symbol
    status: Literal["live", "settled"]
    seed_commitment: Sha256Hex
    initial_price: Price
    drift: DecimalText
    volatility: DecimalText
    born_at: Timestamp
    tick_seconds: str = Field(pattern="^[0-9]+\\.[0-9]{6}$")
    expiry_tick: Id
    worthless_price: Price
    recipe: str = Field(description="The published recipe that turns the seed into the path.")
    seed: Sha256Hex = Field(None, description=(  # type: ignore[assignment]
        "The 32-byte seed, hex (settled assets only); sha256(bytes.fromhex(seed)) =="
        " seed_commitment."
    ))  # fmt: skip
    settlement_tick: Id = Field(None)  # type: ignore[assignment]
    settlement_price: Price = Field(None)  # type: ignore[assignment]
    settled_at: Timestamp | None = Field(None)


class Trade(Reply):
    """One of the caller's own trades."""

    model_config = ConfigDict(json_schema_extra=absent_unless("side", "sell", ["realized_pnl"]))
    id: Id
    symbol: Symbol
    side: Side
    quantity: Quantity
    price: Price
    total: Usd = Field(description=(
        "Cost of a buy (rounded up) or proceeds of a sell (rounded down), to the micro-dollar."
    ))  # fmt: skip
    tick: Tick
    executed_at: Timestamp
    realized_pnl: Usd = Field(  # type: ignore[assignment]
        None, description="Sells only: proceeds minus the cost basis released."
    )


class TradeList(Reply):
    trades: list[Trade]


class OrderOutcome(Reply):
    """What became of an order: it executed as this trade."""

    trade: Trade


class Holding(Reply):
    """An open position in a live asset, marked at the current tick."""

    symbol: Symbol
    asset_id: Id
    quantity: Quantity
    avg_cost: Price
    cost_basis: Usd
    price: Price
    market_value: Usd = Field(description="quantity x price, rounded down as a sale would be.")
    unrealized_pnl: Usd
    expires_at: Timestamp


class Portfolio(Reply):
    cash: Usd
    value: Usd = Field(description="cash plus the market value of every holding.")
    total_pnl: Usd = Field(description="value minus what the player was granted.")
    realized_pnl: Usd
    unrealized_pnl: Usd
    return_pct: str = Field(pattern="^-?[0-9]+\\.[0-9]{2}$", description=(
        "total_pnl / granted in percent, truncated toward zero to 2 places."
    ))  # fmt: skip
    holdings: list[Holding]


class TradeResult(Reply):
    """The answer to a trade, the same over REST and Socket.IO."""

    trade: Trade
    portfolio: Portfolio = Field(description="The caller's portfolio now.")
    replayed: bool = Field(description=(
        "True when this replays an earlier trade with the same Idempotency-Key (HTTP 200), false"
        " for a new trade (HTTP 201)."
    ))  # fmt: skip


class NewTrade(TradeResult):
    """A trade executed now."""

    replayed: Literal[False]


class ReplayedTrade(TradeResult):
    """An earlier trade's reply again: nothing was traded."""

    replayed: Literal[True]


class Settlement(Reply):
    """A position the caller held when its asset settled."""

    asset_id: Id
    symbol: Symbol
    quantity: Quantity
    price: Price = Field(description="The settlement price.")
    value: Usd = Field(description="Cash credited, rounded down.")
    realized_pnl: Usd
    settled_at: Timestamp


class SettlementList(Reply):
    settlements: list[Settlement]


class ValuePoint(Reply):
    t: Timestamp
    value: Usd


class PerformanceHistory(Reply):
    points: list[ValuePoint] = Field(min_length=1, description=(
        "Account value from max(joined, now - 1 hour) to now, oldest first, at least one second"
        " apart."
    ))  # fmt: skip


class TapeEntry(Reply):
    """Anyone's trade, public: a display name, never a player id."""

    id: Id = Field(description="The trade's id.")
    symbol: Symbol
    side: Side
    quantity: Quantity
    price: Price
    total: Usd
    executed_at: Timestamp
    display_name: str = Field(
        description="The trader's public display name (never their username)."
    )


class Tape(Reply):
    tape: list[TapeEntry]


class Ranking(Reply):
    """Total P&L against the grant, open positions marked at the prices of the ranking pass's
    tick; ties ordered by who joined first."""

    rank: Id
    display_name: str = Field(description=PUBLIC_NAME)
    total_pnl: Usd
    return_pct: DecimalText = Field(description=(
        "total_pnl as a percent of what the player was granted, 2 decimals, truncated toward zero."
    ))  # fmt: skip


class Leaderboard(Reply):
    """The market engine's last ranking pass (it ranks every player after a tick, every 5 ticks,
    or less often when there are so many players that a pass would take more than a quarter of
    its time). The same body without `me`, with the top 25, is pushed to every socket as the
    `leaderboard` event after each pass."""

    tick_seq: Id | None = Field(description=(
        "The engine step the pass followed (the `tick_seq` of its `prices` message); null before"
        " the first pass."
    ))  # fmt: skip
    as_of: Timestamp | None = Field(description=(
        "When the pass priced the holdings; null before the first pass."
    ))  # fmt: skip
    players: Tick = Field(description="How many players the pass ranked.")
    leaderboard: list[Ranking] = Field(description="The top `limit`, best first.")
    me: Ranking | None = Field(None, description=(
        "Authenticated callers only: the caller's own row, wherever it ranks; null until a pass"
        " has ranked a new player."
    ))  # fmt: skip


class PnlPoint(Reply):
    t: Timestamp
    pnl: Usd = Field(description="Account value at t minus what the player was granted.")


class ProfileTrade(Reply):
    """A trade of the player's, as the tape shows it (no id)."""

    symbol: Symbol
    side: Side
    quantity: Quantity
    price: Price
    total: Usd
    executed_at: Timestamp


class SettledPosition(Reply):
    symbol: Symbol
    realized_pnl: Usd
    price: Price = Field(description="The settlement price.")
    settled_at: Timestamp


class PlayerProfile(Reply):
    """What anyone may see of a player: their display name (never their username), standing,
    P&L over the last hour, latest trades and how their settled positions went."""

    display_name: str = Field(description=PUBLIC_NAME)
    joined_at: Timestamp
    rank: Id | None = Field(description=(
        "Their rank in the engine's last ranking pass; null until a pass has ranked them."
    ))  # fmt: skip
    ranked_at: Timestamp | None = Field(description=(
        "When that pass priced the holdings; null while rank is."
    ))  # fmt: skip
    players: Tick = Field(description="How many players the last pass ranked.")
    as_of: Timestamp = Field(description="Now: when total_pnl was priced (the curve's last point).")
    total_pnl: Usd = Field(description=(
        "Value minus the grant now, open positions marked at the current prices as the ranking"
        " marks them (the leaderboard's figure is its last pass's)."
    ))  # fmt: skip
    return_pct: DecimalText = Field(description=(
        "total_pnl as a percent of what the player was granted, 2 decimals, truncated toward zero."
    ))  # fmt: skip
    curve: list[PnlPoint] = Field(min_length=1, description=(
        "P&L from max(joined, now - 1 hour) to now, oldest first, at least one second apart."
    ))  # fmt: skip
    trades: list[ProfileTrade] = Field(description="The latest trades, newest first.")
    settled: Tick = Field(description="Positions that settled (their assets expired).")
    wins: Tick = Field(description="Settled positions with a positive realized P&L.")
    win_rate_pct: DecimalText | None = Field(description=(
        "wins / settled in percent, 2 decimals, truncated; null before any settlement."
    ))  # fmt: skip
    best: SettledPosition | None = Field(description=(
        "The settlement with the highest realized P&L (the earliest of equals); null before any."
    ))  # fmt: skip
    worst: SettledPosition | None = Field(description=(
        "The settlement with the lowest realized P&L (the earliest of equals); null before any."
    ))  # fmt: skip


class User(Reply):
    id: Id
    username: str = Field(description=(
        "The name this account logs in with: private, sent only to its owner."
    ))  # fmt: skip
    display_name: str = Field(description=(
        "The public display name: the only name other players see (tape, leaderboard, pushes);"
        " the username is never shown to anyone but its owner."
    ))  # fmt: skip


class Account(User):
    """The caller's own names."""


class Login(Reply):
    """A new login session's token pair."""

    user: User
    access_token: str = Field(description=(
        "Send as Authorization: Bearer <token>; valid for MARTINGALE_ACCESS_TOKEN_SECONDS (900)"
        " while its session lives."
    ))  # fmt: skip
    refresh_token: str = Field(description=(
        "Good for one POST /auth/refresh; reusing a spent one ends the whole session."
    ))  # fmt: skip
    token_type: Literal["Bearer"]


class LoggedOut(Reply):
    logged_out: Literal[True]


class AccountDeleted(Reply):
    """The account is gone: every session has ended (its tokens now answer 401)."""

    deleted: Literal[True]
    display_name: str = Field(description=(
        "What the account's past trades are shown under from now on (Deleted player #<id>)."
    ))  # fmt: skip


class Health(Reply):
    status: Literal["ok"]


class Ready(Reply):
    status: Literal["ok"]
    database: Literal[True]
    engine: Literal[True]


class EngineStale(Reply):
    """The database answers but the engine has not ticked within the last three ticks (or never
    has)."""

    status: Literal["engine_stale"]
    database: Literal[True]
    engine: Literal[False]


class Unavailable(Reply):
    """The database does not answer."""

    status: Literal["unavailable"]
    database: Literal[False]


class OpenApiDocument(BaseModel):
    """This document."""

    model_config = ConfigDict(extra="allow")
    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]


class ErrorDetail(Reply):
    code: str = Field(description=(
        "Stable, machine-readable; see each response for the codes it can carry."
    ))  # fmt: skip
    message: str = Field(description="For humans; may change.")


class Error(Reply):
    """Every error, on every /api path: nothing was changed."""

    error: ErrorDetail
