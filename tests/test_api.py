"""The REST API over HTTP: every route, every error code a client can reach, and their exact shapes.

Inputs that once crashed the server are pinned as regression tests near the end.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from datetime import timedelta
from decimal import Decimal

import flask
import pytest
from flask.testing import FlaskClient
from flask_wtf.csrf import generate_csrf
from sqlalchemy import func, select

from martingale import auth, money
from martingale.clock import iso
from martingale.engine import MarketEngine
from martingale.models import AuthSession, Player, Posting, Trade
from martingale.price_path import PathParams, PricePath
from martingale.transaction_utils import read

from .helpers import new_asset

API = "/api/v1"
PASSWORD = "password1"
ERROR_KEYS = {"code", "message"}


class CheckedClient(FlaskClient):
    """A test client that checks every reply: never a traceback, and JSON on every /api path."""

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = super().open(*args, **kwargs)
        body = response.get_data(as_text=True)
        assert "Traceback" not in body, body
        request = response.request
        if request.path.startswith("/api/") and request.method != "OPTIONS":
            assert response.mimetype == "application/json", (request.path, response.mimetype)
        return response


@pytest.fixture
def client(app, game):
    app.test_client_class = CheckedClient
    return app.test_client()


# -- helpers ----------------------------------------------------------------------------------


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    assert isinstance(body["error"], dict) and set(body["error"]) == ERROR_KEYS, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"], body
    return body


def register(client, name: str = "alice", password: str = PASSWORD) -> dict:
    r = client.post(f"{API}/auth/register", json={"username": name, "password": password})
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.get_json()


def bearer(tokens: dict | str) -> dict[str, str]:
    token = tokens if isinstance(tokens, str) else tokens["access_token"]
    return {"Authorization": f"Bearer {token}"}


_keys = itertools.count()


def post_trade(client, tokens, symbol, side, quantity, key: str | None = None, **headers):
    key = key if key is not None else f"key-{next(_keys)}"
    return client.post(
        f"{API}/trades",
        json={"symbol": symbol, "side": side, "quantity": quantity},
        headers={**bearer(tokens), "Idempotency-Key": key, **headers},
    )


def count(game, model) -> int:
    return read(game.database, lambda s: s.scalar(select(func.count()).select_from(model)))


def cash(game, player_id: int) -> int:
    return read(game.database, lambda s: s.get(Player, player_id).cash)


def engine_step_after(game, clock, seconds: float):
    clock.advance(seconds)
    return MarketEngine(game).step()


def cookie_login(game, client, name: str = "carol") -> auth.Login:
    """A web (cookie) session, logged in the way Flask-Login does it."""
    login = auth.register(game, name, PASSWORD, auth.WEB)
    with client.session_transaction() as s:
        s["_user_id"] = login.principal.session_id
    return login


def csrf_token(app, client) -> str:
    """A valid CSRF token for the client's session: its raw half is put into that session."""
    with app.test_request_context():
        token = generate_csrf()
        raw = flask.session["csrf_token"]
    with client.session_transaction() as s:
        s["csrf_token"] = raw
    return token


# -- probes and public market data ------------------------------------------------------------


def test_healthz_is_always_ok(client):
    r = client.get("/healthz")
    assert (r.status_code, r.get_json()) == (200, {"status": "ok"})


def test_readyz_is_503_until_the_engine_ticks_and_again_once_it_stalls(client, game, clock):
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.get_json() == {"status": "engine_stale", "database": True, "engine": False}
    MarketEngine(game).step()
    r = client.get("/readyz")
    assert (r.status_code, r.get_json()) == (
        200,
        {"status": "ok", "database": True, "engine": True},
    )
    clock.advance(3)  # three ticks: still fresh
    assert client.get("/readyz").status_code == 200
    clock.advance(1)
    assert client.get("/readyz").status_code == 503


