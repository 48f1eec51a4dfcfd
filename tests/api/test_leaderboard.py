"""The leaderboard read model: ranked by the engine in one statement, read per request by key."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import select

from martingale import leaderboard, money
from martingale.engine import MarketEngine
from martingale.extensions import socketio
from martingale.leaderboard import Ranker, Ranking, board, rank_players
from martingale.models import LIVE, Asset, Holding, Player
from martingale.transaction_utils import read

from ..helpers import execute, new_asset, new_player, trade
from .helpers import API, bearer, post_trade, register


def brute_force(game) -> list[tuple[str, int]]:
    """Every player's (display name, P&L) the slow way, best first, ties by who joined first."""

    def work(session):
        now = game.clock.now()
        prices = {
            a.id: game.price_at(a, now)
            for a in session.scalars(select(Asset).where(Asset.status == LIVE))
        }
        pnl = {p.id: [p.display_name, p.cash - p.granted] for p in session.scalars(select(Player))}
        for h in session.scalars(select(Holding).where(Holding.quantity > 0)):
            if h.asset_id in prices:
                pnl[h.player_id][1] += money.value_floor(h.quantity, prices[h.asset_id])
        ordered = sorted(pnl.items(), key=lambda item: (-item[1][1], item[0]))
        return [(name, value) for _, (name, value) in ordered]

    return read(game.database, work)


def test_a_pass_ranks_every_player_at_the_published_prices(game, clock):
    a = new_asset(game, initial="3.33333333", volatility="0.2")
    b = new_asset(game, initial="70", volatility="0.1")
    names = [f"ply{i}" for i in range(7)]
    ids = {name: new_player(game, name, display_name=f"{name} shown") for name in names}
    trade(game, ids["ply0"], "buy", a.symbol, "123.45678901")
    trade(game, ids["ply1"], "buy", b.symbol, "10")
    trade(game, ids["ply2"], "buy", a.symbol, "7")
    trade(game, ids["ply2"], "buy", b.symbol, "0.00000001")
    trade(game, ids["ply3"], "buy", b.symbol, "3")
    clock.advance(5)
    trade(game, ids["ply3"], "sell", b.symbol, "3")  # closed: a zero holding of a live asset
    # ply4..ply6 never trade: three players tied at zero, ordered by who joined first
    clock.advance(3)
    report = MarketEngine(game).step()
    assert set(report.ticks) >= {a.id, b.id}

    found = board(game, 100)
    assert found.players == 7 and found.tick_seq == 1 and found.as_of == clock.now()
    assert [(r.name, r.total_pnl) for r in found.top] == brute_force(game)
    assert [r.rank for r in found.top] == list(range(1, 8))
    assert all(r.granted == game.settings.initial_cash for r in found.top)
    assert [r.name for r in found.top if r.total_pnl == 0][-3:] == [
        "ply4 shown",
        "ply5 shown",
        "ply6 shown",
    ]
    assert [r.name for r in board(game, 2).top] == [r.name for r in found.top[:2]]


def test_a_live_asset_the_engine_did_not_price_is_priced_from_its_path(game, clock):
    asset = new_asset(game, initial="50", volatility="0.3")
    alice = new_player(game, "alice")
    trade(game, alice, "buy", asset.symbol, "10")
    clock.advance(4)
    rank_players(game, 9, {})  # as if the asset were born after the step's prices
    (alice_row,) = board(game, 10).top
    assert alice_row.total_pnl == brute_force(game)[0][1]
    assert alice_row.total_pnl != -500 * money.USD_SCALE  # its units were not counted as worthless


def test_settled_holdings_are_not_marked_and_a_pass_replaces_the_last(game, clock):
    asset = new_asset(game, initial="10", lifetime_s="30")
    alice = new_player(game, "alice")
    trade(game, alice, "buy", asset.symbol, "5")
    clock.advance(2)
    MarketEngine(game).step()
    clock.advance(40)
    MarketEngine(game).step()  # settles: alice's P&L is now all cash
    new_player(game, "bob")
    clock.advance(1)
    engine = MarketEngine(game)
    engine.step()
    found = board(game, 10)
    assert found.players == 2
    assert [(r.name, r.total_pnl) for r in found.top] == brute_force(game)


def test_the_engine_ranks_every_few_steps_and_less_often_when_a_pass_is_dear(game, clock):
    new_player(game, "alice")
    published = []
    game.events.subscribe(lambda name, payload: published.append(name))
    # the ranker's timer, read before and after each pass: 10 ms, 800 ms, 10 ms
    readings = iter([0.0, 0.01, 0.0, 0.8, 0.0, 0.01])

    def timer():
        return next(readings)

    ranker = Ranker(game, share=0.25, every=2, timer=timer)
    assert ranker.after_step(1, {}) is not None  # 10 ms: ranks again `every` steps later
    assert ranker.next_seq == 3 and ranker.after_step(2, {}) is None
    assert ranker.after_step(3, {}) is not None  # 800 ms of a 1 s tick at a 25% share: 4 ticks
    assert ranker.next_seq == 7
    assert [ranker.after_step(seq, {}) for seq in (4, 5, 6)] == [None, None, None]
    assert ranker.after_step(7, {}) is not None
    assert published.count("leaderboard") == 3
    assert Ranker(game).every == leaderboard.MIN_EVERY >= 1


