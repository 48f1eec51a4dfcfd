"""CSRF for cookie-authenticated writes; a bearer token needs none."""

from __future__ import annotations

from martingale import money
from martingale.models import Trade

from ..helpers import new_asset
from .helpers import (
    API,
    PASSWORD,
    assert_error,
    cash,
    cookie_login,
    count,
    csrf_token,
    post_trade,
    register,
)


def test_a_cookie_session_reads_without_csrf_but_writes_need_the_token(app, client, game):
    asset = new_asset(game)
    login = cookie_login(game, client)
    r = client.get(f"{API}/portfolio")
    assert r.status_code == 200 and r.get_json()["cash"] == "100000.000000"
    order = {"symbol": asset.symbol, "side": "buy", "quantity": "1"}
    r = client.post(f"{API}/trades", json=order, headers={"Idempotency-Key": "c1"})
    assert_error(r, 403, "csrf_failed")
    r = client.post(
        f"{API}/trades", json=order, headers={"Idempotency-Key": "c1", "X-CSRFToken": "forged"}
    )
    assert_error(r, 403, "csrf_failed")
    assert count(game, Trade) == 0

    token = csrf_token(app, client)
    r = client.post(
        f"{API}/trades", json=order, headers={"Idempotency-Key": "c1", "X-CSRFToken": token}
    )
    assert r.status_code == 201, r.get_data(as_text=True)
    assert cash(game, login.principal.player_id) == 99_900 * money.USD_SCALE
    assert_error(client.post(f"{API}/auth/logout"), 403, "csrf_failed")
    r = client.post(f"{API}/auth/logout", headers={"X-CSRFToken": token})
    assert (r.status_code, r.get_json()) == (200, {"logged_out": True})
    assert_error(client.get(f"{API}/portfolio"), 401, "unauthorized")


def test_a_bearer_token_needs_no_csrf_even_with_a_cookie(client, game):
    asset = new_asset(game)
    alice = register(client, "alice")
    cookie_login(game, client, "carol")  # from now on the client sends carol's cookie too
    r = post_trade(client, alice, asset.symbol, "buy", "1")
    assert r.status_code == 201
    # and the bearer token names who trades, not the cookie
    assert r.get_json()["portfolio"]["cash"] == "99900.000000"
    assert client.get(f"{API}/portfolio").get_json()["cash"] == "100000.000000"


def test_any_cookie_write_is_checked_even_to_log_in(client, game):
    cookie_login(game, client, "carol")
    r = client.post(f"{API}/auth/login", json={"username": "carol", "password": PASSWORD})
    assert_error(r, 403, "csrf_failed")
