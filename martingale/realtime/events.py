"""Socket handlers: connect (token, cookie or anonymous), disconnect, and trade by acknowledgement.

Handlers stay thin: parse, call the same services as the REST API, map errors to the REST error
body. An authenticated socket sits in ``player:<id>`` and ``session:<sid>``; anonymous sockets get
only the broadcasts (public market data).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, request
from flask_login import current_user
from flask_socketio import SocketIO, join_room, leave_room
from limits import parse_many
from socketio.exceptions import ConnectionRefusedError as Refused

from .. import trading
from ..api import serialize
from ..api.access import BadJson
from ..app import current_game
from ..auth import Principal, principal_for_access_token, principal_for_session
from ..errors import InvalidToken, MartingaleError, Unauthorized
from ..extensions import limiter
from ..portfolio import portfolio as portfolio_view
from .rooms import Connections, error_body, player_room, session_room

log = logging.getLogger(__name__)
EXTENSION = "martingale.realtime"
# the same budget as POST /api/v1/trades, counted separately for sockets
TRADE_LIMITS = parse_many("50/second;2000/minute")


class RateLimited(MartingaleError):
    code = "rate_limited"
    status = 429


def register(socketio: SocketIO) -> None:
    """Attach the handlers to the server ``init_app`` just built (it builds one per app)."""
    socketio.on_event("connect", on_connect)
    socketio.on_event("disconnect", on_disconnect)
    socketio.on_event("trade", on_trade)


def connections() -> Connections:
    return current_app.extensions[EXTENSION]


def on_connect(auth: object = None) -> bool:
    try:
        principal = _authenticate(auth)
        if principal is None:
            return True  # anonymous: public market data only
        join_room(player_room(principal.player_id))
        join_room(session_room(principal.session_id))
        connections().add(request.sid, principal)
        # checked again after joining: a revocation committed before this line is seen here; one
        # committed after it finds the socket in its session room (in the microseconds before this
        # handler returns the server cannot disconnect it yet; trades still check the session)
        if principal_for_session(current_game(), principal.session_id) is None:
            raise InvalidToken("session ended")
        return True
    except MartingaleError as exc:
        connections().drop(request.sid)
        raise Refused(exc.message, error_body(exc.code, exc.message)) from None
    except Exception:
        connections().drop(request.sid)
        log.exception("socket connect failed")
        message = "something went wrong on our side"
        raise Refused(message, error_body("internal_error", message)) from None


def _authenticate(auth: object) -> Principal | None:
    """An access token in ``auth`` wins; else the session cookie; else anonymous."""
    if auth is not None and not isinstance(auth, dict):
        raise InvalidToken("auth must be an object: {token: <access token>}")
    if auth and "token" in auth:
        return principal_for_access_token(current_game(), auth["token"])
    if current_user.is_authenticated:
        return current_user.principal
    return None


def on_disconnect(reason: object = None) -> None:
    connections().drop(request.sid)


def on_trade(data: object = None) -> dict[str, Any]:
    """A market order; the acknowledgement carries the REST body and ``replayed``, or an error."""
    try:
        return _trade(data)
    except MartingaleError as exc:
        return error_body(exc.code, exc.message)
    except Exception:
        log.exception("socket trade failed")
        return error_body("internal_error", "something went wrong on our side")


def _trade(data: object) -> dict[str, Any]:
    game = current_game()
    who = _live_principal()
    if not isinstance(data, dict):
        raise BadJson("a trade must be an object: {symbol, side, quantity, idempotency_key}")
    if limiter.enabled and not all(
        limiter.limiter.hit(item, "socket-trade", str(who.player_id)) for item in TRADE_LIMITS
    ):
        raise RateLimited("too many trades: at most 50 per second and 2000 per minute")
    result = trading.execute_trade(
        game,
        player_id=who.player_id,
        symbol=data.get("symbol"),
        side=data.get("side"),
        quantity=data.get("quantity"),
        idempotency_key=data.get("idempotency_key"),
    )
    return serialize.trade_reply(result, portfolio_view(game, who.player_id))


def _live_principal() -> Principal:
    """The socket's player, if its login session is still live (not revoked, not expired)."""
    who = connections().get(request.sid)
    if who is None:
        raise Unauthorized("log in, or connect with auth: {token: <access token>}")
    if principal_for_session(current_game(), who.session_id) is None:
        # ended elsewhere (another server, or expiry): this socket is anonymous from now on
        connections().drop(request.sid)
        leave_room(player_room(who.player_id))
        leave_room(session_room(who.session_id))
        raise Unauthorized("this login session has ended; log in again")
    return who
