"""REST and Socket.IO trades against a running server, each confirmed trade then found in the books.

    python bench/trades.py --url http://127.0.0.1:5000 [--database-url URL] [--smoke]
    python bench/trades.py --start postgresql|sqlite [--workers N] [--rate-limits on|off]

The server runs with its rate limits on, as production does: every trade spends its player's budget
(rate_limits.TRADES, 50/s and 2,000/min per player), and the load is spread over enough players
that no honest run reaches it (a 429 is counted and printed, never retried).

1. Creates the players. With --database-url and the server's SECRET_KEY in the environment, directly
   in the books through the app's own service (auth.register: the player, the grant, a login session
   and its signed access token), so the 10-a-minute registration budget per address is not in the
   way; otherwise over the API (the server then needs RATELIMIT_ENABLED=false). Each player gets a
   stock of units of a long-lived asset by one REST buy.
2. wrk (C; installed with apt-get when missing) drives REST buys and sells, one fresh
   Idempotency-Key each, at --connections connections for --duration seconds (bench/trades.lua):
   confirmed trades (201) per second, p50, p99 and the slowest request.
3. One player's sequential trades (wrk, one connection), paced at 40 a second (the player's
   budget is 50): p50 and p99 of each request.
4. Socket.IO closed loop (--socket-players lanes, each taking its turn through --lane-players
   players' sockets, trade by acknowledgement, on a lean websocket client whose CPU time is printed)
   beside REST closed loop at the same concurrency over the same players (wrk).
5. References in the same run, unless --no-references: the server's /healthz through wrk, and
   pgbench TPC-B (8 clients) on a scratch PostgreSQL database when PostgreSQL is reachable.
6. Checks: every 201 and every acknowledged socket trade names a distinct trade; with
   --database-url, the bench players' trades in the books are exactly the confirmed ones (each
   once) and `reconcile` passes; without it, each player's trade list over the API is compared.
   Any failure exits 1.

Figures print as ``figure: <name> = <value> (<unit>) [reference: ...]``. --start creates the
database (PostgreSQL: martingale_bench_t, dropped first; SQLite: a temporary file), migrates it
and runs gunicorn with gunicorn.conf.py, rate limits on unless --rate-limits off; on PostgreSQL the
engine runs as its own process (`flask engine`, as the Procfile's engine line), on SQLite inside
the one web worker (as `make run`). The server's CPU per trade (user, system) is printed from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).resolve().parent / "trades.lua"
PG_ADMIN = os.environ.get(
    "MARTINGALE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
PASSWORD = "Tulip-Harbor-93"
QUANTITY = "0.5"  # per order; each player first buys STOCK of them
STOCK = "20"
SEQUENTIAL_GAP_MS = 25  # one player's sequential trades: 40 a second, inside its 50/s budget


def figure(name: str, value: object, unit: str, reference: str = "") -> None:
    print(f"figure: {name} = {value} ({unit})" + (f" [reference: {reference}]" if reference else ""),
          flush=True)  # fmt: skip


def note(text: str) -> None:
    print(f"# {text}", flush=True)


# -- tools ------------------------------------------------------------------------------------
def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    note("installing wrk (apt-get install -y wrk)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if subprocess.run(
        ["apt-get", "install", "-y", "-qq", "wrk"], env=env, capture_output=True
    ).returncode:
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, capture_output=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"], env=env, check=True, capture_output=True
        )
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed and could not be installed")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f}/{five:.2f} on {os.cpu_count()} cores"


# -- a server of our own (--start) -------------------------------------------------------------
class Server:
    """The Procfile's processes: web (gunicorn) and, on PostgreSQL, the engine as its own process
    (on SQLite, `make run`'s one process: the engine runs inside the web worker)."""

    def __init__(self, backend: str, workers: int, rate_limits: bool) -> None:
        self.backend, self.workers, self.rate_limits = backend, workers, rate_limits
        self.secret_key = secrets.token_urlsafe(32)
        self.tmp = tempfile.TemporaryDirectory()
        self.proc: subprocess.Popen[bytes] | None = None
        self.engine: subprocess.Popen[bytes] | None = None
        if backend == "postgresql":
            import psycopg

            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute('DROP DATABASE IF EXISTS "martingale_bench_t" WITH (FORCE)')
                conn.execute('CREATE DATABASE "martingale_bench_t"')
            self.database_url = PG_ADMIN.rsplit("/", 1)[0] + "/martingale_bench_t"
        else:
            self.database_url = f"sqlite:///{Path(self.tmp.name) / 'bench.db'}"
        self.url = f"http://127.0.0.1:{free_port()}"

    def start(self) -> None:
        port = urlsplit(self.url).port
        inside = self.backend == "sqlite"
        env = dict(os.environ, DATABASE_URL=self.database_url, PORT=str(port), HOST="127.0.0.1",
                   RATELIMIT_ENABLED="true" if self.rate_limits else "false",
                   SECRET_KEY=self.secret_key, MARTINGALE_PASSWORD_HASH="scrypt:1024:8:1",
                   MARTINGALE_ENGINE="on" if inside else "off",
                   WEB_CONCURRENCY=str(self.workers))  # fmt: skip
        env.pop("MARTINGALE_ASYNC_MODE", None)
        bin_dir = Path(sys.executable).parent
        subprocess.run([bin_dir / "flask", "--app", "martingale", "db", "upgrade"], env=env,
                       check=True, capture_output=True, cwd=ROOT)  # fmt: skip
        self.log = open(Path(self.tmp.name) / "server.log", "wb")  # noqa: SIM115
        if not inside:
            self.engine = subprocess.Popen(
                [bin_dir / "flask", "--app", "martingale", "engine"], env=env, cwd=ROOT,
                stdout=self.log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.proc = subprocess.Popen(
            [bin_dir / "gunicorn", "--config", os.environ.get("TRADES_GUNICORN_CONF", "gunicorn.conf.py"),
             "--workers", str(self.workers),
             "--access-logfile", "/dev/null", "martingale:create_app()"],
            env=env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        for _ in range(300):
            try:
                if requests.get(f"{self.url}/readyz", timeout=5).status_code == 200:
                    where = "inside the web worker" if inside else "in its own process"
                    limits = "on" if self.rate_limits else "OFF"
                    note(f"server: gunicorn pid {self.proc.pid}, {self.workers} worker(s), "
                         f"the engine {where}, rate limits {limits}")  # fmt: skip
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit("the server did not become ready")

    def cpu_seconds(self) -> tuple[float, float]:
        """CPU time (user, system) of the server's processes so far."""
        if self.proc is None:
            return 0.0, 0.0
        pids = [self.proc.pid, *(int(p) for p in _children(self.proc.pid))]
        user = system = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            user, system = user + int(fields[11]), system + int(fields[12])
        tick = os.sysconf("SC_CLK_TCK")
        return user / tick, system / tick

    def stop(self) -> None:
        for proc in (self.proc, self.engine):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        self.tmp.cleanup()


def _children(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


# -- players -----------------------------------------------------------------------------------
@dataclass
class Player:
    id: int
    token: str
    symbol: str = ""


@dataclass
class Books:
    """Every trade the bench was told is confirmed: id -> its player (None: wrk cannot tell)."""

    confirmed: dict[int, int | None] = field(default_factory=dict)
    duplicates: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, trade_id: int, player_id: int | None) -> None:
        with self.lock:
            if trade_id in self.confirmed:
                self.duplicates.append(trade_id)
            self.confirmed[trade_id] = player_id

    def add_run(self, run: WrkRun) -> int:
        """Book a wrk run's confirmed trades; return how many replies may be lost: its errors,
        and the requests still in flight on each connection when wrk stopped."""
        for trade_id in run.ids:
            self.add(trade_id, None)
        return sum(run.errors.values()) + run.connections


def register(url: str, n: int, tag: str) -> list[Player]:
    """Players over the API: the server must run with RATELIMIT_ENABLED=false (one address)."""

    def one(i: int) -> Player:
        reply = requests.post(f"{url}/api/v1/auth/register", timeout=60,
                              json={"username": f"{tag}{i}", "password": PASSWORD})  # fmt: skip
        if reply.status_code != 201:
            raise SystemExit(f"register: {reply.status_code} {reply.text[:200]} (rate limits off?)")
        body = reply.json()
        return Player(body["user"]["id"], body["access_token"])

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(n)))


def create_in_books(database_url: str, secret_key: str, n: int, tag: str) -> list[Player]:
    """Players written straight into the books by the app's own registration service (player,
    grant entry, login session) with an access token signed by the server's key: the server's
    per-address registration budget stays on, and trades are then made over HTTP as any client's."""
    sys.path.insert(0, str(ROOT))
    from martingale import auth, create_app
    from martingale.config import load_config
    from martingale.game import game_of

    config = load_config({"DATABASE_URL": database_url, "SECRET_KEY": secret_key,
                          "MARTINGALE_ENGINE": "off",
                          "MARTINGALE_PASSWORD_HASH": "scrypt:1024:8:1"})  # fmt: skip
    game = game_of(create_app(config))
    try:
        players = []
        for i in range(n):
            login = auth.register(game, f"{tag}{i}", PASSWORD, auth.API)
            assert login.access_token is not None
            players.append(Player(login.principal.player_id, login.access_token))
        return players
    finally:
        game.database.dispose()


def pick_symbols(url: str, seconds: float, count: int) -> list[str]:
    """The live assets with the most time left, each with at least ``seconds`` of it."""
    deadline = time.time() + 120
    while True:
        assets = requests.get(f"{url}/api/v1/assets", timeout=30).json()["assets"]
        good = sorted((a for a in assets if a["seconds_to_expiry"] > seconds),
                      key=lambda a: -a["seconds_to_expiry"])  # fmt: skip
        if good:
            return [a["symbol"] for a in good[:count]]
        if time.time() > deadline:
            raise SystemExit(f"no live asset has {seconds:.0f} s left")
        time.sleep(2)


def post_trade(
    http: requests.Session, url: str, p: Player, side: str, qty: str
) -> requests.Response:
    return http.post(f"{url}/api/v1/trades", timeout=60,
                     json={"symbol": p.symbol, "side": side, "quantity": qty},
                     headers={"Authorization": f"Bearer {p.token}",
                              "Idempotency-Key": secrets.token_hex(12)})  # fmt: skip


def give_stock(url: str, players: list[Player], books: Books) -> str:
    """Each player's stock of units, by one buy; answers what the replies say of rate limits."""
    limited: list[str] = []

    def one(p: Player) -> None:
        reply = post_trade(requests.Session(), url, p, "buy", STOCK)
        if reply.status_code != 201:
            raise SystemExit(f"stock buy: {reply.status_code} {reply.text[:200]}")
        books.add(reply.json()["trade"]["id"], p.id)
        if "X-RateLimit-Limit" in reply.headers:
            limited.append(reply.headers["X-RateLimit-Limit"])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, players))
    if limited:
        return f"rate limits on (trade replies carry X-RateLimit-Limit: {limited[0]})"
    return "rate limits OFF (trade replies carry no X-RateLimit-* header)"