def test_assets_quote_every_live_asset_with_exact_strings(client, game, clock):
    asset = new_asset(game, initial="100", drift="0", volatility="0.01", lifetime_s="60")
    r = client.get(f"{API}/assets")
    assert r.status_code == 200
    body = r.get_json()
    assert body["server_time"] == "2026-01-01T00:00:00.000Z"
    assert body["assets"] == [
        {
            "id": asset.id,
            "symbol": asset.symbol,
            "price": "100.00000000",
            "initial_price": "100.00000000",
            "drift": "0",
            "volatility": "0.01",
            "color": asset.color,
            "born_at": "2026-01-01T00:00:00.000Z",
            "expires_at": "2026-01-01T00:01:00.000Z",
            "seconds_to_expiry": 60.0,
            "tick": 0,
            "seed_commitment": asset.seed_commitment,
        }
    ]
    clock.advance(5.5)
    quote = client.get(f"{API}/assets").get_json()["assets"][0]
    assert quote["tick"] == 5 and quote["seconds_to_expiry"] == 54.5
    assert quote["price"] == money.price(game.path(asset).price(5))


def test_history_pages_forward_with_since_tick(client, game, clock):
    asset = new_asset(game, lifetime_s="60")
    engine_step_after(game, clock, 10)  # the engine stores ticks 0..10

    def get(**params):
        r = client.get(f"{API}/assets/{asset.symbol.lower()}/history", query_string=params)
        assert r.status_code == 200, r.get_data(as_text=True)
        body = r.get_json()
        assert (body["id"], body["symbol"]) == (asset.id, asset.symbol)
        return body["points"]

    expected = [
        {
            "tick": k,
            "t": iso(asset.born_at + timedelta(seconds=k)),
            "price": money.price(game.path(asset).price(k)),
        }
        for k in range(11)
    ]
    assert get() == expected
    assert get(limit=4) == expected[-4:]  # without since_tick: the latest `limit`
    seen, since = [], 0
    while page := get(since_tick=since, limit=3):
        assert len(page) <= 3
        seen += page
        since = page[-1]["tick"]
    assert seen == expected[1:]  # strictly after since_tick=0, every tick once, in order
    assert get(since_tick=10) == []
    by_id = client.get(f"{API}/assets/{asset.id}/history", query_string={"limit": 2}).get_json()
    assert by_id["points"] == expected[-2:]


def test_history_by_symbol_names_the_live_asset_and_by_id_any_asset(client, game, clock):
    asset = new_asset(game, lifetime_s="5")
    engine_step_after(game, clock, 6)
    assert_error(client.get(f"{API}/assets/{asset.symbol}/history"), 404, "unknown_asset")
    points = client.get(f"{API}/assets/{asset.id}/history").get_json()["points"]
    assert [p["tick"] for p in points] == list(range(6))


@pytest.mark.parametrize("ref", ["ZZZZ", "zzzz", "999999", "A1"])
@pytest.mark.parametrize("what", ["history", "proof"])
def test_an_unknown_asset_is_404(client, game, ref, what):
    new_asset(game)
    assert_error(client.get(f"{API}/assets/{ref}/{what}"), 404, "unknown_asset")


def test_the_proof_hides_the_seed_until_settlement_then_reveals_one_that_verifies(
    client, game, clock
):
    asset = new_asset(game, initial="100", volatility="0.02", lifetime_s="30")
    live = client.get(f"{API}/assets/{asset.symbol}/proof").get_json()
    assert live["status"] == "live"
    assert asset.seed.hex() not in json.dumps(live)
    assert not {"seed", "settlement_tick", "settlement_price", "settled_at"} & set(live)
    assert live["seed_commitment"] == asset.seed_commitment
    assert (live["tick_seconds"], live["expiry_tick"]) == ("1.000000", 30)
    assert (live["initial_price"], live["worthless_price"]) == ("100.00000000", "0.01000000")
    assert isinstance(live["recipe"], str) and live["recipe"]

    engine_step_after(game, clock, 31)
    for ref in (asset.symbol, asset.symbol.lower(), str(asset.id)):
        r = client.get(f"{API}/assets/{ref}/proof")
        assert r.status_code == 200
        proof = r.get_json()
        assert proof["status"] == "settled" and proof["id"] == asset.id
        seed = bytes.fromhex(proof["seed"])
        assert hashlib.sha256(seed).hexdigest() == proof["seed_commitment"]
        assert proof["settled_at"] == "2026-01-01T00:00:31.000Z"
        assert proof["settlement_tick"] == 30
        # anyone can recompute the path from what the proof publishes
        path = PricePath(
            PathParams(
                seed,
                int(Decimal(proof["initial_price"]) * money.PRICE_SCALE),
                Decimal(proof["drift"]),
                Decimal(proof["volatility"]),
            )
        )
        assert money.price(path.price(proof["settlement_tick"])) == proof["settlement_price"]
        stored = client.get(f"{API}/assets/{asset.id}/history").get_json()["points"]
        assert all(money.price(path.price(p["tick"])) == p["price"] for p in stored)


