"""What a route reads from its request: the caller, the JSON body, integer query parameters."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import current_app, g, request
from flask_login import current_user

from ..auth import Principal, TokenClaims, claims_of_access_token, principal_for_access_token
from ..contract.operations import operation_of
from ..contract.requests import Body, Query
from ..errors import InvalidJson, InvalidToken, Unauthorized
from ..game import current_game
from ..security import bearer_token

B = TypeVar("B", bound=Body)
Q = TypeVar("Q", bound=Query)


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


def body(model: type[B]) -> B:
    """The JSON body, checked by the model the route's operation documents."""
    _declared("body", model)
    return model.parse(json_body())


def query(model: type[Q]) -> Q:
    """The query parameters, checked by the model the route's operation documents."""
    _declared("query", model)
    return model.parse(request.args)


def _declared(part: str, model: type[Body] | type[Query]) -> None:
    # a route that checked with another model than it documents would make the document a lie
    op = operation_of(current_app.view_functions[request.endpoint or ""])
    if op is None or getattr(op, part) is not model:
        raise AssertionError(f"{request.endpoint} documents no {part} {model.__name__}")
