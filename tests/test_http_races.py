"""The engine's races again, through real HTTP requests to a live server on 127.0.0.1."""

import threading
from collections import Counter

import pytest
import requests
from werkzeug.serving import make_server

from martingale.models import Player
from martingale.money import USD_SCALE
from martingale.transaction_utils import read

from .helpers import new_asset, race

GRANT = 100_000 * USD_SCALE


@pytest.fixture
def live_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


def register(url, name):
    reply = requests.post(
        f"{url}/api/v1/auth/register",
        json={"username": name, "password": "Quartz-Lantern-31"},
        timeout=30,
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


def test_32_http_buys_of_40_percent_each_exactly_two_succeed(game, live_url):
    asset = new_asset(game, initial="100", volatility="0.0001")
    login = register(live_url, "racer")
    headers = {"Authorization": f"Bearer {login['access_token']}"}

    def buy(i):
        reply = requests.post(
            f"{live_url}/api/v1/trades",
            json={"symbol": asset.symbol, "side": "buy", "quantity": "400"},
            headers=headers | {"Idempotency-Key": f"race-{i}"},
            timeout=60,
        )
        return reply.status_code, reply.json()

    results = race(32, buy)
    assert Counter(status for status, _ in results) == {201: 2, 409: 30}
    assert {body["error"]["code"] for status, body in results if status == 409} == {
        "insufficient_funds"
    }
    cash = read(game.database, lambda s: s.get(Player, login["user"]["id"]).cash)
    assert cash == GRANT - 80_000 * USD_SCALE


def test_16_http_retries_of_one_key_trade_once(game, live_url):
    asset = new_asset(game, volatility="0.0001")
    login = register(live_url, "retrier")
    headers = {"Authorization": f"Bearer {login['access_token']}", "Idempotency-Key": "same"}

    def buy(_i):
        reply = requests.post(
            f"{live_url}/api/v1/trades",
            json={"symbol": asset.symbol, "side": "buy", "quantity": "2"},
            headers=headers,
            timeout=60,
        )
        return reply.status_code, reply.headers.get("Idempotent-Replayed"), reply.json()

    results = race(16, buy)
    assert Counter(status for status, _, _ in results) == {201: 1, 200: 15}
    assert {replayed for status, replayed, _ in results if status == 200} == {"true"}
    assert len({body["trade"]["id"] for _, _, body in results}) == 1
    trades = requests.get(
        f"{live_url}/api/v1/trades", headers={"Authorization": headers["Authorization"]}, timeout=30
    ).json()["trades"]
    assert len(trades) == 1
