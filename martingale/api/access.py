"""What a route reads from its request: the caller, the JSON body, integer query parameters."""

from __future__ import annotations

import re
from typing import Any

from flask import g, request
from flask_login import current_user

from ..auth import Principal, TokenClaims, claims_of_access_token, principal_for_access_token
from ..errors import InvalidJson, InvalidParameter, InvalidToken, Unauthorized
from ..game import current_game
from ..security import bearer_token

_DIGITS = re.compile(r"[0-9]{1,18}")  # ASCII only: str.isdigit() also accepts "²" and "٣"
MAX_DB_INT = 2**31 - 1  # ids and ticks are 32-bit INTEGER columns


def optional_caller() -> Principal | None:
    """The caller, by bearer access token or by the session cookie, or None; cached per request."""
    if "principal" not in g:
        token = bearer_token()
        if token is not None:
            g.principal = principal_for_access_token(current_game(), token)
        elif current_user.is_authenticated:
            g.principal = current_user.principal
        else:
            g.principal = None
    found: Principal | None = g.principal
    return found


def caller() -> Principal:
    """The authenticated caller; anyone else is refused with 401 ``unauthorized``."""
    who = optional_caller()
    if who is None:
        raise Unauthorized("log in, or send Authorization: Bearer <access token>")
    return who


def trade_caller() -> TokenClaims:
    """The caller of a trade: a bearer token's claims (no database read: the trade itself checks
    the session in its own round trip), else the session cookie's principal; else 401."""
    token = bearer_token()
    if token is not None:
        return claims_of_access_token(current_game(), token)
    who = caller()
    return TokenClaims(who.player_id, who.session_id)


def trade_limit_key() -> str:
    """The trade budget's key: the player a valid token names, read without a database query."""
    token = bearer_token()
    if token is not None:
        try:
            return f"player:{claims_of_access_token(current_game(), token).player_id}"
        except InvalidToken:
            return request.remote_addr or "anonymous"  # the route answers 401
    who = optional_caller()
    return f"player:{who.player_id}" if who else request.remote_addr or "anonymous"


def json_body() -> dict[str, Any]:
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nesting deeper than the parser's stack: not a request we serve
        raise InvalidJson("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise InvalidJson("the body must be a JSON object")
    return body


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not _DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
        raise InvalidParameter(f"{name} must be an integer from {low} to {high}")
    return int(raw)


def optional_int_arg(name: str, low: int = 0, high: int = MAX_DB_INT) -> int | None:
    return None if request.args.get(name) in (None, "") else int_arg(name, 0, low, high)
