"""The one-round-trip trade path: PostgreSQL's mg_trade and its SQLite twin answer alike, the cache
of live assets is re-checked by the database, the session is checked in the trade's own round trip,
nothing is read after the commit, and SQLite commits queued trades together, off gevent's hub."""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import event, select

from martingale import auth, create_app, trading, transaction_utils
from martingale.asset_cache import cache_of
from martingale.engine import MarketEngine
from martingale.errors import AssetNotTradable, MartingaleError
from martingale.extensions import db
from martingale.game import Game, game_of
from martingale.models import Holding, JournalEntry, Player, Posting, Trade
from martingale.reconcile import reconcile
from martingale.trade_store import TradeCall, run_trade
from martingale.transaction_utils import read, sqlite_writer, writer_gate

from .helpers import execute, make_config, new_asset, new_player, trade

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "Quartz-Lantern-31"


# -- the function and its twin agree -----------------------------------------------------------
def scenario(game: Game) -> list[tuple]:
    """Every branch of the trade, in one story; what each step answered, trade and account."""
    game.rng = random.Random(8)  # the same assets (seeds, symbols) on both databases
    clock = game.clock
    answers: list[tuple] = []

    def step(label, player, side, symbol, quantity, key, session_id=None):
        try:
            r = trading.execute_trade(
                game, player_id=player, side=side, symbol=symbol, quantity=quantity,
                idempotency_key=key, session_id=session_id,
            )  # fmt: skip
            answers.append((label, "ok", r, r.portfolio))
        except MartingaleError as exc:
            answers.append((label, exc.code, exc.message))

    main = new_asset(game, initial="3", volatility="0.05", lifetime_s="20")
    penny = new_asset(game, initial="0.02", volatility="0.001", lifetime_s="20")
    pricey = new_asset(game, initial="100", lifetime_s="20")
    # named, not generated: both backends must answer the same story word for word
    alice, bob = new_player(game, "alice", "Alice A"), new_player(game, "bob", "Bob B")
    carol = auth.register(game, "carol", PASSWORD, auth.API, display_name="Carol C").principal

    step("buy", alice, "buy", main.symbol, "10", "a1")
    step("replay", alice, "BUY", main.symbol.lower(), "10.00000000", "a1")
    step("duplicate", alice, "buy", main.symbol, "11", "a1")
    clock.advance(3)
    step("partial sell (prorata)", alice, "sell", main.symbol, "3", "a2")
    step("too many units", alice, "sell", main.symbol, "7.00000001", "a3")
    step("buy more", alice, "buy", main.symbol, "0.33333333", "a4")
    step("sell all", alice, "sell", main.symbol, "7.33333333", "a5")
    step("no cash", bob, "buy", main.symbol, "100000", "b1")
    step("too large", bob, "buy", pricey.symbol, "1000000000", "b2")
    step("unknown", bob, "buy", "ZZZ", "1", "b3")
    step("penny buy", bob, "buy", penny.symbol, "0.00000001", "b4")
    step("zero proceeds", bob, "sell", penny.symbol, "0.00000001", "b5")
    step("second asset", bob, "buy", pricey.symbol, "2", "b6")
    step("with a session", carol.player_id, "buy", main.symbol, "1", "c1", carol.session_id)
    auth.logout(game, carol)
    step("session ended", carol.player_id, "buy", main.symbol, "1", "c2", carol.session_id)
    step("ended, bad order", carol.player_id, "hold", main.symbol, "1", "c3", carol.session_id)
    clock.advance(17)  # tick 20 = expiry: nothing has settled yet
    step("at the end", bob, "sell", pricey.symbol, "1", "b7")
    MarketEngine(game).step()
    step("settled", bob, "sell", pricey.symbol, "1", "b8")
    step("replay after settlement", bob, "buy", pricey.symbol, "2", "b6")
    return answers


