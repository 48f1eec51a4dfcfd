"""A broadcast framed once: the same WebSocket frame bytes for every socket of this process.

python-socketio already encodes a broadcast's Socket.IO packet once, but then every recipient
costs Python of its own: a put on the socket's queue, a switch to its writer greenlet, the
Engine.IO encoding, wsproto building the frame, a gevent timeout around the write. Profiled under
bench/fanout.py that was about half of the web workers' CPU per delivery (docs/decisions/0007,
"Fourth look"). A server's WebSocket frames are not masked (RFC 6455 5.1), so without per-message
compression (``NoCompression`` declines it) a text message is the same bytes on every socket:
``FramedEmit`` builds them once per emit and, under gevent, writes them straight to each idle
socket without blocking; a socket with something queued, or a short write, takes the ordinary
queue, which its writer sends in order. What a client receives is byte for byte what the library
would have sent: the same Engine.IO message, in one final text frame.

Narrow on purpose: an emit with an ack callback (a packet per recipient) or binary attachments
(several packets) goes the library's way, and so does any socket this module cannot vouch for (a
negotiated extension, TLS inside the worker, a socket closing or mid-upgrade).
"""

from __future__ import annotations

import os
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet as sio_packet


def text_frame(text: str) -> bytes:
    """One final, unmasked WebSocket text frame (a server's) carrying ``text``."""
    data = text.encode()
    size = len(data)
    if size < 126:
        head = bytes((0x81, size))
    elif size < 1 << 16:
        head = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return head + data


class Framed(str):
    """An encoded Engine.IO message that carries its WebSocket frame, built once for all."""

    frame: bytes

    def __new__(cls, text: str, frame: bytes | None = None) -> Framed:
        self = super().__new__(cls, text)
        self.frame = text_frame(text) if frame is None else frame
        return self


class FramedPacket(eio_packet.Packet):
    """An Engine.IO MESSAGE whose encoding is computed once and shared by every socket."""

    def __init__(self, encoded: Framed) -> None:
        super().__init__(eio_packet.MESSAGE, encoded[1:])
        self.framed = encoded

    def encode(self, b64: bool = False) -> Any:
        return self.framed


class Remainder(eio_packet.Packet):
    """The unsent tail of a frame a non-blocking write began: the writer sends it before
    anything queued after it, so the frame arrives whole and in order."""

    def __init__(self, tail: bytes) -> None:
        super().__init__(eio_packet.NOOP)
        self.tail = tail

    def encode(self, b64: bool = False) -> Any:
        return Framed("", self.tail)


class FramedWebSocket:
    """Engine.IO's WebSocket object for one connection, sending pre-built frames as they are.

    Everything but ``send`` is the driver's own. ``idle`` is False while a send is in progress,
    so a direct write never lands inside a frame the writer has half written.
    """

    def __init__(self, ws: Any) -> None:
        self._ws = ws
        self.idle = True
        self._raw: Any = None  # the plain TCP socket, False when frames must go through the driver

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ws, name)

    def raw_socket(self) -> Any:
        """The connection's TCP socket when frames may be written to it as they are, else None."""
        inner = getattr(self._ws, "ws", None)  # simple-websocket's Server
        if not getattr(inner, "connected", False):
            return None
        if self._raw is None:  # decided once: the handshake and the socket's kind do not change
            sock = getattr(inner, "sock", None)
            environ = getattr(inner, "environ", None)
            plain = (
                sock is not None
                and environ is not None
                # an extension may transform frames; TLS must not be bypassed
                and not environ.get("HTTP_SEC_WEBSOCKET_EXTENSIONS")
                and not hasattr(sock, "cipher")
            )
            self._raw = sock if plain else False
        return self._raw or None

    def send(self, message: Any) -> Any:
        self.idle = False
        try:
            if isinstance(message, Framed):
                sock = self.raw_socket()
                if sock is None:  # the driver frames it (an extension was negotiated)
                    return self._ws.send(str(message)) if message else None
                sock.sendall(message.frame)  # an error ends the writer, as the driver's would
                return None
            return self._ws.send(message)
        finally:
            self.idle = True


class FramedDriver:
    """Wraps Engine.IO's WebSocket driver so each connection's socket knows its FramedWebSocket."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver

    def __call__(self, handler: Any, server: Any) -> Any:
        eio_socket = getattr(handler, "__self__", None)

        def framed_handler(ws: Any) -> Any:
            wrapped = FramedWebSocket(ws)
            if eio_socket is not None:
                eio_socket.martingale_ws = wrapped
            return handler(wrapped)

        return self.driver(framed_handler, server)


def write_now(eio_socket: Any, frame: bytes) -> bool:
    """Write ``frame`` to an idle socket without blocking; False when it must take the queue.

    Only under gevent, where nothing runs between the checks and the write: the socket's queue
    is empty and its writer is not mid-send, so the frame cannot overtake or split another.
    """
    ws = getattr(eio_socket, "martingale_ws", None)
    if (
        ws is None
        or not ws.idle
        or eio_socket.closing
        or eio_socket.closed
        or not eio_socket.upgraded
        or eio_socket.upgrading
        or not eio_socket.queue.empty()
    ):
        return False
    sock = ws.raw_socket()
    if sock is None:
        return False
    if not eio_socket.check_ping_timeout():  # what Engine.IO's send checks first
        return True  # closed for not answering pings: nothing to send
    try:
        sent = os.write(sock.fileno(), frame)  # gevent's sockets are non-blocking underneath
    except BlockingIOError:
        return False
    except OSError:
        return False  # the writer meets the same error and closes the socket its own way
    if sent < len(frame):
        eio_socket.queue.put(Remainder(frame[sent:]))
    return True


class FramedEmit(socketio.Manager):
    """The client manager's local delivery of an emit: encoded and framed once for every socket."""

    def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> Any:
        if callback is not None or namespace not in self.rooms or self.server is None:
            return super().emit(event, data, namespace, room=room, skip_sid=skip_sid,
                                callback=callback, to=to, **kwargs)  # fmt: skip
        args = list(data) if isinstance(data, tuple) else [] if data is None else [data]
        encoded = self.server.packet_class(
            sio_packet.EVENT, namespace=namespace, data=[event, *args]
        ).encode()
        if isinstance(encoded, list):  # binary attachments: several packets, the library's way
            return super().emit(event, data, namespace, room=room, skip_sid=skip_sid,
                                callback=callback, to=to, **kwargs)  # fmt: skip
        message = Framed(eio_packet.Packet(eio_packet.MESSAGE, encoded).encode())
        pkt = FramedPacket(message)
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        eio = self.server.eio
        direct = eio.async_mode == "gevent"
        sockets = eio.sockets
        for sid, eio_sid in self.get_participants(namespace, to or room):
            if sid in skip:
                continue
            if direct:
                eio_socket = sockets.get(eio_sid)
                if eio_socket is not None and write_now(eio_socket, message.frame):
                    continue
            self.server._send_eio_packet(eio_sid, pkt)
        return None
