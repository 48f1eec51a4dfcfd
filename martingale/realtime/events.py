"""Socket handlers: connect (token, cookie or anonymous), disconnect, and trade by acknowledgement.

Handlers stay thin: parse, call the same services as the REST API, and answer with the same bodies.
An authenticated socket sits in ``player:<id>`` and ``session:<sid>``; anonymous sockets get only
the broadcasts (public market data). ``_refusal`` is the one place an error becomes a socket reply.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, request
from flask_login import current_user
from flask_socketio import SocketIO, join_room, leave_room
from socketio.exceptions import ConnectionRefusedError as Refused

from .. import metrics, rate_limits, trading, wire
from ..auth import (
    Principal,
    SessionEnded,
    principal_for_access_token,
    principal_for_session,
    require_live_session,
)
from ..errors import InvalidJson, InvalidToken, MartingaleError, Unauthorized
from ..game import current_game
from .origins import own_origin
from .rooms import Connections, player_room, session_room

log = logging.getLogger(__name__)
EXTENSION = "martingale.realtime"


def register(socketio: SocketIO) -> None:
    """Attach the handlers to the server ``init_app`` just built (it builds one per app)."""
    connect, disconnect = metrics.counted_connection(on_connect, on_disconnect)
    socketio.on_event("connect", connect)
    socketio.on_event("disconnect", disconnect)
    socketio.on_event("trade", metrics.socket_trade(on_trade))


def connections() -> Connections:
    found: Connections = current_app.extensions[EXTENSION]
    return found


def _sid() -> str:
    # Flask-SocketIO adds ``sid`` to the request of each socket event; Flask's types cannot know it
    sid: str = request.sid  # type: ignore[attr-defined]
    return sid


def _refusal(exc: Exception, during: str) -> dict[str, dict[str, str]]:
    """A domain refusal keeps its code and message; anything else is a bug, logged, not shown."""
    if isinstance(exc, MartingaleError):
        return wire.error_body(exc.code, exc.message)
    log.error("socket %s failed", during, exc_info=exc)
    return wire.INTERNAL_ERROR


def on_connect(auth: object = None) -> bool:
    try:
        principal = _authenticate(auth)
        if principal is None:
            return True  # anonymous: public market data only
        join_room(player_room(principal.player_id))
        join_room(session_room(principal.session_id))
        connections().add(_sid(), principal)
        # checked again after joining: a revocation committed before this line is seen here; one
        # committed after it finds the socket in its session room (in the microseconds before this
        # handler returns the server cannot disconnect it yet; trades still check the session)
        if principal_for_session(current_game(), principal.session_id) is None:
            raise InvalidToken("session ended")
        return True
    except Exception as exc:
        connections().drop(_sid())
        body = _refusal(exc, "connect")
        raise Refused(body["error"]["message"], body) from None


def _authenticate(auth: object) -> Principal | None:
    """An access token in ``auth`` wins; else the session cookie (from the game's own pages only);
    else anonymous."""
    if auth is not None and not isinstance(auth, dict):
        raise InvalidToken("auth must be an object: {token: <access token>}")
    if auth and "token" in auth:
        return principal_for_access_token(current_game(), auth["token"])
    if own_origin(request.environ) and current_user.is_authenticated:
        found: Principal = current_user.principal
        return found
    return None


def on_disconnect(reason: object = None) -> None:
    connections().drop(_sid())


def on_trade(data: object = None) -> dict[str, Any]:
    """A market order; the acknowledgement carries the REST body and ``replayed``, or an error."""
    who: Principal | None = None
    try:
        who = connections().get(_sid())
        if who is None:
            raise Unauthorized("log in, or connect with auth: {token: <access token>}")
        try:
            if not isinstance(data, dict):
                raise InvalidJson(
                    "a trade must be an object: {symbol, side, quantity, idempotency_key}"
                )
            rate_limits.spend_socket_trade(rate_limits.budget_of(current_app), who.player_id)
        except MartingaleError:
            # refused before the trade could check the session: an ended one is answered first
            require_live_session(current_game(), who.player_id, who.session_id)
            raise
        reply = trading.place_trade(
            current_game(),
            player_id=who.player_id,
            symbol=data.get("symbol"),
            side=data.get("side"),
            quantity=data.get("quantity"),
            amount=data.get("amount"),
            limit_price=data.get("limit_price"),
            idempotency_key=data.get("idempotency_key"),
            session_id=who.session_id,  # checked in the trade's own round trip
        )
        return wire.trade_reply(reply)
    except SessionEnded:
        _forget(who)
        return _refusal(Unauthorized("this login session has ended; log in again"), "trade")
    except Exception as exc:
        return _refusal(exc, "trade")


def _forget(who: Principal | None) -> None:
    """The socket's session ended elsewhere (another server, or expiry): anonymous from now on."""
    connections().drop(_sid())
    if who is not None:
        leave_room(player_room(who.player_id))
        leave_room(session_room(who.session_id))
