"""Benchmark the game core on SQLite and (when reachable) PostgreSQL.

    .venv/bin/python bench/core.py [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

Prints, per backend: the 32-thread 40% race, 16-thread same-key retries, sequential and concurrent
trade latency and throughput, and the time to settle one asset held by many players. Figures are
wall-clock on whatever machine runs it: compare them as ratios, and note the machine.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path

import psycopg
from flask_migrate import upgrade

from martingale import accounts, create_app, trading
from martingale.asset_manager import Draw, create_asset
from martingale.clock import ManualClock
from martingale.config import load_config
from martingale.errors import MartingaleError
from martingale.game import game_of
from martingale.reconcile import reconcile
from martingale.settlement import settle_asset
from martingale.transaction_utils import run_in_transaction


def build_game(url: str):
    app = create_app(load_config({"DATABASE_URL": url}, MARTINGALE_CLOCK=ManualClock()))
    with app.app_context():
        upgrade()
    return game_of(app)


def new_asset(game, lifetime="600"):
    draw = Draw(Decimal("0"), Decimal("0.0001"), 100 * 10**8, Decimal(lifetime))
    return run_in_transaction(
        game.database, lambda s: create_asset(s, game, game.clock.now(), draw)
    )


def race(n, work):
    barrier, results = threading.Barrier(n), [None] * n

    def run(i):
        barrier.wait()
        try:
            results[i] = work(i)
        except MartingaleError as exc:
            results[i] = exc.code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.perf_counter() - started


def buy(game, player, symbol, qty, key=None):
    return trading.execute_trade(
        game, player_id=player, symbol=symbol, side="buy", quantity=qty,
        idempotency_key=key or uuid.uuid4().hex,
    )  # fmt: skip


def pct(values, q):
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000


def bench(name: str, game, settle_holders: int) -> None:
    asset = new_asset(game)
    alice = accounts.create_player(game, f"racer_{uuid.uuid4().hex[:8]}")
    results, wall = race(32, lambda i: buy(game, alice, asset.symbol, "400"))
    tally = Counter("ok" if not isinstance(r, str) else r for r in results)
    print(f"[{name}] race 32 x 40% buys: {dict(tally)} in {wall * 1000:.0f} ms")

    bob = accounts.create_player(game, f"retry_{uuid.uuid4().hex[:8]}")
    results, wall = race(16, lambda i: buy(game, bob, asset.symbol, "1", key="same"))
    print(
        f"[{name}] 16 retries of one key: {len({r.id for r in results})} trade,"
        f" {sum(r.replayed for r in results)} replays in {wall * 1000:.0f} ms"
    )

    carol = accounts.create_player(game, f"seq_{uuid.uuid4().hex[:8]}")
    lat = []
    for _ in range(300):
        t = time.perf_counter()
        buy(game, carol, asset.symbol, "0.1")
        lat.append(time.perf_counter() - t)
    print(
        f"[{name}] sequential trades: p50 {pct(lat, 0.5):.1f} ms, p99 {pct(lat, 0.99):.1f} ms,"
        f" {len(lat) / sum(lat):.0f} trades/s"
    )

    players = [accounts.create_player(game, f"conc{i}_{uuid.uuid4().hex[:6]}") for i in range(8)]
    lat_lock = threading.Lock()
    lat = []

    def worker(i):
        mine = []
        for _ in range(100):
            t = time.perf_counter()
            buy(game, players[i], asset.symbol, "0.1")
            mine.append(time.perf_counter() - t)
        with lat_lock:
            lat.extend(mine)

    _, wall = race(8, worker)
    print(
        f"[{name}] 8 threads x 100 trades: p50 {pct(lat, 0.5):.1f} ms, p99 {pct(lat, 0.99):.1f} ms,"
        f" {len(lat) / wall:.0f} trades/s"
    )

    short = new_asset(game, lifetime="5")
    holders = [
        accounts.create_player(game, f"h{i}_{uuid.uuid4().hex[:6]}") for i in range(settle_holders)
    ]
    for p in holders:
        buy(game, p, short.symbol, "1.5")
    game.clock.advance(5)
    t = time.perf_counter()
    report = settle_asset(game, short.id)
    print(
        f"[{name}] settlement of {report.holders} holdings: {(time.perf_counter() - t) * 1000:.0f} ms;"
        f" second run: {settle_asset(game, short.id)}"
    )
    checks = reconcile(game.database)
    print(f"[{name}] reconcile: {sum(c.ok for c in checks)}/{len(checks)} checks pass")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--holders", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        game = build_game(f"sqlite:///{Path(tmp) / 'bench.db'}")
        bench("sqlite", game, args.holders)
        game.database.dispose()
    try:
        admin = psycopg.connect(args.postgres, autocommit=True, connect_timeout=3)
    except psycopg.Error:
        print("[postgresql] not reachable; skipped")
        return
    name = f"martingale_bench_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        game = build_game(args.postgres.rsplit("/", 1)[0] + "/" + name)
        bench("postgresql", game, args.holders)
        game.database.dispose()
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
