"""Reads that do not grow with history: the leaderboard, performance history, GET rate limits.

    python bench/reads.py [--url URL --database-url URL] [--smoke] [--players 100000]
                          [--seconds 10] [--engine-apart]

With --url (bench/run.py's topology) it measures that server, writing its test data into
--database-url; without it, it starts gunicorn itself (gunicorn.conf.py: one worker, the engine
inside it) on --database-url or a temporary SQLite file, with rate limits off (all the load comes
from one address), and for step 5 once more with them on. --engine-apart runs the engine as its own
process (`flask engine`), as the Procfile of the scale-out work does; tick gaps are then read from
the engine's beats, since without a message queue its messages do not reach the web process.

1. Data, bulk-inserted in one transaction per step, through SQL that keeps the books balanced
   (grant and buy journal entries, four postings each, trade rows, holdings, players' cash):
   --players players each holding an open position in one of the live assets (the ones with the
   most time left); and two players with 3,000 and 30,000 buy+sell round trips on assets created
   for them in the past and settled (no open holding left): the 3,000 all inside the last hour
   (the window performance history draws), the 30,000 spread over 10 hours with 3,000 inside.
2. Waits for the engine's ranking pass that includes everyone (leaderboard_passes.players) and
   reports how long its ranking statement took and how many ticks apart passes run.
3. GET /api/v1/leaderboard with wrk (Debian's; installed if missing): anonymous, and with access
   tokens of players ranked outside the top 25 (the reply includes their own rank and return).
   Any reply but 200 fails the run.
4. GET /api/v1/performance/history?points=600 for both history players: p50/p99 over HTTP, and
   in-process the same service beside a forward replay of every trade (the old algorithm).
5. Four clients looping on that GET (the heaviest one) while /healthz is probed and a Socket.IO
   client records the gaps between `prices` messages; the same probes idle first, for reference.
   Without --url this step runs again on a server with the GET budgets (rate_limits.py) on.
6. `flask reconcile` on the database: exit 1 if the books do not reconcile.

Figures are printed as ``figure: <name> = <value> (<unit>) [reference: ...]``. ``--smoke``: a
few thousand players, a few hundred trades, seconds per step; correctness only.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests
import socketio
from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from books import reconcile  # noqa: E402  (a sibling: bench/ scripts run as files)

from martingale import create_app, reports  # noqa: E402
from martingale.asset_manager import Draw, create_asset  # noqa: E402
from martingale.clock import ManualClock  # noqa: E402
from martingale.config import load_config  # noqa: E402
from martingale.game import Game, game_of, tick_at, tick_time  # noqa: E402
from martingale.models import (  # noqa: E402
    LIVE,
    SETTLED,
    Asset,
    EngineBeat,
    LeaderboardPass,
    Player,
    PriceTick,
    Settlement,
    Trade,
)
from martingale.money import PRICE_SCALE, QTY_SCALE, value_ceil, value_floor  # noqa: E402
from martingale.names import skeleton  # noqa: E402
from martingale.reports import ValuePoint  # noqa: E402
from martingale.transaction_utils import read, run_in_transaction  # noqa: E402

PASSWORD = "Quartz-Lantern-31"
API = "/api/v1"


def say(line: str) -> None:
    print(line, flush=True)


def figure(name: str, value: object, unit: str, reference: str = "") -> None:
    ref = f" [reference: {reference}]" if reference else ""
    say(f"figure: {name} = {value} ({unit}){ref}")


def pct(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the server (only without --url) ----------------------------------------------------------
SECRET_KEY = secrets.token_urlsafe(32)  # one for both servers: the tokens stay good


def start_server(
    database_url: str, rate_limits: str, engine_apart: bool
) -> tuple[str, list[subprocess.Popen[bytes]]]:
    """gunicorn.conf.py's web server; with ``engine_apart`` the engine runs as its own process."""
    port = free_port()
    env = dict(
        os.environ, DATABASE_URL=database_url, PORT=str(port), HOST="127.0.0.1",
        SECRET_KEY=SECRET_KEY, MARTINGALE_PASSWORD_HASH="scrypt:1024:8:1",
        RATELIMIT_ENABLED="true" if rate_limits == "on" else "false",
        MARTINGALE_ENGINE="off" if engine_apart else "on",
    )  # fmt: skip
    bin_dir = Path(sys.executable).parent
    subprocess.run([str(bin_dir / "flask"), "--app", "martingale", "db", "upgrade"], env=env,
                   check=True, capture_output=True, cwd=ROOT)  # fmt: skip
    procs = []
    if engine_apart:
        procs.append(subprocess.Popen(
            [str(bin_dir / "flask"), "--app", "martingale", "engine"],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))  # fmt: skip
    procs.append(subprocess.Popen(
        [str(bin_dir / "gunicorn"), "--config", "gunicorn.conf.py", "martingale:create_app()"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    ))  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if requests.get(f"{url}/readyz", timeout=5).status_code == 200:
                return url, procs
        except requests.RequestException:
            pass
        time.sleep(0.2)
    stop(procs)
    raise SystemExit("bench/reads: the server did not become ready")


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(30)


def local_game(database_url: str) -> Game:
    """The app's own services on the benchmark's database, for writing data and timing services."""
    clock = ManualClock(datetime.now(UTC))  # set before each comparison: one instant for both
    config = load_config(
        {"DATABASE_URL": database_url, "MARTINGALE_ENGINE": "off"}, MARTINGALE_CLOCK=clock
    )
    return game_of(create_app(config))


# -- accounts -----------------------------------------------------------------------------------
@dataclass
class Account:
    name: str
    token: str
    player_id: int


def register(url: str, prefix: str, count: int) -> list[Account]:
    """Players through the API; stops early at a 429 (registration is limited per address)."""
    found = []
    for i in range(count):
        name = f"{prefix}{i}"
        r = requests.post(f"{url}{API}/auth/register", json={"username": name,
                          "password": PASSWORD}, timeout=60)  # fmt: skip
        if r.status_code == 429:
            break
        r.raise_for_status()
        body = r.json()
        found.append(Account(name, body["access_token"], body["user"]["id"]))
    return found


# -- bulk data that keeps the books balanced ----------------------------------------------------
class Rows:
    """Rows for one transaction: ids reserved up front, written by COPY or executemany."""

    def __init__(self) -> None:
        self.players: list[tuple[Any, ...]] = []
        self.entries: list[tuple[Any, ...]] = []
        self.postings: list[tuple[Any, ...]] = []
        self.trades: list[tuple[Any, ...]] = []
        self.holdings: list[tuple[Any, ...]] = []
        self.cash: dict[int, tuple[int, int]] = {}  # existing player -> (cash delta, realized)

    def trade(self, entry_id: int, player: int, asset: Asset, side: str, quantity: int,
              price: int, tick: int, realized: int | None) -> int:  # fmt: skip
        """Entry, four postings and the trade row; returns the cash moved to the player."""
        total = value_ceil(quantity, price) if side == "buy" else value_floor(quantity, price)
        cash = -total if side == "buy" else total
        units = quantity if side == "buy" else -quantity
        at = tick_time(asset, tick)
        self.entries.append((entry_id, side, player, asset.id, at))
        self.postings += [(entry_id, player, None, cash), (entry_id, None, None, -cash),
                          (entry_id, player, asset.id, units), (entry_id, None, asset.id, -units)]  # fmt: skip
        fingerprint = hashlib.sha256(f"{side}|{asset.symbol}|{quantity}".encode()).hexdigest()
        self.trades.append((player, asset.id, side, quantity, price, total, realized, tick, at,
                            f"bench-{entry_id}", fingerprint, entry_id))  # fmt: skip
        return cash


def _reserve(session: Any, table: str, count: int) -> list[int]:
    if session.bind.dialect.name == "postgresql":
        rows = session.execute(
            text(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
                 "FROM generate_series(1, :n)"), {"n": count},
        )  # fmt: skip
        return [r[0] for r in rows]
    # SQLite: this transaction began IMMEDIATE, so nobody else inserts until it commits
    top = session.execute(text(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar_one()
    return list(range(top + 1, top + 1 + count))


COLUMNS = {
    "players": "id, username, username_key, username_skeleton, display_name, display_skeleton,"
    " created_at, cash, granted, realized_pnl",
    "journal_entries": "id, kind, player_id, asset_id, created_at",
    "postings": "entry_id, player_id, asset_id, amount",
    "trades": "player_id, asset_id, side, quantity, price, total, realized_pnl, tick, "
    "executed_at, idempotency_key, request_hash, entry_id",
    "holdings": "player_id, asset_id, quantity, cost_basis",
}


def _naive(value: Any, dialect: str = "postgresql") -> Any:
    """A UTC instant as the columns store it (SQLite: SQLAlchemy's text format)."""
    if not isinstance(value, datetime):
        return value
    naive = value.astimezone(UTC).replace(tzinfo=None)
    return naive if dialect == "postgresql" else naive.strftime("%Y-%m-%d %H:%M:%S.%f")


def _write(session: Any, table: str, rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    columns = COLUMNS[table]
    if session.bind.dialect.name == "postgresql":
        raw = session.connection().connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([_naive(v) for v in row])
        return
    names = [c.strip() for c in columns.split(",")]
    marks = ", ".join(f":{n}" for n in names)
    session.execute(
        text(f"INSERT INTO {table} ({columns}) VALUES ({marks})"),
        [dict(zip(names, (_naive(v, "sqlite") for v in row), strict=True)) for row in rows],
    )


def _flush(session: Any, rows: Rows) -> None:
    _write(session, "players", rows.players)
    _write(session, "journal_entries", rows.entries)
    _write(session, "postings", rows.postings)
    _write(session, "trades", rows.trades)
    _write(session, "holdings", rows.holdings)
    for player, (dc, realized) in rows.cash.items():
        session.execute(
            text("UPDATE players SET cash = cash + :dc, realized_pnl = realized_pnl + :r "
                 "WHERE id = :id"), {"dc": dc, "r": realized, "id": player},
        )  # fmt: skip


def bulk_players(game: Game, count: int, grant: int, tag: str) -> int:
    """``count`` players, each granted ``grant`` and holding a position in a live asset."""
    now = datetime.now(UTC)

    def work(session: Any) -> int:
        assets = list(session.scalars(select(Asset).where(Asset.status == LIVE)))
        # the ones with the most time left, so that the positions stay open while we measure
        assets.sort(key=lambda a: tick_time(a, a.end_tick), reverse=True)
        assets = [a for a in assets[:8] if tick_at(a, now) < a.end_tick - 60] or [
            a for a in assets[:8] if tick_at(a, now) < a.end_tick - 5
        ]
        if not assets:
            raise SystemExit("bench/reads: no live asset with time left")
        ids = _reserve(session, "players", count)
        entries = iter(_reserve(session, "journal_entries", 2 * count))
        rows = Rows()
        rng = random.Random(tag)
        for i, pid in enumerate(ids):
            asset = assets[i % len(assets)]
            tick = max(0, min(tick_at(asset, now), asset.end_tick - 1))
            price = game.path(asset).price(tick)
            quantity = rng.randint(1, 400) * QTY_SCALE // 4
            while quantity > 1 and value_ceil(quantity, price) > grant // 2:  # never past the cash
                quantity //= 2
            grant_entry = next(entries)
            rows.entries.append((grant_entry, "grant", pid, None, now))
            rows.postings += [(grant_entry, pid, None, grant), (grant_entry, None, None, -grant)]
            cash = rows.trade(next(entries), pid, asset, "buy", quantity, price, tick, None)
            name, shown = f"rb{tag}{i}", f"Bench {tag} {i}"
            rows.players.append((pid, name, name.lower(), skeleton(name), shown, skeleton(shown),
                                 now, grant + cash, grant, 0))  # fmt: skip
            rows.holdings.append((pid, asset.id, quantity, -cash))
        _flush(session, rows)
        return len(ids)

    return run_in_transaction(game.database, work)


def past_assets(game: Game, spans: Iterable[tuple[datetime, int]]) -> list[Asset]:
    """Assets born at given past instants with given lifetimes (s), settled with no holder."""

    def work(session: Any) -> list[Asset]:
        made = []
        for born, lifetime in spans:
            draw = Draw(drift=Decimal(0), volatility=Decimal("0.001"),
                        initial_price=100 * PRICE_SCALE, lifetime_s=Decimal(lifetime))  # fmt: skip
            asset = create_asset(session, game, born, draw=draw)
            end = asset.end_tick
            # settled in the same transaction: the engine never sees it live
            asset.status, asset.final_tick = SETTLED, end
            asset.final_price = game.path(asset).price(end)
            asset.settled_at = tick_time(asset, end)
            session.add(PriceTick(asset_id=asset.id, tick=end, price=asset.final_price))
            made.append(asset)
        session.flush()
        return made

    return run_in_transaction(game.database, work)


def round_trips(game: Game, player: int, plan: list[tuple[Asset, int]]) -> None:
    """A buy of one unit at each (asset, tick), sold a tick later: the player ends holding nothing."""

    def work(session: Any) -> None:
        entries = iter(_reserve(session, "journal_entries", 2 * len(plan)))
        rows = Rows()
        cash, realized, touched = 0, 0, set()
        for asset, tick in plan:
            price = game.path(asset).price(tick)
            paid = rows.trade(next(entries), player, asset, "buy", QTY_SCALE, price, tick, None)
            later = min(tick + 1, asset.end_tick - 1)  # held for a tick: open at some samples
            sold = game.path(asset).price(later)
            got = value_floor(QTY_SCALE, sold)
            r = got + paid  # proceeds - cost
            rows.trade(next(entries), player, asset, "sell", QTY_SCALE, sold, later, r)
            cash, realized = cash + paid + got, realized + r
            touched.add(asset.id)
        rows.holdings = [(player, aid, 0, 0) for aid in sorted(touched)]
        rows.cash[player] = (cash, realized)
        _flush(session, rows)

    run_in_transaction(game.database, work)


def history_player(game: Game, account: Account, trades: int, in_window: int) -> None:
    """``trades`` round-trip legs: ``in_window`` of them in the last hour, the rest before."""
    now = datetime.now(UTC)
    pairs_in, pairs_out = in_window // 2, (trades - in_window) // 2
    spans = [(now - timedelta(minutes=58), 50 * 60)]  # ends 8 minutes ago: fully in the window
    hours_before = 9 if pairs_out else 0
    for h in range(hours_before):  # 50-minute assets back to back, 10 hours ago to 1 hour ago
        spans.append((now - timedelta(hours=10) + timedelta(hours=h), 50 * 60))
    assets = past_assets(game, spans)
    plan: list[tuple[Asset, int]] = []
    inside, before = assets[0], assets[1:]
    plan += [(inside, k * (inside.end_tick - 1) // max(1, pairs_in)) for k in range(pairs_in)]
    per_asset = -(-pairs_out // max(1, len(before)))
    for k in range(pairs_out):
        asset = before[k % len(before)]
        plan.append((asset, (k // len(before)) * (asset.end_tick - 1) // per_asset))
    round_trips(game, account.player_id, plan)

    def backdate(session: Any) -> None:  # the account is older than its history
        dialect = session.bind.dialect.name
        session.execute(text("UPDATE players SET created_at = :t WHERE id = :id"),
                        {"t": _naive(now - timedelta(hours=11), dialect),
                         "id": account.player_id})  # fmt: skip

    run_in_transaction(game.database, backdate)


# -- measurements -------------------------------------------------------------------------------
def ensure_wrk() -> str | None:
    found = shutil.which("wrk")
    if found:
        return found
    say("bench/reads: installing wrk (Debian)")
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], capture_output=True, check=False)
    return shutil.which("wrk")


WRK_LUA = """
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do tokens[#tokens + 1] = line end
local n = 0
local bad = 0
request = function()
  n = n + 1
  local headers = {}
  if #tokens > 0 then headers["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1] end
  return wrk.format("GET", nil, headers)
end
response = function(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("bench-p50-us %d\\n", latency:percentile(50)))
  io.write(string.format("bench-p99-us %d\\n", latency:percentile(99)))
  io.write(string.format("bench-requests %d\\n", summary.requests))
  io.write(string.format("bench-non2xx %d\\n", summary.errors.status))
end
"""


def wrk_get(wrk: str, url: str, tokens: list[str], seconds: int, conns: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        script, token_file = Path(tmp) / "get.lua", Path(tmp) / "tokens"
        script.write_text(WRK_LUA)
        token_file.write_text("".join(f"{t}\n" for t in tokens))
        out = subprocess.run(
            [wrk, f"-t{min(2, conns)}", f"-c{conns}", f"-d{seconds}s", "--timeout", "5s", "-s",
             str(script), url],
            env=dict(os.environ, BENCH_TOKENS=str(token_file)), capture_output=True, text=True,
            check=True,
        )  # fmt: skip
    values = dict(re.findall(r"^bench-(\S+) (\d+)$", out.stdout, re.M))
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)
    return {
        "p50_ms": int(values["p50-us"]) / 1000,
        "p99_ms": int(values["p99-us"]) / 1000,
        "requests": int(values["requests"]),
        "non2xx": int(values["non2xx"]),
        "rps": float(rate.group(1)) if rate else 0.0,
    }


def python_get(url: str, headers: dict[str, str], seconds: float) -> dict[str, float]:
    """Fallback without wrk: one keep-alive connection, sequential."""
    http, samples, bad = requests.Session(), [], 0
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        t = time.perf_counter()
        r = http.get(url, headers=headers, timeout=10)
        samples.append((time.perf_counter() - t) * 1000)
        bad += r.status_code != 200
    return {"p50_ms": statistics.median(samples), "p99_ms": pct(samples, 0.99),
            "requests": len(samples), "non2xx": bad, "rps": len(samples) / seconds}  # fmt: skip


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def forward_replay(game: Game, player_id: int, points: int) -> list[ValuePoint]:
    """The algorithm performance history replaced: every trade ever, forwards from the grant."""

    def work(session: Any) -> list[ValuePoint]:
        now = game.clock.now()
        player = session.get(Player, player_id)
        start = max(player.created_at, now - timedelta(hours=1))
        events = []
        for t in session.scalars(select(Trade).where(Trade.player_id == player_id)):
            sign = -1 if t.side == "buy" else 1
            events.append((t.executed_at, sign * t.total, t.asset_id, -sign * t.quantity))
        for s in session.scalars(select(Settlement).where(Settlement.player_id == player_id)):
            events.append((s.settled_at, s.value, s.asset_id, -s.quantity))
        events.sort(key=lambda e: e[0])
        ids = {e[2] for e in events}
        assets = {a.id: a for a in session.scalars(select(Asset).where(Asset.id.in_(ids)))}
        span = now - start
        count = max(1, min(points, int(span.total_seconds()) + 1))
        instants = [start + span * n / max(1, count - 1) for n in range(count)]
        cash, units, i, out = player.granted, {}, 0, []
        for t in instants:
            while i < len(events) and events[i][0] <= t:
                _, dc, aid, du = events[i]
                cash += dc
                units[aid] = units.get(aid, 0) + du
                i += 1
            value = cash + sum(
                value_floor(q, game.price_at(assets[a], t)) for a, q in units.items() if q > 0
            )
            out.append(ValuePoint(t, value))
        return out

    return read(game.database, work)


class TickWatch:
    """The wall-clock gaps between ticks: ``prices`` messages on a socket, or, when the engine's
    messages cannot reach the web process (engine apart, no message queue), its beats."""

    def __init__(self, url: str, beats_of: Game | None = None) -> None:
        self.arrivals: list[float] = []
        self.client: socketio.Client | None = None
        self._stop = threading.Event()
        if beats_of is None:
            self.client = socketio.Client()
            self.client.on("prices", lambda _msg: self.arrivals.append(time.monotonic()))
            self.client.connect(url, transports=["websocket"])
        else:
            threading.Thread(target=self._poll, args=(beats_of,), daemon=True).start()

    def _poll(self, game: Game) -> None:
        last = None
        while not self._stop.is_set():
            beat = read(game.database, lambda s: s.scalar(select(EngineBeat.ticks)))
            if beat != last:
                self.arrivals.append(time.monotonic())
                last = beat
            time.sleep(0.02)

    def gaps(self, start: float, end: float) -> list[float]:
        """Gaps (ms) between messages in [start, end], counting the open ones at either edge."""
        before = [t for t in self.arrivals if t < start][-1:] or [start]
        inside = [t for t in self.arrivals if start <= t <= end]
        times = before + inside + [end]
        return [(b - a) * 1000 for a, b in itertools.pairwise(times)]

    def close(self) -> None:
        self._stop.set()
        if self.client is not None:
            self.client.disconnect()


def probe(url: str, watch: TickWatch, seconds: float, abusers: list[Account],
          path: str) -> dict[str, float]:  # fmt: skip
    """/healthz every 50 ms and tick gaps for ``seconds`` while the abusers loop on ``path``."""
    stop = threading.Event()
    counts = {"ok": 0, "limited": 0, "other": 0}
    others: Counter[int] = Counter()  # what "other" was, to say it
    lock = threading.Lock()

    def abuse(account: Account) -> None:
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {account.token}"
        while not stop.is_set():
            status = http.get(f"{url}{path}", timeout=30).status_code
            with lock:
                key = "ok" if status == 200 else "limited" if status == 429 else "other"
                counts[key] += 1
                if key == "other":
                    others[status] += 1

    threads = [threading.Thread(target=abuse, args=(a,), daemon=True) for a in abusers]
    for th in threads:
        th.start()
    started = time.monotonic()
    health, http = [], requests.Session()
    while time.monotonic() - started < seconds:
        t = time.perf_counter()
        http.get(f"{url}/healthz", timeout=30)
        health.append((time.perf_counter() - t) * 1000)
        time.sleep(0.05)
    ended = time.monotonic()
    stop.set()
    for th in threads:
        th.join(60)
    gaps = watch.gaps(started, ended)
    if others:
        say(f"bench/reads: the looping clients got {dict(others)} (status: count)")
    return {"health_p50": statistics.median(health), "health_p99": pct(health, 0.99),
            "gap_max": max(gaps), "gap_p99": pct(gaps, 0.99), **counts}  # fmt: skip


# -- the run -----------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server (bench/run.py's); else one is started")
    parser.add_argument("--database-url", help="the server's database (required with --url)")
    parser.add_argument("--smoke", action="store_true", help="seconds, correctness only")
    parser.add_argument("--players", type=int, help="players with open positions (100,000)")
    parser.add_argument("--seconds", type=int, help="per measurement (10; smoke 2)")
    parser.add_argument("--engine-apart", action="store_true",
                        help="without --url: run the engine as its own process (`flask engine`)")  # fmt: skip
    args = parser.parse_args()
    if args.url and not args.database_url:
        parser.error("--url needs --database-url: the benchmark writes its players there")
    players = args.players or (2_000 if args.smoke else 100_000)
    seconds = args.seconds or (2 if args.smoke else 10)
    histories = (300, 3_000) if args.smoke else (3_000, 30_000)
    tag = secrets.token_hex(2)
    server: list[subprocess.Popen[bytes]] = []
    tmp = None
    if args.url:
        url, database_url = args.url.rstrip("/"), args.database_url
    else:
        if args.database_url:
            database_url = args.database_url
        else:
            tmp = tempfile.mkdtemp(prefix="martingale-reads-")
            database_url = f"sqlite:///{tmp}/reads.db"
        url, server = start_server(database_url, "off", args.engine_apart)
    ok = True
    try:
        beats = local_game(database_url) if args.engine_apart else None
        ok, abusers = run(url, database_url, players, seconds, histories, tag, beats)
        if server and abusers:
            # the same, against the same books, with the GET budgets of rate_limits.py enforced
            stop(server)
            say("== the server again, rate limits on")
            url, server = start_server(database_url, "on", args.engine_apart)
            ok = stall(url, abusers * 2, seconds, "_limited", beats) and ok
        ok = books(database_url) and ok
    finally:
        stop(server)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


def run(url: str, database_url: str, players: int, seconds: int, histories: tuple[int, int],
        tag: str, beats: Game | None) -> tuple[bool, list[Account]]:  # fmt: skip
    game = local_game(database_url)
    backend = game.database.dialect.name
    say(f"bench/reads: {url}, {backend}; {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    ok = True

    # 1. accounts and data
    accounts = register(url, f"rr{tag}", 20)
    if len(accounts) < 3:
        say(f"bench/reads: only {len(accounts)} registrations allowed (rate limits?); need 3")
        return False, []
    grant = read(game.database, lambda s: s.get(Player, accounts[0].player_id).granted)
    t = time.perf_counter()
    made = bulk_players(game, players, grant, tag)
    say(f"  {made:,} players with open positions inserted in {time.perf_counter() - t:.1f} s")
    small, large = accounts[0], accounts[1]
    t = time.perf_counter()
    history_player(game, small, histories[0], in_window=histories[0])
    history_player(game, large, histories[1], in_window=histories[0])
    say(f"  history players: {histories[0]:,} trades (all in the last hour) and {histories[1]:,} "
        f"({histories[0]:,} in it), inserted in {time.perf_counter() - t:.1f} s")  # fmt: skip

    # 2. the engine's ranking pass over everyone
    total = read(game.database, lambda s: s.scalar(select(func.count()).select_from(Player)))
    passes: list[LeaderboardPass] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = read(game.database, lambda s: s.get(LeaderboardPass, 1))
        if (
            state is not None
            and state.players >= total
            and (not passes or state.tick_seq != passes[-1].tick_seq)
        ):
            passes.append(state)
            if len(passes) == 4:
                break
        time.sleep(0.1)
    if not passes:
        say("bench/reads: no ranking pass covered every player within 120 s")
        return False, []
    took = [p.took_us / 1000 for p in passes]
    apart = [b.tick_seq - a.tick_seq for a, b in itertools.pairwise(passes)] or [0]
    figure("leaderboard_pass_ms", f"{statistics.median(took):.0f}", f"ms, ranking statement over "
           f"{total:,} players, median of {len(took)} passes", "a tick is 1,000 ms")  # fmt: skip
    figure("leaderboard_pass_every", max(apart), "ticks between passes (the engine keeps ranking "
           "under 25% of its time)")  # fmt: skip

    # 3. GET /leaderboard
    top = requests.get(f"{url}{API}/leaderboard?limit=25", timeout=30).json()
    outside = accounts[2:]
    me = requests.get(f"{url}{API}/leaderboard?limit=25", timeout=30,
                      headers={"Authorization": f"Bearer {outside[0].token}"}).json()["me"]  # fmt: skip
    if len(top["leaderboard"]) != 25 or me is None:
        say(f"bench/reads: unexpected leaderboard: top {len(top['leaderboard'])}, me {me}")
        ok = False
    else:
        # a player with no trades holds 0%: when most prices fell since the bulk buys it ranks
        # high; the reply must carry its rank either way, which is what is measured
        where = "outside" if me["rank"] > 25 else "inside (most prices fell)"
        say(f"  leaderboard: {top['players']:,} ranked; a registered player is #{me['rank']:,} "
            f"({me['return_pct']}%), {where} the top 25")  # fmt: skip
    wrk = ensure_wrk()
    board_url = f"{url}{API}/leaderboard?limit=25"
    # one connection: what a request costs; 16 keep-alive connections in a closed loop: saturation
    runs = [(label, tokens, conns) for conns in (1, 16)
            for label, tokens in (("anonymous", []), ("with_me", [a.token for a in outside]))]  # fmt: skip
    for label, tokens, conns in runs:
        if wrk:
            got = wrk_get(wrk, board_url, tokens, seconds, conns)
            how = f"wrk -c{conns}"
        else:
            headers = {"Authorization": f"Bearer {tokens[0]}"} if tokens else {}
            got = python_get(board_url, headers, seconds)
            how = "python, 1 connection (wrk not installed)"
        if got["non2xx"]:
            say(f"bench/reads: {got['non2xx']} replies were not 200 ({label})")
            ok = False
        name = f"leaderboard_{label}_c{conns}"
        figure(f"{name}_p50", f"{got['p50_ms']:.1f}", "ms")
        figure(f"{name}_p99", f"{got['p99_ms']:.1f}", f"ms, {how}, {got['rps']:.0f} req/s, "
               f"{total:,} players", "target <= 20 ms")  # fmt: skip
        if not wrk:
            break

    # 4. performance history
    path = f"{API}/performance/history?points=600"
    for account, count in ((small, histories[0]), (large, histories[1])):
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {account.token}"
        samples = []
        for _ in range(30 if count < 10_000 else 20):
            t0 = time.perf_counter()
            r = http.get(f"{url}{path}", timeout=60)
            samples.append((time.perf_counter() - t0) * 1000)
            if r.status_code == 429:
                time.sleep(float(r.headers.get("Retry-After", "1")))
                samples.pop()
                continue
            r.raise_for_status()
        assert isinstance(game.clock, ManualClock)
        game.clock.set(datetime.now(UTC))
        new = timed(lambda a=account: reports.performance_history(game, a.player_id, 600), 5)
        old = timed(lambda a=account: forward_replay(game, a.player_id, 600), 3)
        same = reports.performance_history(game, account.player_id, 120) == forward_replay(
            game, account.player_id, 120
        )
        if not same:
            say(f"bench/reads: performance history differs from the forward replay ({count})")
            ok = False
        figure(f"performance_history_{count}_trades_p50", f"{statistics.median(samples):.1f}",
               "ms over HTTP, 600 points")  # fmt: skip
        figure(f"performance_history_{count}_trades_p99", f"{pct(samples, 0.99):.1f}",
               "ms over HTTP, 600 points")  # fmt: skip
        figure(f"performance_history_{count}_trades_service", f"{statistics.median(new):.1f}",
               "ms in-process", f"forward replay of every trade: {statistics.median(old):.1f} ms")  # fmt: skip

    # 5. four clients looping on the heaviest GET
    if not stall(url, [small, large, small, large], seconds, "", beats):
        ok = False
    return ok, [small, large]


def stall(url: str, abusers: list[Account], seconds: int, label: str,
          beats_of: Game | None = None) -> bool:  # fmt: skip
    """/healthz and the tick, idle and while 4 clients loop on the heaviest GET."""
    path = f"{API}/performance/history?points=600"
    watch = TickWatch(url, beats_of)
    try:
        time.sleep(1.5)
        idle = probe(url, watch, seconds, [], path)
        # the heaviest GET: 600 points over 3,000 trades in the window (the 4 loops share 2 keys)
        loaded = probe(url, watch, seconds, abusers, path)
    finally:
        watch.close()
    figure(f"healthz_idle{label}_p50", f"{idle['health_p50']:.1f}", "ms")
    figure(f"healthz_4_looping{label}_p50", f"{loaded['health_p50']:.1f}", "ms, 4 clients "
           f"looping on {path}", "before issue 8: 494 ms")  # fmt: skip
    figure(f"healthz_4_looping{label}_p99", f"{loaded['health_p99']:.1f}", "ms")
    what = "engine beats" if beats_of else "prices messages"
    figure(f"tick_gap_idle{label}_max", f"{idle['gap_max']:.0f}", f"ms between {what}")
    figure(f"tick_gap_4_looping{label}_max", f"{loaded['gap_max']:.0f}", f"ms between {what}",
           "before issue 8: 1,600 ms; a tick is 1,000 ms")  # fmt: skip
    say(f"  the 4 looping clients{label}: {loaded['ok']} answered, {loaded['limited']} refused "
        f"429, {loaded['other']} other")  # fmt: skip
    return not loaded["other"]


def books(database_url: str) -> bool:
    say("== reconcile")
    return reconcile(database_url, say)


if __name__ == "__main__":
    sys.exit(main())
