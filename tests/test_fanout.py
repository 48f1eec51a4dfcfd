"""A broadcast is encoded and framed once per process, whatever the number of sockets (issue 8
item 3), and every client still receives the same Engine.IO message the library would send.

The live tests speak Engine.IO over real WebSockets to the app on a real socket (the test client
hands events over without encoding them); the direct, non-blocking write that gevent workers use
is exercised on a socket pair.
"""

from __future__ import annotations

import concurrent.futures
import json
import queue
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import websocket
from engineio import packet as eio_packet

from martingale.realtime import BRIDGE
from martingale.realtime.fanout import Framed, FramedWebSocket, Remainder, text_frame, write_now

from .helpers import live_server

SOCKETS = 6
TICK = {
    "tick_seq": 7,
    "t": "2026-12-05T03:00:00.000Z",
    "prices": {"ABC": "101.25", "XYZ": "9.50"},
    "ticks": {"ABC": 7, "XYZ": 3},
}


def _open(address: str) -> websocket.WebSocket:
    """An anonymous Socket.IO connection, past the Engine.IO and namespace handshakes."""
    ws = websocket.create_connection(
        f"ws://{address}/socket.io/?EIO=4&transport=websocket", timeout=10
    )
    assert ws.recv().startswith("0{")
    ws.send("40")
    assert ws.recv().startswith("40")
    return ws


def _next_prices(ws: websocket.WebSocket) -> str:
    while True:
        text = ws.recv()
        if text == "2":
            ws.send("3")
        elif text.startswith('42["prices"'):
            return str(text)


@pytest.fixture
def address(app) -> Iterator[str]:
    with live_server(app) as found:
        yield found.removeprefix("http://")


def test_a_tick_to_many_sockets_is_encoded_once_and_arrives_the_same_everywhere(
    app, address, monkeypatch
):
    sockets = [_open(address) for _ in range(SOCKETS)]
    encodings: list[str] = []
    original = eio_packet.Packet.encode

    def counting(self: Any, b64: bool = False) -> Any:
        encoded = original(self, b64)
        if isinstance(encoded, str) and '"prices"' in encoded:
            encodings.append(encoded)
        return encoded

    monkeypatch.setattr(eio_packet.Packet, "encode", counting)
    try:
        app.extensions[BRIDGE].on_prices(TICK)
        received = [_next_prices(ws) for ws in sockets]
    finally:
        for ws in sockets:
            ws.close()
    assert len(encodings) == 1  # was one per socket: each writer encoded the shared packet again
    assert received == ['42["prices",' + json.dumps(TICK, separators=(",", ":")) + "]"] * SOCKETS
    assert json.loads(received[0][2:]) == ["prices", TICK]


@pytest.mark.parametrize("size", [5, 125, 126, 65535, 65536])
def test_the_frame_is_the_one_a_websocket_library_would_send(size):
    from wsproto.frame_protocol import FrameProtocol

    text = "4" + "x" * (size - 1)
    ours = text_frame(text)
    theirs = FrameProtocol(client=False, extensions=[]).send_data(text, fin=True)
    assert ours == theirs  # the server's side: final, unmasked


# -- the direct write gevent workers use ---------------------------------------------------------
class _Inner:
    """What simple-websocket's Server exposes: its socket, its request, whether it is open."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.environ, self.connected = sock, {}, True


class _Driver:
    def __init__(self, sock: socket.socket) -> None:
        self.ws = _Inner(sock)
        self.sent: list[Any] = []

    def send(self, message: Any) -> None:
        self.sent.append(message)


class _EioSocket:
    """The Engine.IO socket attributes write_now reads."""

    def __init__(self, ws: FramedWebSocket) -> None:
        self.martingale_ws = ws
        self.closing = self.closed = self.upgrading = False
        self.upgraded = True
        self.queue: queue.Queue[Any] = queue.Queue()

    def check_ping_timeout(self) -> bool:
        return True


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    server, client = socket.socketpair()
    server.setblocking(False)  # as gevent keeps its sockets underneath
    yield server, client
    server.close()
    client.close()


def _read(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        data += sock.recv(size - len(data))
    return data


def test_an_idle_socket_gets_the_frame_at_once(pair):
    server, client = pair
    eio_socket = _EioSocket(FramedWebSocket(_Driver(server)))
    frame = text_frame('42["prices",{}]')
    assert write_now(eio_socket, frame)
    assert _read(client, len(frame)) == frame
    assert eio_socket.queue.empty()


def test_a_busy_socket_keeps_its_order_through_the_queue(pair):
    server, _client = pair
    ws = FramedWebSocket(_Driver(server))
    eio_socket = _EioSocket(ws)
    eio_socket.queue.put(object())  # something the writer has not sent yet
    assert not write_now(eio_socket, b"frame")
    eio_socket.queue.get()
    ws.idle = False  # the writer is in the middle of a frame
    assert not write_now(eio_socket, b"frame")
    ws.idle = True
    ws._ws.ws.environ["HTTP_SEC_WEBSOCKET_EXTENSIONS"] = (
        "permessage-deflate"  # frames may be transformed
    )
    assert not write_now(eio_socket, b"frame")


def test_a_short_write_queues_the_rest_ahead_of_anything_else(pair):
    server, client = pair
    server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    ws = FramedWebSocket(_Driver(server))
    eio_socket = _EioSocket(ws)
    frame = text_frame("4" + "y" * 300_000)
    assert write_now(eio_socket, frame)
    rest = eio_socket.queue.get_nowait()
    assert isinstance(rest, Remainder)
    encoded = rest.encode()
    assert isinstance(encoded, Framed)
    head = len(frame) - len(encoded.frame)
    assert head > 0
    reader = concurrent.futures.ThreadPoolExecutor(1).submit(_read, client, len(frame))
    server.setblocking(True)
    ws.send(encoded)  # what the writer does with it
    assert reader.result(timeout=10) == frame
