"""Domain errors: each refusal has a stable code that the API and socket layers map to a reply."""

from __future__ import annotations


class MartingaleError(Exception):
    """A refusal the caller caused; nothing was changed."""

    code = "error"
    status = 400

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidQuantity(MartingaleError):
    code = "invalid_quantity"
    status = 422


class InvalidSide(MartingaleError):
    code = "invalid_side"
    status = 422


class InvalidSymbol(MartingaleError):
    code = "invalid_symbol"
    status = 422


class InvalidIdempotencyKey(MartingaleError):
    code = "invalid_idempotency_key"
    status = 422


class InvalidUsername(MartingaleError):
    code = "invalid_username"
    status = 422


class UsernameTaken(MartingaleError):
    code = "username_taken"
    status = 409


class UnknownAsset(MartingaleError):
    code = "unknown_asset"
    status = 404


class UnknownPlayer(MartingaleError):
    code = "unknown_player"
    status = 404


class AssetNotTradable(MartingaleError):
    code = "asset_not_tradable"
    status = 409


class TradeValueTooLarge(MartingaleError):
    code = "trade_value_too_large"
    status = 422


class InsufficientFunds(MartingaleError):
    code = "insufficient_funds"
    status = 409


class InsufficientHoldings(MartingaleError):
    code = "insufficient_holdings"
    status = 409


class DuplicateRequest(MartingaleError):
    code = "duplicate_request"
    status = 409


class InvalidPassword(MartingaleError):
    code = "invalid_password"
    status = 422


class InvalidCredentials(MartingaleError):
    code = "invalid_credentials"
    status = 401


class Unauthorized(MartingaleError):
    code = "unauthorized"
    status = 401


class InvalidToken(MartingaleError):
    code = "invalid_token"
    status = 401


class WrongPassword(MartingaleError):
    code = "wrong_password"
    status = 403
