"""Every refusal the game can give, in one module.

A refusal is an exception the caller caused; nothing was changed. Each has a stable ``code`` (the
API contract: clients switch on it) and inherits its HTTP ``status`` from one of a few bases. The
HTTP layer (``http_errors``) and the socket layer (``realtime.events``) each turn them into the same
``{"error": {"code", "message"}}`` body in one place.
"""

from __future__ import annotations

from typing import ClassVar


class MartingaleError(Exception):
    """A refusal the caller caused; nothing was changed."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


# -- the bases: one per kind of refusal, each with its HTTP status -----------------------------


class MalformedRequest(MartingaleError):
    """The request's envelope is unusable: not JSON, or a query parameter out of range."""

    status = 400


class InvalidInput(MartingaleError):
    """Well-formed, but a value breaks a rule of the game (a quantity, a username)."""

    status = 422


class Unauthenticated(MartingaleError):
    """Who is calling is unknown: no login, or a token or session that is not live."""

    status = 401


class Forbidden(MartingaleError):
    """The caller is known but may not do this."""

    status = 403


class NotFound(MartingaleError):
    status = 404


class Conflict(MartingaleError):
    """Valid on its face, refused by the state of the game (cash, holdings, expiry, a used key)."""

    status = 409


class PayloadTooLarge(MartingaleError):
    """The request body is over the configured limit; it was not read."""

    code = "payload_too_large"
    status = 413

    @classmethod
    def over(cls, limit: int) -> PayloadTooLarge:
        return cls(f"the request body is over the limit of {limit} bytes", limit=limit)


class RateLimited(MartingaleError):
    code = "rate_limited"
    status = 429

    def __init__(self, message: str, retry_after: int | None = None, **details: object) -> None:
        super().__init__(message, **details)
        self.retry_after = retry_after  # seconds, sent as Retry-After when known


class TooManyAttempts(RateLimited):
    """Too many wrong passwords for one account, from wherever (password_attempts.py)."""

    code = "too_many_attempts"


# -- malformed requests ------------------------------------------------------------------------


class InvalidJson(MalformedRequest):
    code = "invalid_json"


class InvalidParameter(MalformedRequest):
    code = "invalid_parameter"


# -- invalid input -----------------------------------------------------------------------------


class InvalidQuantity(InvalidInput):
    code = "invalid_quantity"


class InvalidSide(InvalidInput):
    code = "invalid_side"


class InvalidSymbol(InvalidInput):
    code = "invalid_symbol"


class InvalidAmount(InvalidInput):
    """A buy's dollar amount: malformed, out of range, given with a quantity, or on a sell."""

    code = "invalid_amount"


class InvalidLimitPrice(InvalidInput):
    code = "invalid_limit_price"


class AmountTooSmall(InvalidInput):
    """A dollar amount that buys not even one atom (10**-8 unit) at the trade's price."""

    code = "amount_too_small"


class InvalidIdempotencyKey(InvalidInput):
    code = "invalid_idempotency_key"


class InvalidUsername(InvalidInput):
    code = "invalid_username"


class InvalidPassword(InvalidInput):
    code = "invalid_password"


class InvalidDisplayName(InvalidInput):
    code = "invalid_display_name"


class DisplayNameIsUsername(InvalidInput):
    """A display name that looks like the player's own username would publish half a credential."""

    code = "display_name_is_username"


class TradeValueTooLarge(InvalidInput):
    code = "trade_value_too_large"


# -- authentication ----------------------------------------------------------------------------


class InvalidCredentials(Unauthenticated):
    code = "invalid_credentials"


class Unauthorized(Unauthenticated):
    code = "unauthorized"


class InvalidToken(Unauthenticated):
    code = "invalid_token"


class OriginNotAllowed(Forbidden):
    """A cross-origin preflight from an origin, or for a method or header, the API does not allow."""

    code = "origin_not_allowed"


class WrongPassword(Forbidden):
    code = "wrong_password"


# -- not found ---------------------------------------------------------------------------------


class UnknownAsset(NotFound):
    code = "unknown_asset"


class UnknownPlayer(NotFound):
    code = "unknown_player"


# -- conflicts with the state of the game ------------------------------------------------------


class UsernameTaken(Conflict):
    code = "username_taken"


class DisplayNameTaken(Conflict):
    """Another player shows this name or one that looks like it, or logs in with such a name."""

    code = "display_name_taken"


class AssetNotTradable(Conflict):
    code = "asset_not_tradable"


class TradingHalted(Conflict):
    """The operator paused trading (``flask trading pause``); prices keep ticking."""

    code = "trading_halted"


class InsufficientFunds(Conflict):
    code = "insufficient_funds"


class InsufficientHoldings(Conflict):
    code = "insufficient_holdings"


class DuplicateRequest(Conflict):
    code = "duplicate_request"


class PriceMoved(Conflict):
    """The trade's price was beyond the order's limit_price (above a buy's, below a sell's)."""

    code = "price_moved"


class UnknownOrder(NotFound):
    """No trade of the caller's carries this Idempotency-Key: the order never reached the books."""

    code = "unknown_order"
