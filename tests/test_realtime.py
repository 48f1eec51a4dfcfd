"""The Socket.IO protocol: who may connect, trades by acknowledgement, public and private pushes."""

from __future__ import annotations

import itertools
import time
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from martingale import auth, trading
from martingale.engine import MarketEngine
from martingale.extensions import socketio
from martingale.models import Trade
from martingale.money import price as fmt_price
from martingale.realtime import BRIDGE, bridge
from martingale.transaction_utils import read

from .helpers import execute, new_asset

PASSWORD = "Quartz-Lantern-31"
PUBLIC = {"prices", "asset_born", "asset_expired", "asset_settled", "tape", "leaderboard"}
_keys = itertools.count()


@pytest.fixture
def connect(app):
    """Open a test socket: with a token, with a Flask test client's cookies, or anonymous."""
    opened = []

    def open_socket(token=None, client=None, auth_data=None):
        data = auth_data if auth_data is not None else ({"token": token} if token else None)
        sock = socketio.test_client(app, flask_test_client=client or app.test_client(), auth=data)
        opened.append(sock)
        return sock

    yield open_socket
    for sock in opened:
        if sock.is_connected():
            sock.disconnect()


def api_login(game, name, display_name=None):
    return auth.register(game, name, PASSWORD, auth.API, display_name=display_name)


def cookie_client(app, game, name):
    """A browser: a web login session whose id sits in the signed cookie."""
    login = auth.register(game, name, PASSWORD, auth.WEB)
    client = app.test_client()
    with client.session_transaction() as s:
        s["_user_id"] = login.principal.session_id
        s["_fresh"] = True
    return login, client


def order(symbol, side="buy", quantity="2", key=None):
    return {
        "symbol": symbol,
        "side": side,
        "quantity": quantity,
        "idempotency_key": key or f"sock-{next(_keys)}",
    }


def received(sock, name=None):
    events = [(e["name"], e["args"][0] if e["args"] else None) for e in sock.get_received()]
    return events if name is None else [body for n, body in events if n == name]


def tape(app, sock):
    """The public trades ``sock`` heard, batch by batch, once the waiting batch is sent."""
    app.extensions[BRIDGE].flush_tape()
    return received(sock, "tape")


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def trade_count(game):
    return read(game.database, lambda s: s.scalar(select(func.count()).select_from(Trade)))


# -- connecting ----------------------------------------------------------------------------------
def test_anonymous_socket_gets_prices_but_cannot_trade(game, connect):
    asset = new_asset(game)
    anon = connect()
    assert anon.is_connected()
    MarketEngine(game).step()
    events = received(anon)
    [prices] = [body for name, body in events if name == "prices"]
    assert set(prices) == {"tick_seq", "t", "prices", "ticks"}
    assert prices["t"].endswith("Z")
    assert prices["prices"] == {asset.symbol: fmt_price(game.path(asset).price(0))}
    assert prices["ticks"] == {asset.symbol: 0}
    born = [body for name, body in events if name == "asset_born"]
    assert len(born) == game.settings.pool_size - 1  # the pool refilled around our asset
    assert all({"id", "symbol", "price", "seed_commitment"} <= set(b) for b in born)
    assert all("seed" not in b for b in born)

    ack = anon.emit("trade", order(asset.symbol), callback=True)
    assert ack["error"]["code"] == "unauthorized"
    assert trade_count(game) == 0


def test_an_invalid_or_ended_token_is_refused(game, connect):
    assert not connect(token="not-a-token").is_connected()
    assert not connect(auth_data={"token": 42}).is_connected()
    login = api_login(game, "alice")
    auth.logout(game, login.principal)
    assert not connect(token=login.access_token).is_connected()
    assert connect(auth_data={}).is_connected()  # no token, no cookie: anonymous


def test_tick_seq_rises_by_one_per_step_and_survives_an_engine_restart(game, clock, connect):
    new_asset(game)
    sock = connect()
    engine = MarketEngine(game)
    for _ in range(3):
        clock.advance(1)
        engine.step()
    clock.advance(1)
    MarketEngine(game).step()  # a new engine (failover) continues the sequence
    seqs = [body["tick_seq"] for body in received(sock, "prices")]
    assert seqs == list(range(seqs[0], seqs[0] + 4))


