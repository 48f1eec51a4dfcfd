"""Probes and public market data: quotes, history pages, proofs, the tape and the leaderboard."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from decimal import Decimal

import pytest

from martingale import money
from martingale.clock import iso
from martingale.engine import MarketEngine
from martingale.price_path import PathParams, PricePath

from ..helpers import new_asset, new_player, trade
from .helpers import API, assert_error, bearer, engine_step_after, post_trade, register


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
            "open_interest": "0.00000000",
        }
    ]
    clock.advance(5.5)
    quote = client.get(f"{API}/assets").get_json()["assets"][0]
    assert quote["tick"] == 5 and quote["seconds_to_expiry"] == 54.5
    assert quote["price"] == money.price(game.path(asset).price(5))


def test_open_interest_is_every_players_units_together(client, game, clock):
    """Issue 11 (the original game had it): the units held per live asset, all players."""
    held, other, _ = (new_asset(game, lifetime_s="60") for _ in range(3))
    alice, bob = new_player(game, "alice"), new_player(game, "bob")
    trade(game, alice, "buy", held.symbol, "2.5")
    trade(game, bob, "buy", held.symbol, "0.00000001")
    trade(game, bob, "buy", other.symbol, "7")
    trade(game, bob, "sell", other.symbol, "7")  # all sold: the row stays with 0 units
    trade(game, alice, "sell", held.symbol, "1")
    quotes = {q["symbol"]: q for q in client.get(f"{API}/assets").get_json()["assets"]}
    assert quotes[held.symbol]["open_interest"] == "1.50000001"
    assert quotes[other.symbol]["open_interest"] == "0.00000000"
    assert {q["open_interest"] for q in quotes.values()} == {"1.50000001", "0.00000000"}
    # a settled asset is off the list; the others are not moved by it
    clock.advance(61)
    MarketEngine(game).step()
    assert held.symbol not in {
        q["symbol"] for q in client.get(f"{API}/assets").get_json()["assets"]
    }


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
    alice = register(client, "alice", display_name="Queen of Hearts")
    bob = register(client, "Bob_2", display_name="Knave")
    assert post_trade(client, alice, asset.symbol, "buy", "3").status_code == 201
    assert post_trade(client, bob, asset.symbol, "buy", "1").status_code == 201
    clock.advance(2)
    assert post_trade(client, bob, asset.symbol, "sell", "1").status_code == 201

    tape = client.get(f"{API}/tape").get_json()["tape"]
    assert [(t["display_name"], t["side"]) for t in tape] == [
        ("Knave", "sell"),
        ("Knave", "buy"),
        ("Queen of Hearts", "buy"),
    ]
    keys = {"id", "symbol", "side", "quantity", "price", "total", "executed_at", "display_name"}
    assert all(set(t) == keys for t in tape)
    own = client.get(f"{API}/trades", headers=bearer(bob)).get_json()["trades"]
    assert [t["id"] for t in tape[:2]] == [t["id"] for t in own]  # trade ids, not player ids
    assert client.get(f"{API}/tape?limit=1").get_json()["tape"] == tape[:1]

    MarketEngine(game).step()  # the engine ranks; the route reads its last pass
    board = client.get(f"{API}/leaderboard").get_json()["leaderboard"]
    assert {r["display_name"] for r in board} == {"Queen of Hearts", "Knave"}
    assert [r["rank"] for r in board] == [1, 2]
    assert all(set(r) == {"rank", "display_name", "total_pnl", "return_pct"} for r in board)
    pnl = [Decimal(r["total_pnl"]) for r in board]
    assert pnl == sorted(pnl, reverse=True)
    for body in (tape, board):
        text = json.dumps(body)
        assert "player" not in text and "user" not in text
        assert "alice" not in text.lower() and "bob_2" not in text.lower()