def test_tape_and_leaderboard_show_display_names_never_player_ids(client, game, clock):
    asset = new_asset(game, initial="10")
    alice, bob = register(client, "alice"), register(client, "Bob_2")
    assert post_trade(client, alice, asset.symbol, "buy", "3").status_code == 201
    assert post_trade(client, bob, asset.symbol, "buy", "1").status_code == 201
    clock.advance(2)
    assert post_trade(client, bob, asset.symbol, "sell", "1").status_code == 201

    tape = client.get(f"{API}/tape").get_json()["tape"]
    assert [(t["name"], t["side"]) for t in tape] == [
        ("Bob_2", "sell"),
        ("Bob_2", "buy"),
        ("alice", "buy"),
    ]
    keys = {"id", "symbol", "side", "quantity", "price", "total", "executed_at", "name"}
    assert all(set(t) == keys for t in tape)
    own = client.get(f"{API}/trades", headers=bearer(bob)).get_json()["trades"]
    assert [t["id"] for t in tape[:2]] == [t["id"] for t in own]  # trade ids, not player ids
    assert client.get(f"{API}/tape?limit=1").get_json()["tape"] == tape[:1]

    board = client.get(f"{API}/leaderboard").get_json()["leaderboard"]
    assert {r["name"] for r in board} == {"alice", "Bob_2"}
    assert [r["rank"] for r in board] == [1, 2]
    assert all(set(r) == {"rank", "name", "total_pnl"} for r in board)
    pnl = [Decimal(r["total_pnl"]) for r in board]
    assert pnl == sorted(pnl, reverse=True)
    for body in (tape, board):
        text = json.dumps(body)
        assert "player" not in text and "user" not in text


# -- the caller's account ---------------------------------------------------------------------


def test_portfolio_marks_positions_at_the_current_tick(client, game, clock):
    asset = new_asset(game, initial="100", lifetime_s="60")
    alice = register(client)
    r = client.get(f"{API}/portfolio", headers=bearer(alice))
    assert r.get_json() == {
        "cash": "100000.000000",
        "value": "100000.000000",
        "total_pnl": "0.000000",
        "realized_pnl": "0.000000",
        "unrealized_pnl": "0.000000",
        "return_pct": "0.00",
        "holdings": [],
    }
    assert post_trade(client, alice, asset.symbol, "buy", "10").status_code == 201
    clock.advance(7)
    price = game.path(asset).price(7)
    market_value = money.value_floor(10 * money.QTY_SCALE, price)
    view = client.get(f"{API}/portfolio", headers=bearer(alice)).get_json()
    assert view["cash"] == "99000.000000"
    assert view["holdings"] == [
        {
            "symbol": asset.symbol,
            "asset_id": asset.id,
            "quantity": "10.00000000",
            "avg_cost": "100.00000000",
            "cost_basis": "1000.000000",
            "price": money.price(price),
            "market_value": money.usd(market_value),
            "unrealized_pnl": money.usd(market_value - 1000 * money.USD_SCALE),
            "expires_at": "2026-01-01T00:01:00.000Z",
        }
    ]
    assert view["value"] == money.usd(99_000 * money.USD_SCALE + market_value)


