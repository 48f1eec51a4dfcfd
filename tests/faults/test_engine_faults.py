"""The market engine's faults, on real processes and PostgreSQL, with players trading throughout.

1. The leader's connection is cut (pg_terminate_backend of the session holding the advisory lock)
   while its process lives, paused at the worst moment: after checking its lock, before writing.
   A standby leads; the old leader, resumed, writes nothing (the term fences it) and stands by.
2. kill -9 of ``flask --app martingale engine``: the standby leads within 5 s, the price path goes
   on where it was, and every finished asset settles exactly once.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import select

from martingale import accounts, create_app
from martingale.clock import SystemClock
from martingale.config import load_config
from martingale.game import Game, game_of
from martingale.models import Asset, PriceTick
from martingale.transaction_utils import read

from .books import assert_books
from .load import Traders, service_attempt, service_symbols
from .processes import FAULT_ENV, Processes, app_env, plain_url, run_flask, wait_for

ENGINE = [sys.executable, "-m", "tests.faults.engine_process"]
FAILOVER_S = 5.0


@pytest.fixture
def service_game(database_url: str) -> Iterator[Game]:
    """The trade service in this process, on the wall clock, for the traders."""
    config = load_config(
        dict(FAULT_ENV, DATABASE_URL=database_url), TESTING=True, MARTINGALE_CLOCK=SystemClock()
    )
    game = game_of(create_app(config))
    yield game
    game.database.dispose()


def beat(url: str) -> dict[str, Any] | None:
    with psycopg.connect(plain_url(url)) as conn:
        row = conn.execute("SELECT holder, ticks, term FROM engine_beats WHERE id = 1").fetchone()
    if row is None:
        return None
    return {"pid": int(row[0].split(":")[-2]), "ticks": row[1], "term": row[2]}


def leads(url: str, pid: int, after: int = 0) -> bool:
    """The beat row says ``pid`` holds the term and the step count passed ``after``: it has
    stepped (a claim alone names the holder but counts no step)."""
    now = beat(url)
    return now is not None and now["pid"] == pid and now["ticks"] > after


def published(path: Path, name: str = "prices") -> list[dict[str, Any]]:
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [line["payload"] for line in lines if line["name"] == name]


def terms_led(output: str) -> list[int]:
    return [
        int(line.rsplit("term ", 1)[1]) for line in output.splitlines() if " leads, term " in line
    ]


def assert_price_paths(game: Game) -> int:
    """Every asset's stored ticks run 0..last without a hole, each the price its seed gives."""
    assets = read(game.database, lambda s: s.scalars(select(Asset)).all())
    rows = read(
        game.database,
        lambda s: s.execute(select(PriceTick.asset_id, PriceTick.tick, PriceTick.price)).all(),
    )
    stored: dict[int, dict[int, int]] = {}
    for asset_id, tick, price in rows:
        stored.setdefault(asset_id, {})[tick] = price
    for asset in assets:
        ticks = stored.get(asset.id, {})
        last = max(ticks)
        assert ticks == {k: game.path(asset).price(k) for k in range(last + 1)}, asset.symbol
        if asset.final_tick is not None:
            assert last == asset.final_tick == asset.end_tick
    return len(assets)


