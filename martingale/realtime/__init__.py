"""Socket.IO: one batched price message per tick, private pushes per player room, trades by ack."""

from __future__ import annotations

from flask import Flask

from ..extensions import socketio
from ..game import game_of
from . import events
from .bridge import Bridge
from .rooms import Connections


def init_realtime(app: Flask) -> None:
    origins = app.config.get("MARTINGALE_CORS_ORIGINS") or None  # None: same origin only
    socketio.init_app(
        app,
        async_mode=app.config["MARTINGALE_ASYNC_MODE"],
        cors_allowed_origins=origins,
        message_queue=app.config.get("MARTINGALE_MESSAGE_QUEUE"),
    )
    app.extensions[events.EXTENSION] = Connections()
    events.register(socketio)
    game = game_of(app)
    game.events.subscribe(Bridge(game, socketio))
