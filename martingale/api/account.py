"""The caller's own account: names, portfolio, trades, settlements, performance."""

from __future__ import annotations

from typing import Any

from flask import g, request, session
from flask_login import logout_user

from .. import (
    account_deletion,
    accounts,
    auth,
    errors,
    rate_limits,
    reports,
    trading,
    validators,
    wire,
)
from ..auth import require_live_session
from ..contract import replies as r
from ..contract.operations import (
    ACCOUNT_WRITES,
    HEAVY_READS,
    PASSWORD_CHECKS,
    READS,
    TRADES,
    Auth,
    Reply,
    operation,
    refusal,
)
from ..contract.requests import (
    AccountDeletion,
    AccountUpdate,
    PerformanceQuery,
    SettlementsQuery,
    TradeRequest,
    TradesQuery,
)
from ..errors import MartingaleError
from ..extensions import limiter
from ..game import current_game
from ..portfolio import portfolio as portfolio_view
from .access import body, caller, optional_caller, query, trade_caller
from .blueprint import bp
from .limits import heavy_read_limit, read_limit, spend_trade_budget


def _player_key() -> str:
    who = optional_caller()
    return f"player:{who.player_id}" if who else request.remote_addr or "anonymous"


@bp.get("/account")
@operation("account", "account", {200: Reply(r.Account, "The caller's names.")},
           auth=Auth.REQUIRED, limit=READS)  # fmt: skip
@read_limit
def account() -> Any:
    """The caller's username (theirs alone to see) and public display name."""
    return wire.account(accounts.account(current_game(), caller().player_id))


# limited as the password routes are: a refusal tells whether a name looks like some username
@bp.patch("/account")
@operation("updateAccount", "account", {
    200: Reply(r.Account, "The caller's names, the new display name included."),
    409: refusal("Another player's display name or username looks like this name.",
                 errors.DisplayNameTaken),
    422: refusal(
        "Not an acceptable display name, or one that looks like the caller's own username.",
        errors.InvalidDisplayName, errors.DisplayNameIsUsername,
    ),
}, auth=Auth.REQUIRED, body=AccountUpdate, limit=ACCOUNT_WRITES, description=(
    "The tape shows the new name at once (past trades included), the leaderboard from the"
    " engine's next ranking pass."
))  # fmt: skip
@limiter.limit(rate_limits.ACCOUNT_WRITES)
def update_account() -> Any:
    """Change the public display name."""
    who = caller()
    form = body(AccountUpdate)
    return wire.account(
        accounts.change_display_name(current_game(), who.player_id, form.display_name)
    )


@bp.delete("/account")
@operation("deleteAccount", "account", {
    200: Reply(r.AccountDeleted, "Deleted: the caller's sessions have ended."),
    403: refusal(
        "The password is wrong (wrong_password; nothing changed); or a cookie write without"
        " CSRF token (csrf_failed).",
        errors.WrongPassword, also=("csrf_failed",),
    ),
}, auth=Auth.REQUIRED, body=AccountDeletion, limit=PASSWORD_CHECKS, description=(
    "Erases the account's personal data for good: the username is freed (anyone may register it"
    " again), the display name on its past trades becomes Deleted player #<id>, it leaves the"
    " leaderboard, and every session, token and socket of it ends. Its trades and settlements"
    " stay in the books; positions still open settle into the deleted account as usual (play"
    " money: nothing is paid out)."
))  # fmt: skip
@limiter.limit(rate_limits.ACCOUNT_WRITES)
def delete_account() -> Any:
    """Delete the caller's account (the current password confirms it)."""
    who = caller()
    form = body(AccountDeletion)
    gone = account_deletion.delete_account(current_game(), who, form.password, auth.API)
    logout_user()
    session.clear()
    return {"deleted": True, "display_name": gone.display_name}


@bp.get("/portfolio")
@operation("portfolio", "account", {200: Reply(r.Portfolio, "The caller's portfolio.")},
           auth=Auth.REQUIRED, limit=READS)  # fmt: skip
@read_limit
def portfolio() -> Any:
    """Cash, positions at current prices, and P&L."""
    return wire.portfolio(portfolio_view(current_game(), caller().player_id))


