"""One JSON log line per request, with its request id, its player and the trade it made."""

from __future__ import annotations

import io
import json
import logging

import pytest

from martingale.logs import configure_logging

from ..helpers import new_asset
from .helpers import API, post_trade, register


@pytest.fixture
def json_lines():
    """The JSON lines this process logs during the test (the handler is the production one)."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    out = io.StringIO()
    configure_logging("json", "INFO", stream=out)

    def lines() -> list[dict]:
        text = out.getvalue()
        out.seek(0)
        out.truncate()
        return [json.loads(line) for line in text.splitlines()]

    yield lines
    root.handlers[:], root.level = handlers, level


def test_a_trade_logs_its_request_id_player_and_trade(client, game, json_lines):
    asset = new_asset(game)
    tokens = register(client)
    json_lines()
    reply = post_trade(client, tokens, asset.symbol, "buy", "1", **{"X-Request-ID": "req-1234abcd"})
    assert reply.status_code == 201
    assert reply.headers["X-Request-ID"] == "req-1234abcd"
    [line] = [x for x in json_lines() if x["logger"] == "martingale.access"]
    assert line["request_id"] == "req-1234abcd"
    assert line["player_id"] == tokens["user"]["id"]
    assert line["trade_id"] == reply.get_json()["trade"]["id"]
    assert (line["method"], line["path"], line["status"]) == ("POST", f"{API}/trades", 201)
    assert line["level"] == "info" and line["ms"] >= 0 and line["ts"].endswith("+00:00")


@pytest.mark.parametrize(
    "offered", ["", "short", "x" * 65, "has space in it", "a;b-12345678<script>"]
)
def test_an_unusable_request_id_is_replaced_by_a_made_one(client, offered, json_lines):
    reply = client.get("/healthz", headers={"X-Request-ID": offered} if offered else {})
    made = reply.headers["X-Request-ID"]
    assert made != offered and len(made) == 32 and made.isalnum()
    [line] = [x for x in json_lines() if x["logger"] == "martingale.access"]
    assert line["request_id"] == made and "player_id" not in line