def test_each_pass_is_pushed_to_everyone_with_display_names_only(app, game, clock):
    asset = new_asset(game, initial="10")
    alice = new_player(game, "alice")
    shown = read(game.database, lambda s: s.get(Player, alice).display_name)
    trade(game, alice, "buy", asset.symbol, "1")
    anonymous = socketio.test_client(app)
    clock.advance(1)
    MarketEngine(game).step()
    pushed = [e["args"][0] for e in anonymous.get_received() if e["name"] == "leaderboard"]
    anonymous.disconnect()
    assert len(pushed) == 1
    (body,) = pushed
    assert set(body) == {"tick_seq", "as_of", "players", "leaderboard"}
    assert body["players"] == 1 and body["tick_seq"] == 1
    assert body["leaderboard"][0]["display_name"] == shown
    assert set(body["leaderboard"][0]) == {"rank", "display_name", "total_pnl", "return_pct"}
    assert "player" not in json.dumps(body["leaderboard"])
    assert "alice" not in json.dumps(body).lower()


def test_the_push_carries_the_top_rows_only(game, clock, monkeypatch):
    monkeypatch.setattr(leaderboard, "PUSH_TOP", 3)
    for i in range(5):
        new_player(game, f"ply{i}")
    boards = []
    game.events.subscribe(lambda name, p: boards.append(p["board"]) if name == "leaderboard" else 0)
    MarketEngine(game).step()
    assert [r.rank for r in boards[0].top] == [1, 2, 3] and boards[0].players == 5


# -- GET /api/v1/leaderboard ------------------------------------------------------------------


def test_before_any_pass_the_board_is_empty(client):
    assert client.get(f"{API}/leaderboard").get_json() == {
        "tick_seq": None,
        "as_of": None,
        "players": 0,
        "leaderboard": [],
    }


def test_the_caller_sees_their_own_rank_and_return_outside_the_top(client, game, clock):
    asset = new_asset(game, initial="10", drift="0", volatility="0.05")
    # keyed by display name, the only name the board shows
    tokens = {
        f"{n.upper()} Z": register(client, n, display_name=f"{n.upper()} Z")
        for n in ("ann", "ben", "cat", "dan")
    }
    for name, quantity in (("ANN Z", "100"), ("BEN Z", "50"), ("CAT Z", "10")):
        assert post_trade(client, tokens[name], asset.symbol, "buy", quantity).status_code == 201
    clock.advance(3)
    MarketEngine(game).step()
    expected = brute_force(game)

    anonymous = client.get(f"{API}/leaderboard?limit=2").get_json()
    assert "me" not in anonymous
    assert [(r["display_name"], r["total_pnl"]) for r in anonymous["leaderboard"]] == [
        (name, money.usd(value)) for name, value in expected[:2]
    ]
    assert anonymous["players"] == 4 and anonymous["tick_seq"] == 1
    assert anonymous["as_of"] == "2026-01-01T00:00:03.000Z"

    last_name, last_pnl = expected[-1]
    mine = client.get(f"{API}/leaderboard?limit=2", headers=bearer(tokens[last_name])).get_json()
    assert mine["leaderboard"] == anonymous["leaderboard"]
    granted = game.settings.initial_cash
    assert mine["me"] == {
        "rank": 4,
        "display_name": last_name,
        "total_pnl": money.usd(last_pnl),
        "return_pct": money.fmt(
            -(abs(last_pnl) * 10_000 // granted) if last_pnl < 0 else last_pnl * 10_000 // granted,
            100,
        ),
    }
    # registered after the pass: not ranked until the next one
    eve = register(client, "eve", display_name="Evening Star")
    assert client.get(f"{API}/leaderboard", headers=bearer(eve)).get_json()["me"] is None
    clock.advance(1)
    MarketEngine(game).step()
    me = client.get(f"{API}/leaderboard", headers=bearer(eve)).get_json()["me"]
    assert (
        me["display_name"] == "Evening Star"
        and me["total_pnl"] == "0.000000"
        and me["return_pct"] == "0.00"
    )


def test_return_pct_is_exact_and_truncated_toward_zero(game):
    from martingale import wire

    row = Ranking(rank=1, name="x", total_pnl=-1_234_567, granted=100_000_000_000)
    assert wire.ranking(row)["return_pct"] == "0.00"
    assert wire.return_pct(-12_345_678_901, 100_000_000_000) == "-12.34"
    assert wire.return_pct(12_345_678_901, 100_000_000_000) == "12.34"
    assert wire.return_pct(5, 0) == "500.00"  # a zero grant never divides by zero


@pytest.mark.parametrize("limit", ["0", "101", "x", "-1"])
def test_limit_is_bounded(client, limit):
    r = client.get(f"{API}/leaderboard?limit={limit}")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_parameter"


def test_the_ranking_query_reads_only_live_assets_holdings(game):
    """Many settled holdings (zero rows) are never read: the statement is driven by the prices."""
    sql = str(
        leaderboard._ranking_select({1: 2}).compile(
            game.database, compile_kwargs={"literal_binds": True}
        )
    )
    assert "JOIN holdings ON holdings.asset_id = quoted.asset_id" in sql
    assert execute(game, "SELECT count(*) FROM leaderboard_ranks") == [(0,)]


def test_on_the_system_clock_a_pass_runs_beside_the_loop_one_at_a_time(game):
    new_player(game, "alice")
    assert Ranker(game).background is False  # a manual clock drives the steps: rank in the step
    release, done = threading.Event(), threading.Event()
    game.events.subscribe(lambda name, _p: done.set() if name == "leaderboard" else None)
    ranker = Ranker(game, every=1, background=True, guard=lambda _session: release.wait(30))
    assert ranker.after_step(1, {}) is None  # returned at once: the pass waits in its thread
    assert ranker.after_step(2, {}) is None and not done.is_set()  # one pass at a time
    release.set()
    assert done.wait(30)
    assert board(game, 5).tick_seq == 1 and ranker.next_seq == 2
    assert ranker._running.acquire(timeout=30)  # the thread lets go of it after publishing
    ranker._running.release()
    done.clear()
    assert ranker.after_step(2, {}) is None and done.wait(30)
    assert board(game, 5).tick_seq == 2