# -- trading ---------------------------------------------------------------------------------------
def test_token_socket_trades_by_ack_with_the_rest_body(app, game, connect):
    asset = new_asset(game)
    login = api_login(game, "alice")
    sock = connect(token=login.access_token)
    ack = sock.emit("trade", order(asset.symbol, quantity="2.5"), callback=True)
    assert ack["replayed"] is False
    assert ack["trade"]["symbol"] == asset.symbol and ack["trade"]["quantity"] == "2.50000000"

    http = app.test_client()
    headers = bearer(login.access_token)
    assert ack["portfolio"] == http.get("/api/v1/portfolio", headers=headers).get_json()
    assert ack["trade"] == http.get("/api/v1/trades", headers=headers).get_json()["trades"][0]
    rest = http.post(
        "/api/v1/trades",
        json={"symbol": asset.symbol, "side": "sell", "quantity": "1"},
        headers={**headers, "Idempotency-Key": "rest-1"},
    ).get_json()
    assert set(ack) == set(rest) | {"replayed"}
    assert set(ack["trade"]) | {"realized_pnl"} == set(rest["trade"])


def test_a_socket_order_may_give_an_amount_and_a_limit_price(game, connect):
    asset = new_asset(game, initial="100")
    sock = connect(token=api_login(game, "alice").access_token)
    by_amount = {"symbol": asset.symbol, "side": "buy", "amount": "250", "idempotency_key": "d"}
    ack = sock.emit("trade", by_amount, callback=True)
    assert (ack["trade"]["quantity"], ack["trade"]["total"]) == ("2.50000000", "250.000000")
    limited = {**by_amount, "limit_price": "99.5", "idempotency_key": "l"}
    ack = sock.emit("trade", limited, callback=True)
    assert ack["error"]["code"] == "price_moved" and trade_count(game) == 1


def test_a_replayed_key_acks_the_first_trade_and_trades_once(app, game, connect):
    asset = new_asset(game)
    alice = connect(token=api_login(game, "alice").access_token)
    watcher = connect()
    first = alice.emit("trade", order(asset.symbol, key="same-key"), callback=True)
    again = alice.emit("trade", order(asset.symbol, key="same-key"), callback=True)
    assert (first["replayed"], again["replayed"]) == (False, True)
    assert again["trade"] == first["trade"] and again["portfolio"] == first["portfolio"]
    assert trade_count(game) == 1
    assert [len(batch) for batch in tape(app, watcher)] == [1]
    refused = alice.emit("trade", order(asset.symbol, "sell", key="same-key"), callback=True)
    assert refused == {
        "error": {"code": "duplicate_request", "message": refused["error"]["message"]}
    }


def test_cookie_socket_trades_by_ack(app, game, connect):
    asset = new_asset(game)
    login, client = cookie_client(app, game, "carol")
    sock = connect(client=client)
    ack = sock.emit("trade", order(asset.symbol), callback=True)
    assert ack["replayed"] is False and ack["trade"]["side"] == "buy"
    assert received(sock, "portfolio") == [ack["portfolio"]]
    assert auth.principal_for_session(game, login.principal.session_id) is not None


def test_refusals_use_the_rest_error_body_and_never_leak_internals(game, connect, monkeypatch):
    asset = new_asset(game)
    sock = connect(token=api_login(game, "alice").access_token)
    assert sock.emit("trade", "buy it all", callback=True)["error"]["code"] == "invalid_json"
    bad = sock.emit("trade", order(asset.symbol, quantity="-1"), callback=True)
    assert set(bad) == {"error"} and bad["error"]["code"] == "invalid_quantity"
    broke = sock.emit("trade", order(asset.symbol, quantity="1e12"), callback=True)
    assert broke["error"]["code"] in {"invalid_quantity", "trade_value_too_large"}
    for lookalike in ("\uff11", "\u0663", "1_000", "+1", "1e2", " 0.5 "):  # the REST grammar
        refused = sock.emit("trade", order(asset.symbol, quantity=lookalike), callback=True)
        assert refused["error"]["code"] == "invalid_quantity", (lookalike, refused)

    def explode(*args, **kwargs):
        raise RuntimeError("password=hunter2 at db.internal:5432")

    monkeypatch.setattr(trading, "execute_trade", explode)
    ack = sock.emit("trade", order(asset.symbol), callback=True)
    assert ack["error"]["code"] == "internal_error"
    assert "hunter2" not in str(ack) and "5432" not in str(ack)
    assert trade_count(game) == 0