def books(game: Game) -> dict[str, list[tuple]]:
    def work(session):
        return {
            name: [tuple(r) for r in session.execute(query).all()]
            for name, query in {
                "entries": select(
                    JournalEntry.id,
                    JournalEntry.kind,
                    JournalEntry.player_id,
                    JournalEntry.asset_id,
                    JournalEntry.created_at,
                ).order_by(JournalEntry.id),
                "postings": select(
                    Posting.entry_id, Posting.player_id, Posting.asset_id, Posting.amount
                ).order_by(Posting.id),
                "trades": select(
                    Trade.id,
                    Trade.player_id,
                    Trade.asset_id,
                    Trade.side,
                    Trade.quantity,
                    Trade.price,
                    Trade.total,
                    Trade.realized_pnl,
                    Trade.tick,
                    Trade.executed_at,
                    Trade.idempotency_key,
                    Trade.request_hash,
                    Trade.entry_id,
                ).order_by(Trade.id),
                "holdings": select(
                    Holding.player_id, Holding.asset_id, Holding.quantity, Holding.cost_basis
                ).order_by(Holding.player_id, Holding.asset_id),
                "players": select(Player.id, Player.cash, Player.realized_pnl).order_by(Player.id),
            }.items()
        }

    return read(game.database, work)


def run_on(url: str) -> tuple[list[tuple], dict[str, list[tuple]]]:
    app = create_app(make_config(url))
    game = game_of(app)
    try:
        answers = scenario(game)
        assert all(c.ok for c in reconcile(game.database))
        return answers, books(game)
    finally:
        game.database.dispose()