def test_a_trade_is_201_with_the_trade_and_the_new_portfolio(client, game, clock):
    asset = new_asset(game, initial="50")
    alice = register(client)
    r = post_trade(client, alice, f" {asset.symbol.lower()} ", " BUY ", "0.12345678")
    assert r.status_code == 201
    assert "Idempotent-Replayed" not in r.headers
    assert r.get_json()["replayed"] is False
    trade = r.get_json()["trade"]
    assert trade == {
        "id": trade["id"],
        "symbol": asset.symbol,
        "side": "buy",
        "quantity": "0.12345678",
        "price": "50.00000000",
        "total": "6.172839",  # 6.172839 exactly: 0.12345678 x 50
        "tick": 0,
        "executed_at": "2026-01-01T00:00:00.000Z",
    }
    assert r.get_json()["portfolio"]["cash"] == "99993.827161"
    clock.advance(1)
    sold = post_trade(client, alice, asset.symbol, "sell", 0).get_json()  # int 0: refused
    assert sold["error"]["code"] == "invalid_quantity"
    r = post_trade(client, alice, asset.symbol, "sell", "0.1")
    assert r.status_code == 201
    sell = r.get_json()["trade"]
    assert sell["side"] == "sell" and sell["tick"] == 1 and "realized_pnl" in sell
    assert post_trade(client, alice, asset.symbol, "buy", 2).status_code == 201  # JSON integer


def test_trades_are_listed_newest_first_and_page_with_before(client, game):
    asset = new_asset(game, initial="10")
    alice, bob = register(client, "alice"), register(client, "bob")
    for quantity in ("1", "2", "3", "4", "5"):
        assert post_trade(client, alice, asset.symbol, "buy", quantity).status_code == 201
    assert post_trade(client, bob, asset.symbol, "buy", "9").status_code == 201

    def page(**params):
        r = client.get(f"{API}/trades", query_string=params, headers=bearer(alice))
        assert r.status_code == 200
        return r.get_json()["trades"]

    everything = page()
    assert [t["quantity"] for t in everything] == [f"{q}.00000000" for q in (5, 4, 3, 2, 1)]
    seen, before = [], None
    while rows := page(limit=2, **({"before": before} if before else {})):
        seen += rows
        before = rows[-1]["id"]
    assert seen == everything
    assert page(before=everything[-1]["id"]) == []


def test_settlements_list_what_the_caller_held_at_expiry(client, game, clock):
    asset = new_asset(game, initial="20", lifetime_s="30")
    alice = register(client)
    assert client.get(f"{API}/settlements", headers=bearer(alice)).get_json() == {"settlements": []}
    assert post_trade(client, alice, asset.symbol, "buy", "2.5").status_code == 201
    engine_step_after(game, clock, 31)
    final = game.path(asset).price(30)
    value = money.value_floor(250_000_000, final)
    r = client.get(f"{API}/settlements", headers=bearer(alice))
    assert r.get_json() == {
        "settlements": [
            {
                "asset_id": asset.id,
                "symbol": asset.symbol,
                "quantity": "2.50000000",
                "price": money.price(final),
                "value": money.usd(value),
                "realized_pnl": money.usd(value - 50 * money.USD_SCALE),
                "settled_at": "2026-01-01T00:00:31.000Z",
            }
        ]
    }
    view = client.get(f"{API}/portfolio", headers=bearer(alice)).get_json()
    assert view["holdings"] == [] and view["realized_pnl"] == money.usd(value - 50_000_000)


def test_performance_history_samples_the_account_value(client, game, clock):
    asset = new_asset(game, initial="100", lifetime_s="120")
    alice = register(client)
    assert post_trade(client, alice, asset.symbol, "buy", "100").status_code == 201
    clock.advance(60)
    r = client.get(f"{API}/performance/history", headers=bearer(alice))
    points = r.get_json()["points"]
    assert 2 <= len(points) <= 120
    assert points[0] == {"t": "2026-01-01T00:00:00.000Z", "value": "100000.000000"}
    value_now = 90_000 * money.USD_SCALE + money.value_floor(
        100 * 10**8, game.path(asset).price(60)
    )
    assert points[-1] == {"t": "2026-01-01T00:01:00.000Z", "value": money.usd(value_now)}
    times = [p["t"] for p in points]
    assert times == sorted(times)
    few = client.get(f"{API}/performance/history?points=2", headers=bearer(alice)).get_json()
    assert [p["t"] for p in few["points"]] == [times[0], times[-1]]


