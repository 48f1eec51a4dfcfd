"""POST /trades: validation, refusals, idempotency."""

from __future__ import annotations

import pytest

from martingale.engine import MarketEngine
from martingale.models import Posting, Trade

from ..helpers import new_asset
from .helpers import API, assert_error, bearer, cash, count, post_trade, register


@pytest.mark.parametrize(
    ("order", "key", "code"),
    [
        ({"side": "hold", "symbol": "X", "quantity": "1"}, "k", "invalid_side"),
        ({"side": None, "symbol": "X", "quantity": "1"}, "k", "invalid_side"),
        ({"side": 1, "symbol": "X", "quantity": "1"}, "k", "invalid_side"),
        ({"symbol": "X", "quantity": "1"}, "k", "invalid_side"),
        ({"side": "buy", "symbol": "", "quantity": "1"}, "k", "invalid_symbol"),
        ({"side": "buy", "symbol": "A1", "quantity": "1"}, "k", "invalid_symbol"),
        ({"side": "buy", "symbol": "ABCDEFGHIJK", "quantity": "1"}, "k", "invalid_symbol"),
        ({"side": "buy", "symbol": 7, "quantity": "1"}, "k", "invalid_symbol"),
        ({"side": "buy", "quantity": "1"}, "k", "invalid_symbol"),
        ({"side": "buy", "symbol": "X", "quantity": 0.1}, "k", "invalid_quantity"),
        ({"side": "buy", "symbol": "X", "quantity": 1.0}, "k", "invalid_quantity"),
        ({"side": "buy", "symbol": "X", "quantity": 1e2}, "k", "invalid_quantity"),
        ({"side": "buy", "symbol": "X", "quantity": True}, "k", "invalid_quantity"),
        ({"side": "buy", "symbol": "X", "quantity": None}, "k", "invalid_quantity"),
        ({"side": "buy", "symbol": "X", "quantity": ["1"]}, "k", "invalid_quantity"),
        ({"side": "buy", "symbol": "X", "quantity": "0.123456789"}, "k", "invalid_quantity"),
        ({"side": "buy", "symbol": "X", "quantity": "1.000000001"}, "k", "invalid_quantity"),
        ({"side": "buy", "symbol": "X", "quantity": "0"}, "k", "invalid_quantity"),
        ({"side": "buy", "symbol": "X", "quantity": 0}, "k", "invalid_quantity"),
        ({"side": "buy", "symbol": "X", "quantity": "-1"}, "k", "invalid_quantity"),
        ({"side": "buy", "symbol": "X", "quantity": "abc"}, "k", "invalid_quantity"),
        ({"side": "buy", "symbol": "X", "quantity": "NaN"}, "k", "invalid_quantity"),
        ({"side": "buy", "symbol": "X", "quantity": "Infinity"}, "k", "invalid_quantity"),
        (
            {"side": "buy", "symbol": "X", "quantity": "1000000000.00000001"},
            "k",
            "invalid_quantity",
        ),
        ({"side": "buy", "symbol": "X", "quantity": 10**12}, "k", "invalid_quantity"),
        ({"side": "buy", "symbol": "X", "quantity": "1" * 65}, "k", "invalid_quantity"),
        ({"side": "buy", "symbol": "X"}, "k", "invalid_quantity"),
        ({"side": "buy", "symbol": "X", "quantity": "1"}, None, "invalid_idempotency_key"),
        ({"side": "buy", "symbol": "X", "quantity": "1"}, "", "invalid_idempotency_key"),
        ({"side": "buy", "symbol": "X", "quantity": "1"}, "has space", "invalid_idempotency_key"),
        ({"side": "buy", "symbol": "X", "quantity": "1"}, "k" * 256, "invalid_idempotency_key"),
        ({"side": "buy", "symbol": "X", "quantity": "1"}, "café", "invalid_idempotency_key"),
        # the first failure wins, in the order side, symbol, quantity, key
        ({"side": "x", "symbol": "1", "quantity": "x"}, None, "invalid_side"),
        ({"side": "buy", "symbol": "1", "quantity": "x"}, None, "invalid_symbol"),
        ({"side": "buy", "symbol": "X", "quantity": "x"}, None, "invalid_quantity"),
    ],
)
def test_malformed_orders_are_422_and_change_nothing(client, game, order, key, code):
    asset = new_asset(game)
    alice = register(client)
    order = {k: (asset.symbol if v == "X" else v) for k, v in order.items()}
    headers = bearer(alice) | ({} if key is None else {"Idempotency-Key": key})
    r = client.post(f"{API}/trades", json=order, headers=headers)
    assert_error(r, 422, code)
    assert count(game, Trade) == 0 and cash(game, alice["user"]["id"]) == 100_000 * 10**6


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (None, None),
        ("", "application/json"),
        ("{", "application/json"),
        ("[]", "application/json"),
        ('["buy"]', "application/json"),
        ("null", "application/json"),
        ('"buy"', "application/json"),
        ("3", "application/json"),
        ('{"side": "buy"}', "text/plain"),
        ("side=buy&symbol=X&quantity=1", "application/x-www-form-urlencoded"),
        (b"\xff\xfe\x00", "application/json"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_400_invalid_json(client, game, data, content_type):
    alice = register(client)
    r = client.post(
        f"{API}/trades",
        data=data,
        content_type=content_type,
        headers={**bearer(alice), "Idempotency-Key": "k"},
    )
    assert_error(r, 400, "invalid_json")
    for path in ("/auth/register", "/auth/login", "/auth/refresh"):
        assert_error(
            client.post(API + path, data=data, content_type=content_type), 400, "invalid_json"
        )


def test_a_deeply_nested_json_body_is_400_invalid_json(client, game):
    # far deeper than the parser's stack, and under the 64 KiB body limit so that it is parsed
    r = client.post(f"{API}/auth/login", data="[" * 60_000, content_type="application/json")
    assert_error(r, 400, "invalid_json")


def test_an_unknown_symbol_is_404(client, game):
    new_asset(game)
    alice = register(client)
    assert_error(post_trade(client, alice, "ZZZZ", "buy", "1"), 404, "unknown_asset")


def test_an_order_worth_more_than_ten_billion_is_422(client, game):
    asset = new_asset(game, initial="100")
    alice = register(client)
    r = post_trade(client, alice, asset.symbol, "buy", "1000000000")
    assert_error(r, 422, "trade_value_too_large")


def test_not_enough_cash_or_units_is_409_and_changes_nothing(client, game):
    asset = new_asset(game, initial="100")
    alice = register(client)
    assert_error(
        post_trade(client, alice, asset.symbol, "buy", "1000.01"), 409, "insufficient_funds"
    )
    assert_error(
        post_trade(client, alice, asset.symbol, "sell", "0.00000001"), 409, "insufficient_holdings"
    )
    assert post_trade(client, alice, asset.symbol, "buy", "1000").status_code == 201  # all of it
    assert_error(
        post_trade(client, alice, asset.symbol, "sell", "1000.00000001"),
        409,
        "insufficient_holdings",
    )
    assert count(game, Trade) == 1 and cash(game, alice["user"]["id"]) == 0


def test_an_asset_past_its_lifetime_is_409_not_tradable_before_and_after_settlement(
    client, game, clock
):
    asset = new_asset(game, lifetime_s="30")
    alice = register(client)
    assert post_trade(client, alice, asset.symbol, "buy", "1").status_code == 201
    clock.advance(29.999)
    assert post_trade(client, alice, asset.symbol, "buy", "1").status_code == 201  # last tick
    clock.advance(0.001)  # the expiry tick: no engine has run, the row is still live
    assert_error(post_trade(client, alice, asset.symbol, "sell", "1"), 409, "asset_not_tradable")
    MarketEngine(game).step()  # settles it
    assert_error(post_trade(client, alice, asset.symbol, "buy", "1"), 409, "asset_not_tradable")
    assert_error(
        post_trade(client, alice, asset.symbol.lower(), "sell", "1"), 409, "asset_not_tradable"
    )


def test_a_retry_with_the_same_key_replays_the_trade(client, game, clock):
    asset = new_asset(game, initial="100")
    alice = register(client)
    first = post_trade(client, alice, asset.symbol, "buy", "2", key="retry-1")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    clock.advance(3)  # the price has moved since: the replay still shows the original trade
    again = post_trade(client, alice, asset.symbol.lower(), "BUY", "2.00000000", key="retry-1")
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json()["replayed"] is True
    assert again.get_json()["trade"] == first.get_json()["trade"]
    assert again.get_json()["portfolio"]["cash"] == "99800.000000"
    assert count(game, Trade) == 1
    postings = count(game, Posting)
    # keys are per player: bob's identical key is a new trade
    bob = register(client, "bob")
    r = post_trade(client, bob, asset.symbol, "buy", "2", key="retry-1")
    assert r.status_code == 201 and r.get_json()["trade"]["id"] != first.get_json()["trade"]["id"]
    assert count(game, Posting) > postings


@pytest.mark.parametrize(("side", "quantity"), [("buy", "3"), ("sell", "2"), ("buy", "2.00000001")])
def test_the_same_key_for_a_different_order_is_409_duplicate(client, game, side, quantity):
    asset = new_asset(game)
    alice = register(client)
    assert post_trade(client, alice, asset.symbol, "buy", "2", key="dup").status_code == 201
    assert_error(
        post_trade(client, alice, asset.symbol, side, quantity, key="dup"), 409, "duplicate_request"
    )
    other = new_asset(game)
    assert_error(
        post_trade(client, alice, other.symbol, "buy", "2", key="dup"), 409, "duplicate_request"
    )
    assert count(game, Trade) == 1


@pytest.mark.parametrize(
    "quantity", ["\uff11", "\u0663", "1_000", "+1", "1e2", " 0.5 ", "\t1\n", "1.", ".5", "1E0"]
)
def test_quantities_outside_the_ascii_grammar_are_422_and_trade_nothing(client, game, quantity):
    # each of these once executed: Python's Decimal reads Unicode digits, signs, "_" and exponents
    asset = new_asset(game)
    alice = register(client)
    body = assert_error(post_trade(client, alice, asset.symbol, "buy", quantity), 422,
                        "invalid_quantity")  # fmt: skip
    assert "digits 0-9" in body["error"]["message"]
    assert count(game, Trade) == 0 and cash(game, alice["user"]["id"]) == 100_000 * 10**6


def test_a_json_integer_quantity_is_still_accepted_as_documented(client, game):
    asset = new_asset(game)
    alice = register(client)
    r = post_trade(client, alice, asset.symbol, "buy", 2)
    assert r.status_code == 201, r.get_data(as_text=True)
    assert r.get_json()["trade"]["quantity"] == "2.00000000"


def test_the_trade_budget_answers_as_flask_limiter_did(client, game):
    """Every reply of a trade request carries the budget's headers; the 51st in a second is 429."""
    asset = new_asset(game)
    alice, bob = register(client, "alice"), register(client, "bob")
    first = post_trade(client, alice, asset.symbol, "buy", "1")
    assert first.status_code == 201
    assert first.headers["X-RateLimit-Limit"] == "50"
    assert first.headers["X-RateLimit-Remaining"] == "49"
    assert int(first.headers["X-RateLimit-Reset"]) > 0 and first.headers["Retry-After"] in {
        "0",
        "1",
    }
    refused = None
    for _ in range(400):  # refusals count too; a slow machine may see a window close first
        r = client.post(f"{API}/trades", json={"side": "hold"},
                        headers={**bearer(alice), "Idempotency-Key": "k"})  # fmt: skip
        if r.status_code == 429:
            refused = r
            break
        assert r.status_code == 422 and "X-RateLimit-Remaining" in r.headers
    assert refused is not None
    body = assert_error(refused, 429, "rate_limited")
    assert body["error"]["message"] == "too many requests: 50 per 1 second"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert post_trade(client, bob, asset.symbol, "buy", "1").status_code == 201  # bob's own budget