def test_the_postgresql_function_and_the_sqlite_twin_answer_alike(
    sqlite_template, pg_database, tmp_path
):
    copy = tmp_path / "twin.db"
    shutil.copy(sqlite_template, copy)
    # not market_controls: its one row (migration 0009) is the kill switch every later test on this
    # session's database reads; emptied, they fail
    tables = ", ".join(t.name for t in db.metadata.sorted_tables if t.name != "market_controls")
    with psycopg.connect(pg_database.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    on_sqlite, sqlite_books = run_on(f"sqlite:///{copy}")
    on_postgresql, postgresql_books = run_on(pg_database)
    assert on_sqlite == on_postgresql
    assert sqlite_books == postgresql_books
    # the story did reach every branch
    outcomes = {label: outcome for label, outcome, *_ in on_sqlite}
    assert outcomes == {
        "buy": "ok", "replay": "ok", "duplicate": "duplicate_request",
        "partial sell (prorata)": "ok", "too many units": "insufficient_holdings",
        "buy more": "ok", "sell all": "ok", "no cash": "insufficient_funds",
        "too large": "trade_value_too_large", "unknown": "unknown_asset", "penny buy": "ok",
        "zero proceeds": "ok", "second asset": "ok", "with a session": "ok",
        "session ended": "invalid_token", "ended, bad order": "invalid_token",
        "at the end": "asset_not_tradable", "settled": "asset_not_tradable",
        "replay after settlement": "ok",
    }  # fmt: skip
    replayed = [a[2] for a in on_sqlite if a[0].startswith("replay")]
    assert all(r.replayed for r in replayed)
    assert not replayed[-1].portfolio.positions  # the replay shows the account as it is now
    zero = next(a[2] for a in on_sqlite if a[0] == "zero proceeds")
    assert (zero.total, zero.realized_pnl) == (0, -1)
    entry_legs = {}
    for entry_id, *_ in sqlite_books["postings"]:
        entry_legs[entry_id] = entry_legs.get(entry_id, 0) + 1
    zero_entry = next(t[12] for t in sqlite_books["trades"] if t[0] == zero.id)
    assert entry_legs[zero_entry] == 2  # no cash moved: the zero legs are not written


# -- what the database re-checks ---------------------------------------------------------------
def call_for(game: Game, asset, player: int, **changes) -> TradeCall:
    now = game.clock.now()
    tick = cache_of(game).live(game, asset.symbol).tick_at(now)
    price = game.path(asset).price(max(tick, 0))
    fields = dict(
        player_id=player, session_id=None, now=now, symbol=asset.symbol, side="buy",
        quantity=10**8, key=f"k{random.random()}", fingerprint="f", asset_id=asset.id, tick=tick,
        price=price, value=price // 100,
    )  # fmt: skip
    return TradeCall(**(fields | changes))


def test_the_database_refuses_a_trade_priced_for_another_asset_or_tick(game):
    asset, other = new_asset(game), new_asset(game)
    alice = new_player(game)
    assert run_trade(game.database, call_for(game, asset, alice, asset_id=other.id)).status == (
        "stale_asset"
    )
    assert run_trade(game.database, call_for(game, asset, alice, tick=1)).status == "tick_mismatch"
    assert run_trade(game.database, call_for(game, asset, alice)).status == "ok"
    assert len(read(game.database, lambda s: s.scalars(select(Trade.id)).all())) == 1


@pytest.mark.parametrize("before_birth_us", [1, 999_999, 1_000_000, 1_000_001])
def test_both_databases_floor_the_tick_before_birth(game, clock, before_birth_us):
    asset = new_asset(game)
    alice = new_player(game)
    clock.set(asset.born_at - timedelta(microseconds=before_birth_us))
    call = call_for(game, asset, alice)
    assert call.tick == -1 - (before_birth_us - 1) // 1_000_000
    assert run_trade(game.database, call).status == "asset_not_tradable"


def test_a_cached_asset_that_settled_is_refused_then_read_again(game, clock):
    asset = new_asset(game, lifetime_s="2")
    alice = new_player(game)
    trade(game, alice, "buy", asset.symbol, "1")  # the cache knows the asset now
    clock.advance(2)
    MarketEngine(game).step()  # settled behind the cache's back
    with pytest.raises(AssetNotTradable, match="has expired"):
        trade(game, alice, "buy", asset.symbol, "1")
    # a day later the symbol names a new asset: the cache must not hold on to the old one
    successor = new_asset(game)
    execute(game, "UPDATE assets SET symbol = :s WHERE id = :i", s=asset.symbol, i=successor.id)
    assert trade(game, alice, "buy", asset.symbol, "1").asset_id == successor.id


def test_a_symbol_moved_to_a_new_asset_behind_a_warm_cache_trades_the_new_one(game, clock):
    asset = new_asset(game, lifetime_s="2")
    alice = new_player(game)
    cache_of(game).live(game, asset.symbol)  # warm: names the old asset
    clock.advance(2)
    MarketEngine(game).step()
    successor = new_asset(game)
    execute(game, "UPDATE assets SET symbol = :s WHERE id = :i", s=asset.symbol, i=successor.id)
    bought = trade(game, alice, "buy", asset.symbol, "1")
    assert (bought.asset_id, bought.symbol) == (successor.id, asset.symbol)


# -- sessions --------------------------------------------------------------------------------------
def test_a_session_revoked_between_two_trades_is_refused_at_once(app, game):
    asset = new_asset(game)
    login = auth.register(game, "alice", PASSWORD, auth.API)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {login.access_token}"}

    def post(key, **body):
        order = {"symbol": asset.symbol, "side": "buy", "quantity": "1"} | body
        return client.post("/api/v1/trades", json=order, headers=headers | {"Idempotency-Key": key})

    assert post("k1").status_code == 201  # the token's signature is now known to this process
    # revoked by another server: no event reaches this one, only the row changes
    execute(game, "UPDATE auth_sessions SET revoked_at = expires_at")
    refused = post("k2")
    assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "invalid_token"
    # refusals that never reach the database still answer for the ended session first
    assert post("k3", side="hold").status_code == 401
    assert client.post("/api/v1/trades", data="x", headers=headers).status_code == 401
    assert read(game.database, lambda s: len(s.scalars(select(Trade.id)).all())) == 1


# -- nothing read after the commit -------------------------------------------------------------------
def test_a_bearer_trade_runs_no_statement_besides_its_own_round_trip(app, game):
    asset = new_asset(game)
    login = auth.register(game, "alice", PASSWORD, auth.API)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {login.access_token}"}
    order = {"symbol": asset.symbol, "side": "buy", "quantity": "1"}
    assert client.post("/api/v1/trades", json=order, headers=headers | {"Idempotency-Key": "warm"})
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(game.database, "before_cursor_execute", seen)
    try:
        reply = client.post(
            "/api/v1/trades", json=order, headers=headers | {"Idempotency-Key": "k"}
        )
    finally:
        event.remove(game.database, "before_cursor_execute", seen)
    assert reply.status_code == 201, reply.get_json()
    # no session read, no portfolio read, no name read: the function's answer is the reply
    assert statements == []
    assert reply.get_json()["portfolio"]["holdings"][0]["quantity"] == "2.00000000"


# -- SQLite: group commit ------------------------------------------------------------------------------
def test_sqlite_jobs_queued_together_commit_together_and_fail_alone(game, backend):
    if backend != "sqlite":
        pytest.skip("SQLite's writer")
    writer = sqlite_writer(game.database)
    results: dict[int, object] = {}

    def job(i):
        def work(conn):
            conn.execute(
                "INSERT INTO symbol_leases (symbol, reusable_after) VALUES (?, ?)",
                (f"Q{i}", "2026-01-01 00:00:00.000000"),
            )
            if i == 1:
                raise RuntimeError("this one fails")
            return i

        try:
            results[i] = writer.run(work)
        except RuntimeError as exc:
            results[i] = exc

    before = writer.batches
    threads = [threading.Thread(target=job, args=(i,)) for i in range(3)]
    with writer_gate(game.database):  # hold the gate until all three are queued
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while len(writer._queue) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    for t in threads:
        t.join(30)
    assert writer.batches == before + 1  # one transaction for the three
    assert results[0] == 0 and results[2] == 2 and isinstance(results[1], RuntimeError)
    kept = execute(game, "SELECT symbol FROM symbol_leases WHERE symbol LIKE 'Q%' ORDER BY 1")
    assert kept == [("Q0",), ("Q2",)]


GEVENT_SCRIPT = textwrap.dedent(
    """
    from gevent import monkey
    monkey.patch_all()
    import json, sys, time
    import gevent
    from martingale import accounts, create_app, trading
    from martingale.game import game_of
    from martingale.reconcile import reconcile
    from martingale.transaction_utils import sqlite_writer
    from tests.helpers import make_config, new_asset

    game = game_of(create_app(make_config(sys.argv[1])))
    asset = new_asset(game)
    players = [accounts.create_player(game, f"player{i}") for i in range(32)]
    gaps, running = [], [True]

    def ticker():
        last = time.perf_counter()
        while running[0]:
            gevent.sleep(0.002)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    def trader(i):
        for k in range(10):
            trading.execute_trade(game, player_id=players[i], symbol=asset.symbol, side="buy",
                                  quantity="0.1", idempotency_key=f"{i}-{k}")

    tick = gevent.spawn(ticker)
    gevent.joinall([gevent.spawn(trader, i) for i in range(32)], raise_error=True)
    running[0] = False
    tick.join()
    writer = sqlite_writer(game.database)
    print(json.dumps({"jobs": writer.jobs, "batches": writer.batches, "max_gap": max(gaps),
                      "reconciled": all(c.ok for c in reconcile(game.database))}))
    """
)


def test_sqlite_under_gevent_commits_in_batches_and_keeps_the_hub_serving(
    sqlite_template, tmp_path
):
    copy = tmp_path / "gevent.db"
    shutil.copy(sqlite_template, copy)
    done = subprocess.run(
        [sys.executable, "-c", GEVENT_SCRIPT, f"sqlite:///{copy}"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["jobs"] == 320 and found["reconciled"]
    assert found["batches"] < 320 / 2  # queued trades shared commits
    # the hub kept running while SQLite wrote and synced (the bound is 1 s)
    assert found["max_gap"] < 0.5, found


def test_a_trade_connection_lost_while_idle_is_retried_once_on_a_fresh_one(game, backend):
    """The server restarted, say: the trade's kept connections are dead; the trade is not lost."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL's trade connections")
    asset = new_asset(game)
    alice = new_player(game)
    trade(game, alice, "buy", asset.symbol, "1")
    kept = transaction_utils.autocommit._AUTOCOMMIT[game.database]._idle
    pids = [conn.info.backend_pid for conn, _ in kept]
    assert pids
    execute(game, "SELECT pg_terminate_backend(pid) FROM unnest(CAST(:p AS int[])) AS pid", p=pids)
    again = trade(game, alice, "buy", asset.symbol, "1")
    assert (again.quantity, again.replayed) == (10**8, False)
    assert trade(game, alice, "buy", asset.symbol, "1").quantity == 10**8
    assert len(read(game.database, lambda s: s.scalars(select(Trade.id)).all())) == 3


def test_sqlite_trades_wait_for_another_processs_lock_instead_of_failing(game, backend):
    """Another connection (another process, say) holds the write lock for longer than the writer's
    own 50 ms busy timeout: the trade waits (sleeping, not in SQLite) and goes through after."""
    if backend != "sqlite":
        pytest.skip("SQLite's writer")
    asset = new_asset(game)
    alice = new_player(game)
    trade(game, alice, "buy", asset.symbol, "1")  # the writer's connection is open
    other = sqlite3.connect(
        game.database.url.database, isolation_level=None, check_same_thread=False
    )
    other.execute("BEGIN IMMEDIATE")
    released = threading.Event()

    def let_go():
        time.sleep(0.3)
        released.set()
        other.execute("COMMIT")
        other.close()

    holder = threading.Thread(target=let_go)
    holder.start()
    try:
        bought = trade(game, alice, "buy", asset.symbol, "1")
        assert released.is_set()  # it really did wait for the other writer
    finally:
        holder.join(30)
    assert bought.quantity == 10**8