def test_performance_history_never_returns_more_points_than_asked(client, clock):
    alice = register(client)
    clock.advance(10.000001)
    r = client.get(f"{API}/performance/history?points=3", headers=bearer(alice))
    times = [p["t"] for p in r.get_json()["points"]]
    assert len(times) <= 3 and len(set(times)) == len(times), times


# -- authentication ---------------------------------------------------------------------------

AUTHENTICATED = [
    ("get", "/portfolio"),
    ("post", "/trades"),
    ("get", "/trades"),
    ("get", "/settlements"),
    ("get", "/performance/history"),
    ("post", "/auth/logout"),
    ("post", "/auth/password"),
]


@pytest.mark.parametrize(("method", "path"), AUTHENTICATED)
def test_authenticated_routes_are_401_without_or_with_a_bad_token(client, game, method, path):
    asset = new_asset(game)
    body = {"symbol": asset.symbol, "side": "buy", "quantity": "1"}
    call = getattr(client, method)
    assert_error(call(API + path, json=body), 401, "unauthorized")
    assert_error(
        call(API + path, json=body, headers={"Authorization": "Basic eDp5"}), 401, "unauthorized"
    )
    for token in ("garbage", "a" * 600, "eyJzaWQiOiJ4In0.AAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBB"):
        assert_error(call(API + path, json=body, headers=bearer(token)), 401, "invalid_token")
    assert count(game, Trade) == 0


def test_register_returns_a_working_token_pair(client, game):
    r = client.post(f"{API}/auth/register", json={"username": "  alice ", "password": PASSWORD})
    assert r.status_code == 201
    body = r.get_json()
    assert set(body) == {"user", "access_token", "refresh_token", "token_type"}
    assert body["user"] == {"id": body["user"]["id"], "username": "alice"}
    assert body["token_type"] == "Bearer"
    assert client.get(f"{API}/portfolio", headers=bearer(body)).status_code == 200
    assert count(game, Player) == 1


@pytest.mark.parametrize("taken", ["alice", "ALICE", "Alice", " aLiCe "])
def test_register_refuses_a_taken_username_case_insensitively(client, game, taken):
    register(client, "alice")
    r = client.post(f"{API}/auth/register", json={"username": taken, "password": "another-pw"})
    assert_error(r, 409, "username_taken")
    assert count(game, Player) == 1


@pytest.mark.parametrize(
    ("username", "password", "code"),
    [
        ("ab", PASSWORD, "invalid_username"),
        ("a" * 21, PASSWORD, "invalid_username"),
        ("has space", PASSWORD, "invalid_username"),
        ("émile", PASSWORD, "invalid_username"),
        ("admin", PASSWORD, "invalid_username"),
        ("Root", PASSWORD, "invalid_username"),
        (123, PASSWORD, "invalid_username"),
        (None, PASSWORD, "invalid_username"),
        ("dave", "short", "invalid_password"),
        ("dave", " " * 12, "invalid_password"),
        ("dave", "x" * 129, "invalid_password"),
        ("dave", 12345678, "invalid_password"),
        ("dave", None, "invalid_password"),
        ("ab", "short", "invalid_username"),  # the username is checked first
    ],
)
def test_register_validates_username_then_password(client, game, username, password, code):
    r = client.post(f"{API}/auth/register", json={"username": username, "password": password})
    assert_error(r, 422, code)
    assert count(game, Player) == 0


def test_login_gives_a_new_session_and_the_same_reply_for_any_bad_credentials(client, game):
    register(client, "alice")
    r = client.post(f"{API}/auth/login", json={"username": "ALICE", "password": PASSWORD})
    assert r.status_code == 200
    assert r.get_json()["user"]["username"] == "alice"
    assert client.get(f"{API}/portfolio", headers=bearer(r.get_json())).status_code == 200
    sessions = count(game, AuthSession)
    unknown = client.post(f"{API}/auth/login", json={"username": "nobody", "password": PASSWORD})
    wrong = client.post(f"{API}/auth/login", json={"username": "alice", "password": "wrong-pw"})
    assert_error(unknown, 401, "invalid_credentials")
    assert_error(wrong, 401, "invalid_credentials")
    assert unknown.get_json() == wrong.get_json()
    for bad in ({"username": 1, "password": PASSWORD}, {"username": "alice"}, {}):
        assert_error(client.post(f"{API}/auth/login", json=bad), 401, "invalid_credentials")
    assert count(game, AuthSession) == sessions