def test_an_engine_whose_connection_is_cut_writes_nothing_once_a_standby_leads(
    database_url: str, service_game: Game, processes: Processes, tmp_path: Path
) -> None:
    env = app_env(database_url)
    pause, a_log, b_log = tmp_path / "pause", tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    held = Path(f"{pause}.held")
    a = processes.start(
        "engine-a", ENGINE, env | {"FAULT_EVENTS": str(a_log), "FAULT_PAUSE": str(pause)}
    )
    wait_for("engine A to lead", lambda: leads(database_url, a.pid, 1), 60)
    b = processes.start("engine-b", ENGINE, env | {"FAULT_EVENTS": str(b_log)})
    wait_for("engine B to stand by", lambda: "stands by" in b.output(), 60)
    players = [accounts.create_player(service_game, f"trader_{i}") for i in range(4)]
    traders = Traders(players, service_attempt(service_game), service_symbols(service_game))
    processes.on_stop(traders.halt)
    traders.start()
    time.sleep(2)

    # A is held at the start of a step: its lock was checked, nothing is written yet
    pause.touch()
    wait_for("engine A to be held before a step", held.exists, 10)
    with psycopg.connect(plain_url(database_url), autocommit=True) as conn:
        before = beat(database_url)["ticks"]  # type: ignore[index]
        [(lock_pid,)] = conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchall()
        cut = time.monotonic()
        assert conn.execute("SELECT pg_terminate_backend(%s)", (lock_pid,)).fetchone() == (True,)
    wait_for("engine B to lead", lambda: leads(database_url, b.pid, before), 3 * FAILOVER_S)
    failover_s = time.monotonic() - cut
    wait_for("engine B to publish ticks", lambda: len(published(b_log)) >= 2, 10)
    a_before = {
        name: len(published(a_log, name)) for name in ("prices", "asset_settled", "asset_born")
    }

    # A wakes up and tries to go on under its old term
    pause.unlink()
    wait_for("engine A to resume", lambda: not held.exists(), 10)
    time.sleep(3)  # A's late step, and more ticks
    a_after = {
        name: len(published(a_log, name)) for name in ("prices", "asset_settled", "asset_born")
    }
    assert a_after == a_before, "the superseded engine published after the standby led"
    assert "was superseded" in a.output() and "stands by" in a.output()
    traders.stop()
    b_prices = published(b_log)
    assert a.alive() and b.alive()
    assert failover_s <= FAILOVER_S, f"the standby led {failover_s:.1f} s after the cut"

    # one sequence: A's steps, then B's, each once, no tick published twice
    a_seqs = [p["tick_seq"] for p in published(a_log)]
    b_seqs = [p["tick_seq"] for p in b_prices]
    assert b_seqs == list(range(a_seqs[-1] + 1, a_seqs[-1] + 1 + len(b_seqs))), (a_seqs, b_seqs)
    ticks = Counter(
        (symbol, k) for body in published(a_log) + b_prices for symbol, k in body["ticks"].items()
    )
    assert [pair for pair, n in ticks.items() if n > 1] == []
    [a_term] = terms_led(a.output())
    [b_term] = terms_led(b.output())
    assert b_term == a_term + 1 == beat(database_url)["term"]  # type: ignore[index]
    assert_price_paths(service_game)
    books = assert_books(env, database_url, traders)
    assert books.acknowledged > 0
    print(f"failover {failover_s:.2f} s; {books}")


def test_kill_9_of_the_engine_a_standby_leads_within_5_s_and_nothing_settles_twice(
    database_url: str, service_game: Game, processes: Processes
) -> None:
    env = app_env(database_url)
    a = processes.flask("engine-a", env, "engine")
    wait_for("engine A to lead", lambda: leads(database_url, a.pid, 1), 60)
    b = processes.flask("engine-b", env, "engine")
    wait_for("engine B to stand by", lambda: "stands by" in b.output(), 60)
    players = [accounts.create_player(service_game, f"trader_{i}") for i in range(4)]
    traders = Traders(players, service_attempt(service_game), service_symbols(service_game))
    processes.on_stop(traders.halt)
    traders.start()
    time.sleep(3)

    live = read(service_game.database, lambda s: s.scalars(Asset.live()).all())
    a.kill9()
    before = beat(database_url)
    assert before is not None and before["pid"] == a.pid
    killed = time.monotonic()
    wait_for("engine B to lead", lambda: leads(database_url, b.pid, before["ticks"]), 15)
    failover_s = time.monotonic() - killed
    assert failover_s <= FAILOVER_S, f"the standby led {failover_s:.1f} s after kill -9"

    # every asset live at the kill ends and settles under the new leader
    def all_settled() -> bool:
        ids = [a.id for a in live]
        rows = read(
            service_game.database,
            lambda s: s.scalars(select(Asset.status).where(Asset.id.in_(ids))).all(),
        )
        return all(status == "settled" for status in rows)

    wait_for("the assets live at the kill to settle", all_settled, 30, interval=0.2)
    traders.stop()
    after = beat(database_url)
    assert after is not None
    assert after["term"] == before["term"] + 1 and after["pid"] == b.pid
    with psycopg.connect(plain_url(database_url)) as conn:
        twice = conn.execute(
            "SELECT asset_id, count(*) FROM journal_entries WHERE kind = 'settlement'"
            " GROUP BY asset_id HAVING count(*) > 1"
        ).fetchall()
        held_at_end = conn.execute(
            "SELECT count(DISTINCT s.asset_id) FROM settlements s WHERE s.asset_id = ANY(%s)",
            ([a.id for a in live],),
        ).fetchone()[0]
    assert twice == []
    assert held_at_end > 0, "no asset live at the kill was held: the test settled nothing"
    assert_price_paths(service_game)
    for asset in live:  # the proof recomputes every stored tick from the revealed seed
        result = run_flask(env, "verify", str(asset.id))
        assert result.returncode == 0 and "verified" in result.stdout, result.stdout
    books = assert_books(env, database_url, traders)
    assert books.acknowledged > 0
    print(f"failover {failover_s:.2f} s; {books}")
