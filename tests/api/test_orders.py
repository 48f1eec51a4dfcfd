"""POST /trades with amount and limit_price, and GET /orders/<key>: what became of an order."""

from __future__ import annotations

from urllib.parse import quote

from martingale.models import Trade

from ..helpers import new_asset
from .helpers import API, assert_error, bearer, count, post_trade, register


def post_order(client, tokens, key, **order):
    return client.post(
        f"{API}/trades", json=order, headers={**bearer(tokens), "Idempotency-Key": key}
    )


def test_a_buy_by_amount_spends_at_most_the_amount(client, game):
    asset = new_asset(game, initial="3")
    alice = register(client)
    r = post_order(client, alice, "d1", side="buy", symbol=asset.symbol, amount="10")
    assert r.status_code == 201, r.get_json()
    trade = r.get_json()["trade"]
    assert (trade["quantity"], trade["total"]) == (
        "3.33333333",
        "10.000000",
    )  # 9.99999999, rounded up
    assert r.get_json()["portfolio"]["cash"] == "99990.000000"


def test_quantity_and_amount_together_is_422_and_trades_nothing(client, game):
    asset = new_asset(game, initial="1000")  # an atom costs $0.00001
    alice = register(client)
    r = post_order(client, alice, "d2", side="buy", symbol=asset.symbol, quantity="1", amount="5")
    assert_error(r, 422, "invalid_amount")
    r = post_order(client, alice, "d3", side="sell", symbol=asset.symbol, amount="5")
    assert_error(r, 422, "invalid_amount")
    r = post_order(client, alice, "d4", side="buy", symbol=asset.symbol, amount="0.000001")
    assert_error(r, 422, "amount_too_small")
    assert count(game, Trade) == 0


def test_a_limit_the_price_is_beyond_is_409_price_moved(client, game):
    asset = new_asset(game, initial="100")
    alice = register(client)
    r = post_order(
        client, alice, "l1", side="buy", symbol=asset.symbol, quantity="1", limit_price="99.99"
    )
    body = assert_error(r, 409, "price_moved")
    assert (
        "$100.00000000" in body["error"]["message"] and "$99.99000000" in body["error"]["message"]
    )
    assert count(game, Trade) == 0
    r = post_order(
        client, alice, "l1", side="buy", symbol=asset.symbol, quantity="1", limit_price="100"
    )
    assert r.status_code == 201  # nothing was written under the key: it is free to fill now


def test_an_order_key_tells_whether_the_order_reached_the_books(client, game):
    asset = new_asset(game, initial="4.1")
    alice, bob = register(client), register(client, "bob")
    key = "web-2f1c/ä?"[:8] + "/x?y#z"  # printable ASCII with characters a path must escape
    key = key.encode("ascii", "ignore").decode()
    r = post_trade(client, alice, asset.symbol, "buy", "2", key=key)
    assert r.status_code == 201
    found = client.get(f"{API}/orders/{quote(key, safe='')}", headers=bearer(alice))
    assert found.status_code == 200, found.get_json()
    assert found.get_json() == {"trade": r.get_json()["trade"]}
    # keys are per player; an unknown key never reached the books
    assert_error(
        client.get(f"{API}/orders/{quote(key, safe='')}", headers=bearer(bob)), 404,
        "unknown_order",
    )  # fmt: skip
    assert_error(client.get(f"{API}/orders/never-sent", headers=bearer(alice)), 404,
                 "unknown_order")  # fmt: skip
    # an order refused is not on the books either
    post_trade(client, alice, asset.symbol, "sell", "5", key="refused")
    assert_error(client.get(f"{API}/orders/refused", headers=bearer(alice)), 404, "unknown_order")
    assert_error(client.get(f"{API}/orders/never-sent"), 401, "unauthorized")