def test_login_is_rate_limited_to_10_a_minute_per_client(client, game):
    register(client, "alice")
    for _ in range(10):
        r = client.post(f"{API}/auth/login", json={"username": "alice", "password": "wrong-pw"})
        assert_error(r, 401, "invalid_credentials")
    r = client.post(f"{API}/auth/login", json={"username": "alice", "password": PASSWORD})
    body = assert_error(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) > 0
    assert r.headers["X-RateLimit-Limit"] == "10" and r.headers["X-RateLimit-Remaining"] == "0"
    assert "10 per 1 minute" in body["error"]["message"]
    other = client.post(
        f"{API}/auth/login",
        json={"username": "alice", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.9.8.7"},
    )
    assert other.status_code == 200  # the limit is per client address


def test_refresh_rotates_and_a_reused_token_ends_the_whole_session(client, game):
    first = register(client)
    r = client.post(f"{API}/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200
    second = r.get_json()
    assert second["user"] == first["user"]
    assert second["refresh_token"] != first["refresh_token"]
    # access tokens name the session, not the rotation: the earlier one also still works
    assert client.get(f"{API}/portfolio", headers=bearer(first)).status_code == 200
    assert client.get(f"{API}/portfolio", headers=bearer(second)).status_code == 200
    other = client.post(f"{API}/auth/login", json={"username": "alice", "password": PASSWORD})

    replay = client.post(f"{API}/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert_error(replay, 401, "invalid_token")
    # the spent token leaked, so the whole family is gone: both access tokens and the new refresh
    for pair in (first, second):
        assert_error(client.get(f"{API}/portfolio", headers=bearer(pair)), 401, "invalid_token")
    again = client.post(f"{API}/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert_error(again, 401, "invalid_token")
    # another session of the same player is untouched
    assert client.get(f"{API}/portfolio", headers=bearer(other.get_json())).status_code == 200


@pytest.mark.parametrize("token", [None, 42, "", "short", "x" * 129, "x" * 40])
def test_refresh_refuses_anything_but_a_live_refresh_token(client, game, token):
    r = client.post(f"{API}/auth/refresh", json={"refresh_token": token})
    assert_error(r, 401, "invalid_token")


def test_logout_revokes_the_session_tokens_only(client, game):
    alice = register(client)
    other = client.post(f"{API}/auth/login", json={"username": "alice", "password": PASSWORD})
    r = client.post(f"{API}/auth/logout", headers=bearer(alice))
    assert (r.status_code, r.get_json()) == (200, {"logged_out": True})
    assert_error(client.get(f"{API}/portfolio", headers=bearer(alice)), 401, "invalid_token")
    assert_error(client.post(f"{API}/auth/logout", headers=bearer(alice)), 401, "invalid_token")
    refresh = client.post(f"{API}/auth/refresh", json={"refresh_token": alice["refresh_token"]})
    assert_error(refresh, 401, "invalid_token")
    assert client.get(f"{API}/portfolio", headers=bearer(other.get_json())).status_code == 200


def test_password_change_ends_every_session_and_returns_a_new_pair(client, game):
    alice = register(client)
    other = client.post(f"{API}/auth/login", json={"username": "alice", "password": PASSWORD})
    other = other.get_json()
    url = f"{API}/auth/password"
    wrong = client.post(
        url,
        json={"current_password": "not-it-at-all", "new_password": "brand-new-1"},
        headers=bearer(alice),
    )
    assert_error(wrong, 403, "wrong_password")
    missing = client.post(url, json={"new_password": "brand-new-1"}, headers=bearer(alice))
    assert_error(missing, 403, "wrong_password")
    for bad in ("short", " " * 10, None, 12345678):
        r = client.post(
            url, json={"current_password": PASSWORD, "new_password": bad}, headers=bearer(alice)
        )
        assert_error(r, 422, "invalid_password")
    assert_error(client.post(url, data="nope", headers=bearer(alice)), 400, "invalid_json")
    # nothing above changed anything: the old pair still works
    assert client.get(f"{API}/portfolio", headers=bearer(alice)).status_code == 200

    r = client.post(
        url,
        json={"current_password": PASSWORD, "new_password": "brand-new-1"},
        headers=bearer(alice),
    )
    assert r.status_code == 200
    fresh = r.get_json()
    assert fresh["user"] == alice["user"] and fresh["token_type"] == "Bearer"
    for old in (alice, other):
        assert_error(client.get(f"{API}/portfolio", headers=bearer(old)), 401, "invalid_token")
        refresh = client.post(f"{API}/auth/refresh", json={"refresh_token": old["refresh_token"]})
        assert_error(refresh, 401, "invalid_token")
    assert client.get(f"{API}/portfolio", headers=bearer(fresh)).status_code == 200
    r = client.post(f"{API}/auth/refresh", json={"refresh_token": fresh["refresh_token"]})
    assert r.status_code == 200
    old_pw = client.post(f"{API}/auth/login", json={"username": "alice", "password": PASSWORD})
    assert_error(old_pw, 401, "invalid_credentials")
    new_pw = client.post(f"{API}/auth/login", json={"username": "alice", "password": "brand-new-1"})
    assert new_pw.status_code == 200


def test_a_new_password_equal_to_the_current_one_is_an_invalid_password(client):
    alice = register(client)
    r = client.post(
        f"{API}/auth/password",
        json={"current_password": PASSWORD, "new_password": PASSWORD},
        headers=bearer(alice),
    )
    assert_error(r, 422, "invalid_password")


# -- CSRF for cookie-authenticated writes -----------------------------------------------------


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


# -- POST /trades: validation, refusals, idempotency ------------------------------------------


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
    r = client.post(f"{API}/auth/login", data="[" * 100_000, content_type="application/json")
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


# -- query parameters, unknown paths and methods ----------------------------------------------

RANGES = [
    ("/assets/{id}/history", "limit", 1, 2000),
    ("/assets/{id}/history", "since_tick", 0, None),
    ("/tape", "limit", 1, 200),
    ("/leaderboard", "limit", 1, 100),
    ("/trades", "limit", 1, 500),
    ("/trades", "before", 0, None),
    ("/settlements", "limit", 1, 200),
    ("/performance/history", "points", 2, 600),
]


@pytest.mark.parametrize(("path", "name", "low", "high"), RANGES)
def test_query_parameters_outside_their_range_are_400(client, game, path, name, low, high):
    asset = new_asset(game)
    alice = register(client)
    url = API + path.format(id=asset.id)
    for good in [low, "", *([high] if high else [])]:
        r = client.get(url, query_string={name: good}, headers=bearer(alice))
        assert r.status_code == 200, (good, r.get_data(as_text=True))
    bad = ["-1", "abc", "1.5", " 5", "+5", "0x10", "5 ", *([str(high + 1)] if high else [])]
    if low > 0:
        bad.append(str(low - 1))
    for value in bad:
        r = client.get(url, query_string={name: value}, headers=bearer(alice))
        assert_error(r, 400, "invalid_parameter")


@pytest.mark.parametrize("value", ["²", "1" + "0" * 5000], ids=["superscript", "5001-digits"])
def test_odd_digit_strings_in_query_parameters_are_400(client, game, value):
    assert_error(client.get(f"{API}/tape", query_string={"limit": value}), 400, "invalid_parameter")


@pytest.mark.parametrize("what", ["history", "proof"])
@pytest.mark.parametrize("ref", ["99999999999999999999", "²"], ids=["huge", "superscript"])
def test_an_asset_ref_that_no_id_can_have_is_404(client, game, what, ref):
    assert_error(client.get(f"{API}/assets/{ref}/{what}"), 404, "unknown_asset")


@pytest.mark.parametrize("what", ["history", "proof"])
def test_an_asset_id_beyond_32_bits_is_404(client, game, request, backend, what):
    assert_error(client.get(f"{API}/assets/2147483648/{what}"), 404, "unknown_asset")


def test_paging_cursors_stop_at_the_32_bit_columns_they_compare_with(client, game):
    asset = new_asset(game)
    alice = register(client)
    assert post_trade(client, alice, asset.symbol, "buy", "1").status_code == 201
    r = client.get(f"{API}/trades?before=2147483647", headers=bearer(alice))
    assert r.status_code == 200 and len(r.get_json()["trades"]) == 1
    r = client.get(f"{API}/assets/{asset.id}/history?since_tick=2147483647")
    assert r.status_code == 200 and r.get_json()["points"] == []
    assert_error(client.get(f"{API}/trades?before=2147483648", headers=bearer(alice)), 400,
                 "invalid_parameter")  # fmt: skip
    assert_error(client.get(f"{API}/assets/{asset.id}/history?since_tick={2**62}"), 400,
                 "invalid_parameter")  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("get", "/api/v1/nope", 404, "not_found"),
        ("post", "/api/v1/nope", 404, "not_found"),
        ("get", "/api/v1/assets/1", 404, "not_found"),
        ("get", "/api/v1/assets/1/history/", 404, "not_found"),
        ("get", "/api/v2/assets", 404, "not_found"),
        ("delete", "/api/v1/trades", 405, "method_not_allowed"),
        ("put", "/api/v1/portfolio", 405, "method_not_allowed"),
        ("get", "/api/v1/auth/login", 405, "method_not_allowed"),
        ("post", "/api/v1/assets", 405, "method_not_allowed"),
    ],
)
def test_unknown_api_paths_and_methods_answer_json(client, game, method, path, status, code):
    assert_error(getattr(client, method)(path), status, code)


def test_a_405_names_the_allowed_methods(client, game):
    r = client.delete(f"{API}/trades")
    assert r.status_code == 405
    assert {m.strip() for m in r.headers.get("Allow", "").split(",")} >= {"GET", "POST"}


# -- inputs that once crashed the server ------------------------------------------------------


@pytest.mark.parametrize("quantity", ["1e999999", "9E+999998"])
def test_a_quantity_with_a_huge_exponent_is_invalid(client, game, quantity):
    asset = new_asset(game)
    alice = register(client)
    assert_error(post_trade(client, alice, asset.symbol, "buy", quantity), 422, "invalid_quantity")


def test_register_refuses_a_password_that_is_not_valid_unicode(client, game):
    r = client.post(f"{API}/auth/register", json={"username": "dave", "password": "\ud800" * 8})
    assert_error(r, 422, "invalid_password")


def test_login_with_a_password_that_is_not_valid_unicode_is_invalid_credentials(client, game):
    register(client, "alice")
    r = client.post(f"{API}/auth/login", json={"username": "alice", "password": "\ud800" * 8})
    assert_error(r, 401, "invalid_credentials")


def test_login_with_a_nul_in_the_username_is_invalid_credentials(client, game, request, backend):
    r = client.post(f"{API}/auth/login", json={"username": "al\x00ice", "password": PASSWORD})
    assert_error(r, 401, "invalid_credentials")


# -- the whole surface, once more: no reply is ever a traceback -------------------------------


def test_no_reply_ever_contains_a_traceback(client, game, clock):
    """CheckedClient asserts it on every reply; this walks every route once, good and bad."""
    asset = new_asset(game)
    alice = register(client)
    auth_headers = bearer(alice)
    calls = [
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("get", f"{API}/openapi.json"),
        ("get", f"{API}/assets"),
        ("get", f"{API}/assets/{asset.symbol}/history"),
        ("get", f"{API}/assets/{asset.symbol}/proof"),
        ("get", f"{API}/tape"),
        ("get", f"{API}/leaderboard"),
        ("get", f"{API}/portfolio"),
        ("get", f"{API}/trades"),
        ("get", f"{API}/settlements"),
        ("get", f"{API}/performance/history"),
        ("post", f"{API}/trades"),
        ("post", f"{API}/auth/register"),
        ("post", f"{API}/auth/login"),
        ("post", f"{API}/auth/refresh"),
        ("post", f"{API}/auth/password"),
        ("post", f"{API}/auth/logout"),
    ]
    for method, path in calls:
        for headers in ({}, auth_headers):
            r = getattr(client, method)(path, headers=headers, data="{bad json")
            assert r.status_code < 500 or path == "/readyz"
