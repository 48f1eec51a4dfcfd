"""Player profiles: GET /api/v1/players/<name>, the public figures of one player by display name."""

from __future__ import annotations

import json
from urllib.parse import quote

from sqlalchemy import event, select

from martingale import money, profiles, rate_limits, reports
from martingale.engine import MarketEngine
from martingale.models import Asset, Settlement
from martingale.transaction_utils import read

from ..helpers import new_asset, new_player, trade
from .helpers import API, PASSWORD, assert_error, bearer, engine_step_after, post_trade, register
from .openapi_spec import validate_response

TEMPLATE = "/api/v1/players/{name}"
KEYS = {
    "display_name", "joined_at", "rank", "ranked_at", "players", "as_of", "total_pnl", "return_pct", "curve",
    "trades", "settled", "wins", "win_rate_pct", "best", "worst",
}  # fmt: skip


def get_profile(client, name: str, status: int = 200, **kwargs):
    r = client.get(f"{API}/players/{quote(name)}", **kwargs)
    assert r.status_code == status, r.get_data(as_text=True)
    validate_response("get", TEMPLATE, r)
    return r.get_json()


def settlements_of(game, player_id: int) -> list[tuple[str, int, int]]:
    """(symbol, realized P&L, price) of every settlement, in the order they were made."""
    query = (
        select(Asset.symbol, Settlement.realized_pnl, Settlement.price)
        .join(Asset, Asset.id == Settlement.asset_id)
        .where(Settlement.player_id == player_id)
        .order_by(Settlement.id)
    )
    return read(game.database, lambda s: [tuple(r) for r in s.execute(query)])


def test_wins_best_and_worst_follow_the_settlements(client, game, clock):
    # a steady climb and a steady slide: whatever the draws, two settle up and one down
    up = new_asset(game, drift="0.01", volatility="0.01", initial="10", lifetime_s="30")
    steep = new_asset(game, drift="0.02", volatility="0.01", initial="20", lifetime_s="30")
    down = new_asset(game, drift="-0.01", volatility="0.01", initial="30", lifetime_s="30")
    alice = register(client, "alice", display_name="Alice Trades")
    for asset, quantity in ((up, "5"), (steep, "3"), (down, "4")):
        assert post_trade(client, alice, asset.symbol, "buy", quantity).status_code == 201
    before = get_profile(client, "Alice Trades")
    assert (before["settled"], before["wins"], before["win_rate_pct"]) == (0, 0, None)
    assert before["best"] is None and before["worst"] is None

    engine_step_after(game, clock, 31)  # all three expire and settle
    found = get_profile(client, "Alice Trades")
    rows = settlements_of(game, alice["user"]["id"])
    assert len(rows) == 3 and sum(1 for r in rows if r[1] > 0) == 2
    assert (found["settled"], found["wins"], found["win_rate_pct"]) == (3, 2, "66.66")
    best, worst = max(rows, key=lambda r: r[1]), min(rows, key=lambda r: r[1])
    assert best[0] == steep.symbol and worst[0] == down.symbol
    for shown, row in ((found["best"], best), (found["worst"], worst)):
        assert (shown["symbol"], shown["realized_pnl"], shown["price"]) == (
            row[0], money.usd(row[1]), money.price(row[2]),
        )  # fmt: skip
        assert shown["settled_at"] == "2026-01-01T00:00:31.000Z"
    # the books say the same: realized P&L is all of it once nothing is open
    assert found["total_pnl"] == money.usd(sum(r[1] for r in rows))


def test_every_settlement_a_loss_is_a_zero_win_rate(game, clock):
    asset = new_asset(game, drift="-0.02", volatility="0.01", lifetime_s="30")
    bob = new_player(game, "bob", display_name="Bob Loses")
    trade(game, bob, "buy", asset.symbol, "2")
    clock.advance(31)
    MarketEngine(game).step()
    found = profiles.profile(game, "Bob Loses")
    assert (found.settled, found.wins) == (1, 0)
    assert found.best == found.worst and found.best is not None and found.best.realized_pnl < 0
    from martingale import wire

    assert wire.win_rate_pct(found.wins, found.settled) == "0.00"
    assert wire.win_rate_pct(1, 3) == "33.33" and wire.win_rate_pct(3, 3) == "100.00"


