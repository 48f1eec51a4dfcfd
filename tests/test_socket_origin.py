"""A socket that carries the session cookie must come from an allowed origin.

A page on another origin can open a WebSocket to the game, and the browser attaches the game's
cookie when the two sites are same-site (a sibling subdomain, say): without an origin check that
page would trade as the signed-in player. The handshake is refused unless its Origin is the game's
own, a Capacitor wrapper's (capacitor://localhost, https://localhost) or one of
MARTINGALE_CORS_ORIGINS; and only a socket from the game's own pages may be authenticated by the
cookie: the wrapper's sockets carry a bearer token. Real server, real WebSocket: the Flask-SocketIO
test client skips the handshake where the check lives.
"""

from __future__ import annotations

import json
import re

import pytest
import requests
import websocket

from martingale import create_app
from martingale.game import game_of

from .helpers import live_server, make_config

PASSWORD = "Quartz-Lantern-31"
EVIL = "http://evil.example"


def browser_cookie(url: str) -> str:
    """Register through the form, as a browser does: the Cookie header it would send."""
    browser = requests.Session()
    page = browser.get(f"{url}/register", timeout=30).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    r = browser.post(
        f"{url}/register",
        data={"csrf_token": token, "username": "victim", "password": PASSWORD,
              "password2": PASSWORD},
        allow_redirects=False, timeout=30,
    )  # fmt: skip
    assert r.status_code == 302, r.text
    return "; ".join(f"{c.name}={c.value}" for c in browser.cookies)


def open_socket(url: str, origin: str, cookie: str) -> websocket.WebSocket:
    ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    return websocket.create_connection(ws_url, origin=origin, cookie=cookie, timeout=10)


def api_token(url: str, name: str) -> str:
    r = requests.post(f"{url}/api/v1/auth/register", json={"username": name, "password": PASSWORD},
                      timeout=30)  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()["access_token"]


def trade_as(ws: websocket.WebSocket, token: str | None = None) -> dict:
    """Join the namespace and send a trade; its acknowledgement tells who the socket is."""
    assert ws.recv().startswith("0{")  # Engine.IO open
    ws.send("40" + (json.dumps({"token": token}) if token else ""))
    assert ws.recv().startswith("40{")  # Socket.IO connect accepted
    order = {"symbol": "ZZZ", "side": "buy", "quantity": "1", "idempotency_key": "k1"}
    ws.send("421" + json.dumps(["trade", order]))
    while not (reply := ws.recv()).startswith("431"):
        pass
    return json.loads(reply[3:])[0]


def assert_refused(url: str, origin: str, cookie: str) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        open_socket(url, origin, cookie)
    assert refused.value.status_code == 400


def test_a_cookie_socket_from_another_origin_is_refused_and_the_same_origin_trades(app, game):
    with live_server(app) as url:
        cookie = browser_cookie(url)
        assert_refused(url, EVIL, cookie)
        assert_refused(url, url.replace("127.0.0.1", "localhost"), cookie)
        ws = open_socket(url, url, cookie)
        try:
            ack = trade_as(ws)
        finally:
            ws.close()
    # past authentication, into the trade service: the cookie made this socket the player's
    assert ack["error"]["code"] == "unknown_asset", ack


@pytest.fixture
def app_with_extra_origin(database_url):
    app = create_app(make_config(database_url, MARTINGALE_CORS_ORIGINS=("https://app.example",)))
    yield app
    game_of(app).database.dispose()


def test_extra_origins_are_allowed_beside_the_games_own_with_a_token_not_the_cookie(
    app_with_extra_origin,
):
    with live_server(app_with_extra_origin) as url:
        cookie = browser_cookie(url)
        token = api_token(url, "wrapped")
        assert_refused(url, EVIL, cookie)
        assert_refused(url, EVIL, "")
        for origin in ("https://app.example", "capacitor://localhost", "https://localhost"):
            ws = open_socket(url, origin, cookie)
            try:  # accepted, but the cookie does not cross origins: an anonymous socket
                assert trade_as(ws)["error"]["code"] == "unauthorized"
            finally:
                ws.close()
            ws = open_socket(url, origin, "")
            try:  # the wrapper's way: a bearer token in the connect packet
                assert trade_as(ws, token)["error"]["code"] == "unknown_asset"
            finally:
                ws.close()
        ws = open_socket(url, url, cookie)
        try:
            assert trade_as(ws)["error"]["code"] == "unknown_asset"
        finally:
            ws.close()


def test_the_capacitor_origins_are_allowed_by_default(app, game):
    with live_server(app) as url:
        token = api_token(url, "wrapped")
        assert_refused(url, EVIL, "")
        for origin in ("capacitor://localhost", "https://localhost"):
            ws = open_socket(url, origin, "")
            try:
                assert trade_as(ws, token)["error"]["code"] == "unknown_asset"
            finally:
                ws.close()