# -- wrk ---------------------------------------------------------------------------------------
@dataclass
class WrkRun:
    seconds: float
    requests: int
    statuses: Counter[int]
    ids: list[int]
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: dict[str, int]
    connections: int = 0

    @property
    def confirmed_per_s(self) -> float:
        return self.statuses[201] / self.seconds


def wrk(url: str, players: list[Player], connections: int, seconds: float, *, lua: bool = True,
        path: str = "/api/v1/trades", gap_ms: int = 0) -> WrkRun:  # fmt: skip
    """``gap_ms``: each connection waits this long before each request (not timed)."""
    threads = max(1, min(2, connections))
    with tempfile.TemporaryDirectory() as tmp:
        roster, out = Path(tmp) / "players.txt", Path(tmp) / "out.txt"
        roster.write_text("".join(f"{p.token} {p.symbol} {QUANTITY}\n" for p in players))
        env = dict(os.environ, TRADES_OUT=str(out), TRADES_RUN=secrets.token_hex(6),
                   TRADES_DELAY_MS=str(gap_ms))  # fmt: skip
        command = [
            ensure_wrk(),
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds:.0f}s",
            "--timeout",
            "5s",
        ]
        if lua:
            command += ["-s", str(LUA), url, "--", str(roster), str(threads)]
        else:
            command += ["--latency", url + path]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"wrk failed: {done.stdout[-500:]} {done.stderr[-1000:]}")
        if not lua:
            return _parse_plain(done.stdout)
        return replace(_parse_lua(out.read_text()), connections=connections)