def test_the_rank_is_the_leaderboards_and_the_pnl_is_nows(client, game, clock):
    asset = new_asset(game, initial="10", volatility="0.05")
    ann = register(client, "ann", display_name="Ann Ranked")
    ben = register(client, "ben", display_name="Ben Ranked")
    assert post_trade(client, ann, asset.symbol, "buy", "100").status_code == 201
    assert post_trade(client, ben, asset.symbol, "buy", "1").status_code == 201
    engine_step_after(game, clock, 3)  # a ranking pass, at the prices of now
    board = client.get(f"{API}/leaderboard").get_json()
    for row in board["leaderboard"]:
        found = get_profile(client, row["display_name"])
        assert (found["rank"], found["total_pnl"], found["return_pct"]) == (
            row["rank"], row["total_pnl"], row["return_pct"],
        )  # fmt: skip
        assert found["players"] == 2 and found["ranked_at"] == board["as_of"]

    clock.advance(4)  # prices move on; the next pass has not run
    for name, tokens in (("Ann Ranked", ann), ("Ben Ranked", ben)):
        found = get_profile(client, name)
        own = client.get(f"{API}/portfolio", headers=bearer(tokens)).get_json()
        assert found["total_pnl"] == own["total_pnl"] and found["return_pct"] == own["return_pct"]
        assert found["as_of"] == "2026-01-01T00:00:07.000Z" and found["ranked_at"] == board["as_of"]
        assert found["curve"][-1]["pnl"] == own["total_pnl"]  # where the curve ends

    cat = register(client, "cat", display_name="Cat Unranked")  # after the pass
    assert post_trade(client, cat, asset.symbol, "buy", "7").status_code == 201
    clock.advance(2)
    found = get_profile(client, "Cat Unranked")
    own = client.get(f"{API}/portfolio", headers=bearer(cat)).get_json()
    assert found["rank"] is None and found["ranked_at"] is None and found["players"] == 2
    assert found["total_pnl"] == own["total_pnl"] and found["return_pct"] == own["return_pct"]


def test_the_curve_is_the_performance_history_less_the_grant(client, game, clock):
    asset = new_asset(game, initial="25", volatility="0.05", lifetime_s="120")
    dan = register(client, "dan", display_name="Dan Curves")
    clock.advance(5)
    assert post_trade(client, dan, asset.symbol, "buy", "40").status_code == 201
    clock.advance(30)
    found = get_profile(client, "Dan Curves")
    granted = game.settings.initial_cash
    replayed = reports.performance_history(game, dan["user"]["id"], profiles.CURVE_POINTS)
    assert [(p["t"], p["pnl"]) for p in found["curve"]] == [
        (
            v.t.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            money.usd(v.value - granted),
        )
        for v in replayed
    ]
    assert found["curve"][0]["pnl"] == "0.000000"  # joined with the grant and nothing else
    own = client.get(f"{API}/portfolio", headers=bearer(dan)).get_json()
    assert found["curve"][-1]["pnl"] == own["total_pnl"]  # ends now


def test_latest_trades_are_public_fields_newest_first(client, game, clock):
    asset = new_asset(game, initial="5", lifetime_s="120")
    eve = register(client, "evesecret", display_name="Eve Public")
    for i in range(profiles.LATEST_TRADES + 2):
        side = "buy" if i % 3 else "sell"
        if i == 0:
            side = "buy"
        r = post_trade(client, eve, asset.symbol, side, "1", key=f"private-key-{i}")
        assert r.status_code == 201
        clock.advance(1)
    own = client.get(f"{API}/trades?limit=100", headers=bearer(eve)).get_json()["trades"]
    found = get_profile(client, "Eve Public")
    public = ("symbol", "side", "quantity", "price", "total", "executed_at")
    assert found["trades"] == [{k: t[k] for k in public} for t in own[: profiles.LATEST_TRADES]]
    assert len(found["trades"]) == profiles.LATEST_TRADES

    text = json.dumps(found)
    assert set(found) == KEYS
    assert "evesecret" not in text.lower() and "private-key" not in text
    assert str(eve["user"]["id"]) not in {str(v) for v in found.values()}
    assert "cash" not in text and '"id"' not in text and "username" not in text