# -- who sees what ---------------------------------------------------------------------------------
def test_private_pushes_reach_only_their_player_while_public_data_reaches_all(
    app, game, clock, connect
):
    asset = new_asset(game, lifetime_s="5")
    alice_login, bob_login = api_login(game, "alice"), api_login(game, "bob")
    alice = connect(token=alice_login.access_token)
    bob = connect(token=bob_login.access_token)
    anon = connect()

    alice.emit("trade", order(asset.symbol, quantity="3"), callback=True)
    # a REST trade pushes the same way
    app.test_client().post(
        "/api/v1/trades",
        json=order(asset.symbol, quantity="1"),
        headers={**bearer(bob_login.access_token), "Idempotency-Key": "bob-1"},
    )
    app.extensions[BRIDGE].flush_tape()
    a_events, b_events, anon_events = received(alice), received(bob), received(anon)
    a_portfolios = [body for name, body in a_events if name == "portfolio"]
    b_portfolios = [body for name, body in b_events if name == "portfolio"]
    assert [p["holdings"][0]["quantity"] for p in a_portfolios] == ["3.00000000"]
    assert [p["holdings"][0]["quantity"] for p in b_portfolios] == ["1.00000000"]
    assert not [name for name, _ in anon_events if name not in PUBLIC]
    for events in (a_events, b_events, anon_events):
        [batch] = [body for name, body in events if name == "tape"]  # one message, oldest first
        shown = [alice_login.principal.display_name, bob_login.principal.display_name]
        assert [t["display_name"] for t in batch] == shown
        assert "alice" not in str(batch) and "bob" not in str(batch)
        assert all("player_id" not in t and "realized_pnl" not in t for t in batch)

    engine = MarketEngine(game)
    for _ in range(5):
        clock.advance(1)
        engine.step()
    a_events, b_events, anon_events = received(alice), received(bob), received(anon)
    [a_settled] = [body for name, body in a_events if name == "settlement"]
    [b_settled] = [body for name, body in b_events if name == "settlement"]
    assert [i["quantity"] for i in a_settled["items"]] == ["3.00000000"]
    assert [i["quantity"] for i in b_settled["items"]] == ["1.00000000"]
    assert not [name for name, _ in anon_events if name not in PUBLIC]
    for events in (a_events, b_events, anon_events):
        names = [name for name, _ in events]
        assert {"prices", "asset_expired", "asset_settled"} <= set(names)
        [settled] = [body for name, body in events if name == "asset_settled"]
        assert set(settled) == {
            "id", "symbol", "seed", "settlement_tick", "settlement_price", "worthless"
        }  # fmt: skip
        # the expiry names the price it settles at (a page showed its last tick's instead)
        [expired] = [body for name, body in events if name == "asset_expired"]
        assert expired["price"] == settled["settlement_price"]
        assert expired["tick"] == settled["settlement_tick"]
        assert "player_id" not in str(events)


def test_a_step_pushes_each_player_one_settlement_message_and_a_portfolio(
    app, game, clock, connect
):
    first, second = new_asset(game, lifetime_s="5"), new_asset(game, lifetime_s="5")
    login = api_login(game, "alice")
    sock = connect(token=login.access_token)
    for asset in (first, second):
        sock.emit("trade", order(asset.symbol, quantity="4"), callback=True)
    received(sock)
    engine = MarketEngine(game)
    for _ in range(5):
        clock.advance(1)
        engine.step()
    events = received(sock)
    [push] = [body for name, body in events if name == "settlement"]
    rest = app.test_client().get("/api/v1/settlements", headers=bearer(login.access_token))
    items = rest.get_json()["settlements"]
    by_asset = sorted(push["items"], key=lambda i: i["asset_id"])
    assert push["count"] == 2 and by_asset == sorted(items, key=lambda i: i["asset_id"])
    assert Decimal(push["value"]) == sum(Decimal(i["value"]) for i in items)
    names = [name for name, _ in events if name != "leaderboard"]  # ranked after the prices
    assert names.index("settlement") < len(names) - 1 and names[-1] == "portfolio"
    assert [body for name, body in events if name == "portfolio"][-1]["holdings"] == []
    revealed = {b["symbol"]: b["seed"] for n, b in events if n == "asset_settled"}
    assert set(revealed) == {first.symbol, second.symbol}
    assert revealed[first.symbol] == first.seed.hex()