def _parse_lua(text: str) -> WrkRun:
    statuses: Counter[int] = Counter()
    ids: list[int] = []
    fields: dict[str, list[str]] = {}
    for line in text.splitlines():
        kind, *rest = line.split()
        if kind == "status":
            statuses[int(rest[0])] += int(rest[1])
        elif kind == "id":
            ids.append(int(rest[0]) if rest[0].isdigit() else -1)
        else:
            fields[kind] = rest
    p50, p99, top, _ = (int(v) / 1000 for v in fields["latency_us"])
    names = ("connect", "read", "write", "status", "timeout")
    return WrkRun(int(fields["duration_us"][0]) / 1e6, int(fields["requests"][0]), statuses, ids,
                  p50, p99, top, dict(zip(names, map(int, fields["errors"]), strict=True)))  # fmt: skip


def _parse_plain(stdout: str) -> WrkRun:
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", stdout).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", stdout).group(1))  # type: ignore[union-attr]

    def ms(label: str) -> float:
        m = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", stdout)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    return WrkRun(total / rate, total, Counter({200: total}), [], ms("50%"), ms("99%"), ms("Latency.*?"),
                  {})  # fmt: skip


# -- Socket.IO: a lean websocket client (Engine.IO 4, Socket.IO 5), so the client stays cheap --
class SocketClient:
    def __init__(self, player: Player) -> None:
        self.player = player
        self.sent, self.prefix = 0, secrets.token_hex(6)

    async def connect(self, url: str) -> None:
        parts = urlsplit(url)
        self.reader, self.writer = await asyncio.open_connection(parts.hostname, parts.port)
        key = base64.b64encode(os.urandom(16)).decode()
        self.writer.write(
            (f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {parts.netloc}\r\n"
             f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
             "Sec-WebSocket-Version: 13\r\n\r\n").encode()
        )  # fmt: skip
        head = await self.reader.readuntil(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise SystemExit(f"websocket upgrade refused: {head[:200]!r}")
        opened = await self.recv()
        if not opened.startswith("0"):
            raise SystemExit(f"unexpected Engine.IO open: {opened[:200]}")
        self.send("40" + json.dumps({"token": self.player.token}))
        while True:
            message = await self.recv()
            if message.startswith("40"):
                return
            if message.startswith("44"):
                raise SystemExit(f"socket refused: {message[:200]}")

    def send(self, text: str) -> None:
        data = text.encode()
        n = len(data)
        if n < 126:
            header = bytes((0x81, 0x80 | n))
        elif n < 65536:
            header = bytes((0x81, 0x80 | 126)) + n.to_bytes(2, "big")
        else:
            header = bytes((0x81, 0x80 | 127)) + n.to_bytes(8, "big")
        self.writer.write(header + b"\0\0\0\0" + data)  # a zero mask leaves the payload as it is

    async def recv(self) -> str:
        """The next text message; answers Engine.IO pings and websocket pings on the way."""
        read = self.reader.readexactly
        while True:
            b0, b1 = await read(2)
            n = b1 & 0x7F
            if n == 126:
                n = int.from_bytes(await read(2), "big")
            elif n == 127:
                n = int.from_bytes(await read(8), "big")
            payload = await read(n)
            opcode = b0 & 0x0F
            if opcode == 1:
                if payload == b"2":
                    self.send("3")
                    continue
                return payload.decode()
            if opcode == 9:
                self.writer.write(bytes((0x8A, 0x80 | len(payload))) + b"\0\0\0\0" + payload)
            elif opcode == 8:
                raise ConnectionError("the server closed the websocket")

    async def drain(self, stop: asyncio.Event) -> int:
        count = 0
        while not stop.is_set():
            try:
                await asyncio.wait_for(self.recv(), 0.5)
                count += 1
            except TimeoutError:
                pass
        return count

    async def trade(self, books: Books, lat: list[float], refused: Counter[str]) -> None:
        """One trade by acknowledgement: the next order of this player, alternately buy and sell."""
        self.sent += 1
        n, p = self.sent, self.player
        side = "buy" if n % 2 else "sell"
        started = time.perf_counter()
        self.send(f'42{n}["trade",{{"symbol":"{p.symbol}","side":"{side}",'
                  f'"quantity":"{QUANTITY}","idempotency_key":"{self.prefix}-{n}"}}]')  # fmt: skip
        ack = f"43{n}["
        while True:
            message = await self.recv()
            if message.startswith(ack):
                break
        lat.append(time.perf_counter() - started)
        body = json.loads(message[len(ack) - 1 :])[0]
        if "trade" in body and not body["replayed"]:
            books.add(body["trade"]["id"], p.id)
        else:
            refused[body.get("error", {}).get("code", "replayed")] += 1

    async def close(self) -> None:
        self.writer.close()


def socket_closed_loop(
    url: str, players: list[Player], lanes: int, seconds: float, books: Books
) -> dict[str, float]:
    """``lanes`` trades in flight at any time; each lane takes its players' sockets in turn, so a
    player's own rate stays a fraction of its budget."""

    async def lane(
        clients: list[SocketClient], deadline: float, lat: list[float], refused: Counter[str]
    ) -> None:
        turn = 0
        while time.perf_counter() < deadline:
            await clients[turn % len(clients)].trade(books, lat, refused)
            turn += 1

    async def run() -> dict[str, float]:
        clients = [SocketClient(p) for p in players]
        await asyncio.gather(*(c.connect(url) for c in clients))
        lat: list[float] = []
        refused: Counter[str] = Counter()
        cpu, started = time.process_time(), time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            *(lane(clients[k::lanes], deadline, lat, refused) for k in range(lanes))
        )
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        for c in clients:
            await c.close()
        lat.sort()
        ok = len(lat) - sum(refused.values())
        return {"rate": ok / wall, "p50": lat[len(lat) // 2] * 1000,
                "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000,
                "client_cpu": cpu / wall, "refused": sum(refused.values()),
                "why": ", ".join(f"{k} {v}" for k, v in refused.most_common())}  # fmt: skip

    return asyncio.run(run())


class Listeners:
    """Sockets that only listen (tape and pushes) while REST trades run, for a like-for-like figure."""

    def __init__(self, url: str, players: list[Player]) -> None:
        self.url, self.players = url, players
        self.ready, self.thread = threading.Event(), threading.Thread(target=self._run, daemon=True)
        self.received = 0

    def __enter__(self) -> Listeners:
        self.thread.start()
        self.ready.wait(60)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(30)

    def _run(self) -> None:
        async def main() -> None:
            self.loop, self.stop = asyncio.get_running_loop(), asyncio.Event()
            clients = [SocketClient(p) for p in self.players]
            await asyncio.gather(*(c.connect(self.url) for c in clients))
            self.ready.set()
            self.received = sum(await asyncio.gather(*(c.drain(self.stop) for c in clients)))
            for c in clients:
                await c.close()

        asyncio.run(main())


# -- the references ------------------------------------------------------------------------------
def pgbench_tpcb(seconds: float) -> float | None:
    if not shutil.which("pgbench"):
        return None
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            conn.execute('DROP DATABASE IF EXISTS "martingale_bench_pgbench" WITH (FORCE)')
            conn.execute('CREATE DATABASE "martingale_bench_pgbench"')
    except Exception:
        return None
    target = PG_ADMIN.rsplit("/", 1)[0] + "/martingale_bench_pgbench"
    try:
        subprocess.run(["pgbench", "-i", "-q", "-s", "8", target], check=True, capture_output=True)
        done = subprocess.run(["pgbench", "-c", "8", "-j", "2", "-T", f"{seconds:.0f}", target],
                              check=True, capture_output=True, text=True)  # fmt: skip
        found = re.search(r"tps = ([\d.]+)", done.stdout)
        return float(found.group(1)) if found else None
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute('DROP DATABASE IF EXISTS "martingale_bench_pgbench" WITH (FORCE)')


# -- the books -------------------------------------------------------------------------------------
def check_books(url: str, database_url: str | None, players: list[Player], books: Books,
                lost: int) -> bool:  # fmt: skip
    """Every confirmed trade is in the books once; nothing else of these players is; reconcile."""
    ok = True
    if books.duplicates:
        note(
            f"FAIL: {len(books.duplicates)} trade ids were confirmed twice: {books.duplicates[:5]}"
        )
        ok = False
    if -1 in books.confirmed:
        note("FAIL: a 201 reply did not name its trade")
        ok = False
    ids = {p.id for p in players}
    if database_url:
        from sqlalchemy import create_engine, select

        from martingale.config import normalize_database_url
        from martingale.models import Trade
        from martingale.reconcile import format_report, reconcile
        from martingale.transaction_utils import configure_engine

        engine = create_engine(normalize_database_url(database_url))
        configure_engine(engine)
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    select(Trade.id, Trade.player_id).where(Trade.player_id.in_(ids))
                ).all()
            checks = reconcile(engine)
        finally:
            engine.dispose()
        booked = {trade_id: player_id for trade_id, player_id in rows}
        report = format_report(checks)
        reconciled = all(c.ok for c in checks)
        figure("reconcile", f"{sum(c.ok for c in checks)}/{len(checks)}", "checks passing")
        if not reconciled:
            note("FAIL: reconcile\n" + report)
            ok = False
    else:
        booked = {}
        for p in players:
            before = None
            while True:
                query = {"limit": 500} | ({"before": before} if before else {})
                page = requests.get(f"{url}/api/v1/trades", params=query, timeout=60,
                                    headers={"Authorization": f"Bearer {p.token}"}).json()["trades"]  # fmt: skip
                booked.update({t["id"]: p.id for t in page})
                if len(page) < 500:
                    break
                before = page[-1]["id"]
        note("no --database-url: the books were compared over the API; reconcile not run")
    missing = [
        i for i, who in books.confirmed.items() if i not in booked or who not in (None, booked[i])
    ]
    unconfirmed = set(booked) - set(books.confirmed)
    figure("confirmed_trades", len(books.confirmed), "trades", f"in the books: {len(booked)}")
    if missing:
        note(
            f"FAIL: {len(missing)} confirmed trades are not in the books as confirmed: {missing[:5]}"
        )
        ok = False
    if len(unconfirmed) > lost:
        note(f"FAIL: {len(unconfirmed)} booked trades were never confirmed ({lost} replies lost)")
        ok = False
    return ok