def test_unknown_deleted_and_renamed_names_are_404_unknown_player(client, game):
    gone = register(client, "leaver", display_name="Leaving Larry")
    stays = register(client, "stayer", display_name="Old Name")
    assert_error(client.get(f"{API}/players/Nobody%20Here"), 404, "unknown_player")
    validate_response("get", TEMPLATE, client.get(f"{API}/players/Nobody%20Here"))
    assert get_profile(client, "Leaving Larry")["display_name"] == "Leaving Larry"
    r = client.delete(f"{API}/account", json={"password": PASSWORD}, headers=bearer(gone))
    assert r.status_code == 200
    placeholder = r.get_json()["display_name"]
    assert placeholder.startswith("Deleted player #")
    for name in ("Leaving Larry", placeholder, "leaving larry"):
        assert_error(client.get(f"{API}/players/{quote(name)}"), 404, "unknown_player")

    r = client.patch(f"{API}/account", json={"display_name": "New Name"}, headers=bearer(stays))
    assert r.status_code == 200
    assert_error(client.get(f"{API}/players/Old%20Name"), 404, "unknown_player")
    assert get_profile(client, "New Name")["display_name"] == "New Name"
    too_long = "x" * 200
    assert_error(client.get(f"{API}/players/{too_long}"), 404, "unknown_player")


def test_a_name_is_found_as_it_is_stored_however_the_link_composed_it(client, game):
    new_player(game, "zed", display_name="Zeta Ω")
    # NFKC: the fullwidth letters and the ohm sign read as the stored name
    assert get_profile(client, "\uff3aeta \u2126")["display_name"] == "Zeta Ω"


def test_credentials_are_optional_but_checked_when_sent(client, game):
    new_player(game, "fay", display_name="Fay Seen")
    mine = register(client, "gus")
    assert get_profile(client, "Fay Seen", headers=bearer(mine))["display_name"] == "Fay Seen"
    r = client.get(f"{API}/players/Fay%20Seen", headers=bearer("forged"))
    assert_error(r, 401, "invalid_token")
    validate_response("get", TEMPLATE, r)


def test_profiles_spend_the_shared_read_budget(client, game, monkeypatch):
    monkeypatch.setattr(rate_limits, "READS", "3 per minute")
    new_player(game, "hal", display_name="Hal Limited")
    assert client.get(f"{API}/tape").status_code == 200
    assert [client.get(f"{API}/players/Hal%20Limited").status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    r = client.get(f"{API}/players/Hal%20Limited")
    assert_error(r, 429, "rate_limited")
    validate_response("get", TEMPLATE, r)


def statements_of(game, name: str) -> tuple[profiles.Profile, list[str]]:
    """The profile and every statement reading it took (BEGIN and the like aside)."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append(statement)

    event.listen(game.database, "before_cursor_execute", record)
    try:
        return profiles.profile(game, name), seen
    finally:
        event.remove(game.database, "before_cursor_execute", record)


def test_a_profile_takes_the_same_few_statements_whatever_the_history(game, clock):
    asset = new_asset(game, initial="5", lifetime_s="3600")
    few = new_player(game, "ivy", display_name="Ivy Few")
    many = new_player(game, "jon", display_name="Jon Many")
    for _ in range(2):
        trade(game, few, "buy", asset.symbol, "1")
    for _ in range(60):
        trade(game, many, "buy", asset.symbol, "1")
    clock.advance(7200)  # the trades fall outside the curve's hour: only the counts see them
    small, small_sql = statements_of(game, "Ivy Few")
    large, large_sql = statements_of(game, "Jon Many")
    assert len(small.trades) == 2 and len(large.trades) == profiles.LATEST_TRADES
    assert len(large_sql) == len(small_sql) <= 12, large_sql