# -- sessions ending ---------------------------------------------------------------------------------
def test_logout_drops_that_sessions_sockets_only(app, game, connect):
    asset = new_asset(game)
    phone = api_login(game, "alice")
    laptop = auth.login(game, "alice", PASSWORD, auth.API)
    web_login, client = cookie_client(app, game, "bob")
    phone_sock, laptop_sock = connect(token=phone.access_token), connect(token=laptop.access_token)
    web_sock = connect(client=client)

    # over HTTP, as the app does it: the route publishes sessions_revoked after the commit
    out = app.test_client().post("/api/v1/auth/logout", headers=bearer(phone.access_token))
    assert out.status_code == 200
    assert not phone_sock.is_connected()
    assert laptop_sock.is_connected() and web_sock.is_connected()
    assert laptop_sock.emit("trade", order(asset.symbol), callback=True)["replayed"] is False

    auth.logout(game, web_login.principal)  # the browser's session ends: its cookie socket goes
    assert not web_sock.is_connected()
    assert laptop_sock.is_connected()


def test_a_password_change_drops_every_socket_of_the_player(app, game, connect):
    phone = api_login(game, "alice")
    laptop = auth.login(game, "alice", PASSWORD, auth.API)
    bob = connect(token=api_login(game, "bob").access_token)
    socks = [connect(token=phone.access_token), connect(token=laptop.access_token)]
    fresh = auth.change_password(game, phone.principal, PASSWORD, "another-password", auth.API)
    assert not any(s.is_connected() for s in socks)
    assert bob.is_connected()
    assert connect(token=fresh.access_token).is_connected()


def test_a_session_ended_elsewhere_can_no_longer_trade_or_receive_private_pushes(
    app, game, connect
):
    asset = new_asset(game)
    login = api_login(game, "alice")
    sock = connect(token=login.access_token)
    # revoked without this server hearing of it (another server, say): no event, only the row
    execute(
        game,
        "UPDATE auth_sessions SET revoked_at = expires_at WHERE id = :sid",
        sid=login.principal.session_id,
    )
    ack = sock.emit("trade", order(asset.symbol), callback=True)
    assert ack["error"]["code"] == "unauthorized"
    fresh = auth.login(game, "alice", PASSWORD, auth.API)
    app.test_client().post(
        "/api/v1/trades",
        json=order(asset.symbol),
        headers={**bearer(fresh.access_token), "Idempotency-Key": "fresh-1"},
    )
    app.extensions[BRIDGE].flush_tape()
    names = [name for name, _ in received(sock)]
    assert "tape" in names and "portfolio" not in names


def test_the_tape_goes_out_in_batches_of_its_own_accord(app, game, connect, monkeypatch):
    """Trades within one interval reach every socket as one ``tape`` message, a list, in order."""
    monkeypatch.setattr(bridge, "TAPE_SECONDS", 1.0)  # room for three trades on a busy machine
    asset = new_asset(game)
    alice = connect(token=api_login(game, "alice").access_token)
    watcher = connect()
    acks = [alice.emit("trade", order(asset.symbol), callback=True) for _ in range(3)]
    assert not received(watcher, "tape")  # not yet: the batch waits for its interval
    deadline = time.monotonic() + 10
    while not (batches := received(watcher, "tape")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [[t["id"] for t in batch] for batch in batches] == [[a["trade"]["id"] for a in acks]]
    assert set(batches[0][0]) == {
        "id", "symbol", "side", "quantity", "price", "total", "executed_at", "display_name"
    }  # fmt: skip