# -- main -----------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url")
    parser.add_argument("--database-url")
    parser.add_argument("--start", choices=["postgresql", "sqlite"])
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "1")))
    parser.add_argument("--smoke", action="store_true", help="a few seconds each, correctness only")
    parser.add_argument("--duration", type=float, default=15)
    parser.add_argument("--players", type=int, default=64)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--socket-players",
        type=int,
        default=8,
        help="closed loops: trades in flight (Socket.IO lanes, wrk connections)",
    )
    parser.add_argument(
        "--lane-players",
        type=int,
        default=8,
        help="closed loops: players each lane takes in turn (keeps each player "
        "well inside its 50/s budget)",
    )
    parser.add_argument(
        "--rate-limits",
        choices=["on", "off"],
        default="on",
        help="--start: the server's rate limits (on, as in production)",
    )
    parser.add_argument("--no-references", action="store_true")
    parser.add_argument("--only", choices=["rest"], help="only the 64-connection REST run")
    args = parser.parse_args()
    if args.smoke:
        args.duration = 3
    if not args.url and not args.start:
        parser.error("give --url (a running server) or --start postgresql|sqlite")
    server = Server(args.start, args.workers, args.rate_limits == "on") if args.start else None
    try:
        if server:
            server.start()
            args.url, args.database_url = server.url, server.database_url
        return run(args, server)
    finally:
        if server:
            server.stop()


