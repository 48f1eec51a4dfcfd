"""Socket.IO: one batched price message per tick, private pushes per player room, trades by ack.

One process (``make run``) keeps rooms in memory. Several processes (the Procfile: web workers and
the engine) share them through Redis (``MARTINGALE_MESSAGE_QUEUE``, by default ``REDIS_URL``): an
emit from any process reaches the sockets of every web worker. Clients connect by WebSocket only
(docs/decisions/0006), so no request of a Socket.IO session can reach a worker that does not hold it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask
from flask_socketio import SocketIO

from ..extensions import socketio
from ..game import game_of
from . import events
from .bridge import Bridge
from .fanout import FramedDriver
from .origins import allowed_origins
from .queue import manager_for
from .rooms import Connections

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

BRIDGE = "martingale.bridge"


def init_realtime(app: Flask) -> None:
    socketio.init_app(
        app,
        async_mode=app.config["MARTINGALE_ASYNC_MODE"],
        cors_allowed_origins=allowed_origins(app.config.get("MARTINGALE_CORS_ORIGINS") or ()),
        # a socket from another origin authenticates by token alone (events._authenticate)
        cors_credentials=False,
        # always a fresh manager: the extension object outlives one app (tests build many)
        client_manager=manager_for(app.config.get("MARTINGALE_MESSAGE_QUEUE")),
        # no long-polling: its requests could reach a worker that does not hold the session
        transports=["websocket"],
        # Engine.IO refuses a longer message only once it has it whole; CappedWebSocket stops
        # reading at the limit
        max_http_buffer_size=app.config["MARTINGALE_MAX_SOCKET_MESSAGE_BYTES"],
    )
    eio = socketio.server.eio
    # a copy: the driver's table is shared by every server in the process (tests build many)
    # and that hands each connection's socket to FramedEmit (fanout.py): broadcasts framed once
    driver = FramedDriver(CappedWebSocket(eio._async["websocket"]))
    eio._async = dict(eio._async, websocket=driver)
    # Flask's documented way to wrap the WSGI app; its types declare wsgi_app a plain method
    app.wsgi_app = NoCompression(app.wsgi_app)  # type: ignore[method-assign]
    app.extensions[events.EXTENSION] = Connections()
    events.register(socketio)
    game = game_of(app)
    bridge = Bridge(game, socketio)
    app.extensions[BRIDGE] = bridge
    game.events.subscribe(bridge)


class CappedWebSocket:
    """Engine.IO's WebSocket driver, told to stop reading a message at the server's limit.

    Engine.IO compares a message with ``max_http_buffer_size`` only after the WebSocket layer has
    gathered it whole, so a client could make a worker hold any size it liked. simple-websocket can
    count as frames arrive and close with 1009 (message too big) at the limit, but Engine.IO does
    not pass it the limit: this passes it. A driver without that option (gevent-websocket) keeps
    Engine.IO's check alone.
    """

    def __init__(self, driver: Any) -> None:
        self.driver = driver

    def __call__(self, handler: Any, server: Any) -> Any:
        ws = self.driver(handler, server)
        options = getattr(ws, "server_args", None)
        if isinstance(options, dict):
            options["max_message_size"] = server.max_http_buffer_size
        return ws


class NoCompression:
    """WSGI middleware: decline WebSocket per-message compression (permessage-deflate).

    Browsers offer it and the WebSocket server would accept, compressing every message once per
    socket: a tick sent to 5,000 sockets would be deflated 5,000 times (measured: fan-out p99 went
    from 0.7 s to 2.4 s, and sockets fell behind). Without it each worker frames the tick once and
    every socket gets the same bytes. Removing the offer from the request is the standard way to
    decline it: the handshake then answers without the extension.
    """

    def __init__(self, wsgi_app: WSGIApplication) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return self.wsgi_app(environ, start_response)


def emit_only(app: Flask) -> bool:
    """For a process that serves no socket (``flask engine``): publish through a write-only manager.

    Its pushes (prices, births, settlements) go to the queue once and every web worker delivers
    them to its own sockets; the process never subscribes to the queue. False: no queue configured,
    so nothing this process emits can reach a client.
    """
    url = app.config.get("MARTINGALE_MESSAGE_QUEUE")
    if not url:
        return False
    writer = SocketIO()
    writer.init_app(None, client_manager=manager_for(url, write_only=True), async_mode="threading")
    bridge: Bridge = app.extensions[BRIDGE]
    bridge.socketio = writer
    return True