@bp.post("/trades")
@operation("placeTrade", "account", {
    201: Reply(r.NewTrade, "Executed."),
    200: Reply(r.ReplayedTrade, "A replay of the trade made earlier with this Idempotency-Key"
               " and the same request; nothing was traded again.",
               headers=("Idempotent-Replayed",)),
    404: refusal("No asset has ever had this symbol.", errors.UnknownAsset),
    409: refusal(
        "The asset has ended (asset_not_tradable), the cash or units do not suffice, the"
        " Idempotency-Key was used for a different request, the price was beyond the order's"
        " limit_price (price_moved), or the operator has paused trading"
        " (trading_halted; prices keep ticking, the socket's market_status event says when it"
        " resumes).",
        errors.AssetNotTradable, errors.InsufficientFunds, errors.InsufficientHoldings,
        errors.DuplicateRequest, errors.PriceMoved, errors.TradingHalted,
    ),
    422: refusal(
        "A malformed order, a dollar amount that buys nothing, or one worth more than"
        " $10,000,000,000.",
        errors.InvalidSide, errors.InvalidSymbol, errors.InvalidQuantity, errors.InvalidAmount,
        errors.InvalidLimitPrice, errors.InvalidIdempotencyKey, errors.AmountTooSmall,
        errors.TradeValueTooLarge,
    ),
}, auth=Auth.REQUIRED, body=TradeRequest, limit=TRADES, params=("IdempotencyKey",))  # fmt: skip
def place_trade() -> Any:
    """A market order at the current tick's price; Idempotency-Key makes retries safe."""
    spend_trade_budget()
    game, who = current_game(), trade_caller()
    try:
        order = body(TradeRequest)
    except MartingaleError:  # a refused order too: an ended session answers first, as in trading
        require_live_session(game, who.player_id, who.session_id)
        raise
    reply = trading.place_trade(
        game,
        player_id=who.player_id,
        symbol=order.symbol,
        side=order.side,
        quantity=order.quantity,
        amount=order.amount,
        limit_price=order.limit_price,
        idempotency_key=request.headers.get("Idempotency-Key"),
        session_id=who.session_id,  # checked in the trade's own round trip
    )
    g.player_id, g.trade_id = who.player_id, reply.trade.id  # for the request's log line
    if reply.trade.replayed:
        return wire.trade_reply(reply), 200, {"Idempotent-Replayed": "true"}
    return wire.trade_reply(reply), 201


@bp.get("/orders/<path:key>")
@operation("orderOutcome", "account", {
    200: Reply(r.OrderOutcome, "The order executed: its trade."),
    404: refusal(
        "No trade of the caller's carries this key (unknown_order): the order never reached the"
        " books. A trade is one transaction, so once no request with the key is still on its way"
        " this is final; sending the same order with the same key again would place it now.",
        errors.UnknownOrder,
    ),
    422: refusal("Not a possible Idempotency-Key.", errors.InvalidIdempotencyKey),
}, auth=Auth.REQUIRED, limit=READS, params=("OrderKey",), description=(
    "For a client whose order went unanswered (a timeout, the connection lost): did it execute?"
))  # fmt: skip
@read_limit
def order_outcome(key: str) -> Any:
    """What became of the caller's order sent with this Idempotency-Key."""
    who = caller()
    found = reports.order_outcome(
        current_game(), who.player_id, validators.parse_idempotency_key(key)
    )
    if found is None:
        raise errors.UnknownOrder("no order with this key reached the books")
    return {"trade": wire.trade(found)}


@bp.get("/trades")
@operation("listTrades", "account", {200: Reply(r.TradeList, "The caller's trades.")},
           auth=Auth.REQUIRED, query=TradesQuery, limit=READS)  # fmt: skip
@read_limit
def trades() -> Any:
    """The caller's trades, newest first; page with before=<id>."""
    who = caller()
    args = query(TradesQuery)
    rows = reports.player_trades(current_game(), who.player_id, args.limit, args.before)
    return {"trades": [wire.trade(t) for t in rows]}


@bp.get("/settlements")
@operation("listSettlements", "account", {
    200: Reply(r.SettlementList, "The caller's settlements."),
}, auth=Auth.REQUIRED, query=SettlementsQuery, limit=READS)  # fmt: skip
@read_limit
def settlements() -> Any:
    """The caller's settled positions, newest first."""
    who = caller()
    rows = reports.player_settlements(current_game(), who.player_id, query(SettlementsQuery).limit)
    return {"settlements": [wire.settlement(s) for s in rows]}


@bp.get("/performance/history")
@operation("performanceHistory", "account", {
    200: Reply(r.PerformanceHistory, "Samples, oldest first."),
}, auth=Auth.REQUIRED, query=PerformanceQuery, limit=HEAVY_READS)  # fmt: skip
@heavy_read_limit
def performance_history() -> Any:
    """Account value over the last hour, sampled evenly."""
    who = caller()
    points = reports.performance_history(
        current_game(), who.player_id, query(PerformanceQuery).points
    )
    return {"points": [wire.value_point(p) for p in points]}