def run(args: argparse.Namespace, server: Server | None) -> int:
    url, seconds = args.url.rstrip("/"), args.duration
    ensure_wrk()
    backend = (args.database_url or "unknown").split(":")[0]
    note(f"{url} database={backend} workers={args.workers if args.start else '?'} {load()}")
    books = Books()
    tag = f"b{secrets.token_hex(3)}_"
    symbols = pick_symbols(url, seconds * 6 + 60, 4)
    count = args.players + 1 + args.socket_players * args.lane_players
    secret = server.secret_key if server else os.environ.get("SECRET_KEY")
    if args.database_url and secret:
        players = create_in_books(args.database_url, secret, count, tag)
        note(f"{count} players created in the books (auth.register), trading over HTTP")
    else:
        players = register(url, count, tag)
        note(f"{count} players registered over the API (no --database-url or SECRET_KEY: the "
             "server must run with rate limits off)")  # fmt: skip
    for i, p in enumerate(players):
        p.symbol = symbols[i % len(symbols)]
    crowd, solo, pack = players[: args.players], players[args.players], players[args.players + 1 :]
    lanes = args.socket_players
    limits = give_stock(url, players, books)
    note(limits)
    lost = 0

    cpu = server.cpu_seconds() if server else (0.0, 0.0)
    main_run = wrk(url, crowd, args.connections, seconds)
    lost += books.add_run(main_run)
    if server and main_run.statuses[201]:
        user, system = (b - a for a, b in zip(cpu, server.cpu_seconds(), strict=True))
        n = main_run.statuses[201]
        figure("server_cpu_per_trade", f"{(user + system) / n * 1e6:.0f}", "us",
               f"web processes, main run: user {user / n * 1e6:.0f}, system {system / n * 1e6:.0f}")  # fmt: skip
    others = {k: v for k, v in main_run.statuses.items() if k != 201}
    figure(f"rest_trades_{args.connections}", f"{main_run.confirmed_per_s:.0f}", "confirmed trades/s",
           f"{main_run.statuses[201]} in {main_run.seconds:.1f} s, {args.players} players; other "
           f"replies {dict(others)}; {limits.split(' (')[0]}; {load()}")  # fmt: skip
    figure(f"rest_p50_{args.connections}", f"{main_run.p50_ms:.1f}", "ms")
    figure(f"rest_p99_{args.connections}", f"{main_run.p99_ms:.1f}", "ms")
    figure(f"rest_max_{args.connections}", f"{main_run.max_ms:.1f}", "ms",
           "no request may wait past 1 s while others are answered")  # fmt: skip
    if args.only != "rest":
        seq = wrk(url, [solo], 1, min(seconds, 10), gap_ms=SEQUENTIAL_GAP_MS)
        lost += books.add_run(seq)
        others = {k: v for k, v in seq.statuses.items() if k != 201}
        figure(
            "rest_sequential_p50",
            f"{seq.p50_ms:.2f}",
            "ms",
            f"{seq.statuses[201]} trades, one player, one every {SEQUENTIAL_GAP_MS} ms; "
            f"other replies {dict(others)}",
        )
        figure("rest_sequential_p99", f"{seq.p99_ms:.2f}", "ms")

        sock = socket_closed_loop(url, pack, lanes, seconds, books)
        rest = wrk(url, pack, lanes, seconds)
        lost += books.add_run(rest)
        n, who = lanes, f"{lanes} in flight over {len(pack)} players"
        refused = f", refused: {sock['why']}" if sock["refused"] else ""
        figure(f"socketio_trades_{n}", f"{sock['rate']:.0f}", "acknowledged trades/s",
               f"closed loop, {who}, p50 {sock['p50']:.1f} ms, p99 {sock['p99']:.1f} ms, "
               f"client CPU {sock['client_cpu'] * 100:.0f}% of a core, {sock['refused']:.0f} refused"
               f"{refused}")  # fmt: skip
        others = {k: v for k, v in rest.statuses.items() if k != 201}
        figure(f"rest_trades_{n}", f"{rest.confirmed_per_s:.0f}", "confirmed trades/s",
               f"closed loop (wrk), {who}, p50 {rest.p50_ms:.1f} ms, p99 {rest.p99_ms:.1f} ms; "
               f"other replies {dict(others)}")  # fmt: skip
        with Listeners(url, pack):
            heard = wrk(url, pack, lanes, seconds)
        lost += books.add_run(heard)
        figure(f"rest_trades_{n}_listening", f"{heard.confirmed_per_s:.0f}", "confirmed trades/s",
               f"the same while the {len(pack)} players' sockets listen (tape and portfolio pushes)")  # fmt: skip
        figure("socketio_vs_rest", f"{sock['rate'] / max(1.0, rest.confirmed_per_s) * 100:.0f}",
               "% of REST", f"{sock['rate'] / max(1.0, heard.confirmed_per_s) * 100:.0f}% of REST "
               "with the same sockets listening")  # fmt: skip

    if not args.no_references and not args.smoke:
        cpu = server.cpu_seconds() if server else (0.0, 0.0)
        hello = wrk(url, [], args.connections, seconds, lua=False, path="/healthz")
        spent = ""
        if server:
            user, system = (b - a for a, b in zip(cpu, server.cpu_seconds(), strict=True))
            spent = f"; web processes' CPU {(user + system) / hello.requests * 1e6:.0f} us each"
        figure("reference_healthz", f"{hello.requests / hello.seconds:.0f}", "requests/s",
               f"this server's /healthz, {args.connections} connections, same run{spent}")  # fmt: skip
        tps = pgbench_tpcb(seconds)
        if tps is not None:
            figure("reference_pgbench_tpcb", f"{tps:.0f}", "tps", "8 clients, scale 8, same run")
            figure("rest_vs_tpcb", f"{main_run.confirmed_per_s / tps * 100:.0f}", "% of TPC-B")

    ok = check_books(url, args.database_url, players, books, lost)
    note(("PASS" if ok else "FAIL") + f": {load()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
