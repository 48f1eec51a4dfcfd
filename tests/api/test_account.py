"""The caller's account: portfolio, trades, their list, settlements and performance."""

from __future__ import annotations

from martingale import money

from ..helpers import new_asset
from .helpers import API, bearer, engine_step_after, post_trade, register


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
