"""Scale-out with real processes: the Procfile's engine and web lines, PostgreSQL, a private Redis.

Two web servers (or one with two workers) share nothing but the database and Redis. Each test
proves one promise across processes: ticks from the separate engine reach sockets on every worker;
a player's private pushes reach their socket wherever it is held; a logout handled by one server
drops the session's socket held by another, promptly; rate limits count on both servers at once.
"""

from __future__ import annotations

import base64
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import requests
import socketio

from martingale import create_app
from martingale.game import game_of
from martingale.reconcile import format_report, reconcile

from .helpers import make_config
from .process_helpers import (
    Process,
    migrate,
    procfile,
    redis_call,
    start,
    start_redis,
    start_web,
    wait_for,
)

TABLES = (
    "postings, journal_entries, trades, settlements, holdings, price_ticks, assets, "
    "symbol_leases, players, engine_beats"
)
CHANNEL = "martingale"


@pytest.fixture
def database(request: pytest.FixtureRequest) -> Iterator[str]:
    """A truncated PostgreSQL test database (the production topology); reconciled afterwards."""
    url = request.getfixturevalue("pg_database")
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
    yield url
    app = create_app(make_config(url))
    try:
        checks = reconcile(game_of(app).database)
        assert all(c.ok for c in checks), format_report(checks)
    finally:
        game_of(app).database.dispose()


class Topology:
    """Processes started for one test, stopped (and their logs shown on failure) afterwards."""

    def __init__(self, database: str, logs: Path) -> None:
        self.logs = logs
        self.processes: list[Process] = []
        self.redis, self.redis_url = start_redis(logs)
        self.processes.append(self.redis)
        self.env = {"DATABASE_URL": database, "REDIS_URL": self.redis_url}

    def engine(self) -> Process:
        proc = start("engine", procfile("engine"), self.env, self.logs)
        self.processes.append(proc)
        return proc

    def web(self, name: str, workers: int) -> str:
        proc, url = start_web({**self.env, "WEB_CONCURRENCY": str(workers)}, self.logs, name)
        self.processes.append(proc)
        return url

    def stop(self) -> None:
        for proc in reversed(self.processes):
            proc.stop()

    def logs_text(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.output()[-3000:]}" for p in self.processes)


@pytest.fixture
def topology(database: str, tmp_path: Path) -> Iterator[Topology]:
    found = Topology(database, tmp_path)
    try:
        yield found
    finally:
        found.stop()
        print(found.logs_text())  # captured: pytest shows it only when the test failed


class Listener:
    """A Socket.IO client by WebSocket, recording every event it receives."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.events: list[tuple[str, object]] = []
        self.lock = threading.Lock()
        self.disconnected_at: float | None = None
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("*", self._record)
        self.sio.on("disconnect", self._gone)
        self.sio.connect(url, auth={"token": token} if token else None, transports=["websocket"])

    def _record(self, name: str, data: object = None) -> None:
        with self.lock:
            self.events.append((name, data))

    def _gone(self, reason: object = None) -> None:
        self.disconnected_at = time.monotonic()

    def named(self, name: str) -> list[object]:
        with self.lock:
            return [data for event, data in self.events if event == name]

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


@pytest.fixture
def listeners() -> Iterator[Callable[..., Listener]]:
    opened: list[Listener] = []

    def open_listener(url: str, token: str | None = None) -> Listener:
        found = Listener(url, token)
        opened.append(found)
        return found

    yield open_listener
    for found in opened:
        found.close()


def register(url: str, name: str) -> dict:
    reply = requests.post(
        f"{url}/api/v1/auth/register",
        json={"username": name, "password": "Quartz-Lantern-31"},
        timeout=30,
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def a_live_symbol(url: str) -> str:
    found: list[str] = []

    def ready() -> bool:
        assets = requests.get(f"{url}/api/v1/assets", timeout=5).json()["assets"]
        found.extend(a["symbol"] for a in assets)
        return bool(found)

    wait_for(ready, 30, "the engine's first assets")
    return found[0]


def two_workers_with_sockets(topology, listeners, at_least: int) -> tuple[str, list[Listener]]:
    """release, engine and web with 2 workers; sockets opened until both workers hold some."""
    migrate(topology.env, topology.logs)
    topology.engine()
    url = topology.web("web", workers=2)
    socks = [listeners(url) for _ in range(at_least)]
    # each worker subscribes to the channel when its first socket connects: 2 means both hold
    # sockets, and the engine (a write-only publisher) is not among the subscribers
    while redis_call(topology.redis_url, "PUBSUB", "NUMSUB", CHANNEL)[1] < 2 and len(socks) < 60:
        socks.append(listeners(url))
    return url, socks


def test_the_procfile_topology_ticks_every_workers_sockets(topology, listeners):
    """release, engine and web (2 workers): every socket gets each tick, through Redis."""
    url, socks = two_workers_with_sockets(topology, listeners, 12)
    assert redis_call(topology.redis_url, "PUBSUB", "NUMSUB", CHANNEL)[1] == 2

    wait_for(lambda: all(len(s.named("prices")) >= 3 for s in socks), 30, "three ticks each")
    for sock in socks:
        seqs = [m["tick_seq"] for m in sock.named("prices")]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs  # none missed
    # long-polling is refused: its requests could land on a worker that does not hold the session
    polling = requests.get(f"{url}/socket.io/?EIO=4&transport=polling", timeout=5)
    assert polling.status_code == 400
    # a browser's offer of per-message compression is declined: one frame serves every socket
    handshake = websocket_handshake(url, "permessage-deflate; client_max_window_bits")
    assert handshake.startswith("HTTP/1.1 101")
    assert "sec-websocket-extensions" not in handshake.lower()


def test_metrics_add_up_every_process_whichever_worker_answers(topology, listeners, tmp_path):
    """Two workers and the engine share one multiprocess directory: each scrape sees them all."""
    token = secrets.token_urlsafe(32)
    shared = tmp_path / "metrics"
    shared.mkdir()
    topology.env.update(MARTINGALE_METRICS_TOKEN=token, PROMETHEUS_MULTIPROC_DIR=str(shared))
    url, socks = two_workers_with_sockets(topology, listeners, 8)
    wait_for(lambda: all(s.named("prices") for s in socks), 30, "a tick on every socket")
    wait_for(lambda: any(m["prices"] for m in socks[0].named("prices")), 30, "a price")
    symbol = next(iter(next(m for m in socks[0].named("prices") if m["prices"])["prices"]))
    tokens = requests.post(f"{url}/api/v1/auth/register", timeout=30,
                           json={"username": "metrics", "password": "Quartz-Lantern-31"}).json()  # fmt: skip
    for i in range(10):  # a new connection each: both workers take some
        reply = requests.post(f"{url}/api/v1/trades", timeout=30,
                              json={"symbol": symbol, "side": "buy", "quantity": "0.1"},
                              headers={"Authorization": f"Bearer {tokens['access_token']}",
                                       "Idempotency-Key": f"metrics-{i}"})  # fmt: skip
        assert reply.status_code == 201, reply.text

    def scrape() -> dict[str, float]:
        reply = requests.get(f"{url}/metrics", headers={"Authorization": f"Bearer {token}"},
                             timeout=10)  # fmt: skip
        assert reply.status_code == 200
        found: dict[str, float] = {}
        for line in reply.text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                found[name] = float(value)
        return found

    for _ in range(8):
        seen = scrape()
        assert seen['martingale_trades_total{channel="rest",outcome="filled"}'] == 10
        assert seen["martingale_sockets_connected"] == len(socks)
        assert seen["martingale_engine_step_seconds_count"] >= 1
        assert seen["martingale_tick_lag_seconds_count"] >= 1


def websocket_handshake(url: str, extensions: str) -> str:
    """The server's answer to a WebSocket upgrade offering ``extensions``, headers only."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(
            (
                "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                f"Host: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
                f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: {extensions}\r\n\r\n"
            ).encode()
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = conn.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer.split(b"\r\n\r\n", 1)[0].decode()


def test_ticks_reach_the_sockets_again_within_seconds_of_a_redis_restart(topology, listeners):
    topology.engine()
    url = topology.web("web", workers=1)
    sock = listeners(url)
    wait_for(lambda: len(sock.named("prices")) >= 2, 20, "ticks before the restart")
    port = int(topology.redis_url.rsplit(":", 1)[1].split("/")[0])
    topology.redis.stop()
    time.sleep(3)  # down for a few ticks
    heard = len(sock.named("prices"))
    topology.redis, _ = start_redis(topology.logs, port)
    topology.processes.append(topology.redis)
    back = time.monotonic()
    wait_for(lambda: len(sock.named("prices")) > heard, 10, "a tick after the restart")
    assert time.monotonic() - back < 5
    assert sock.sio.connected  # the socket itself never depended on Redis


def test_private_pushes_reach_a_socket_held_by_another_server(topology, listeners):
    topology.engine()
    server_a, server_b = topology.web("web_a", workers=1), topology.web("web_b", workers=1)
    symbol = a_live_symbol(server_a)
    alice, bob = register(server_a, "alice"), register(server_b, "bob")
    alice_on_b = listeners(server_b, alice["access_token"])
    bob_on_a = listeners(server_a, bob["access_token"])

    reply = requests.post(
        f"{server_a}/api/v1/trades",
        json={"symbol": symbol, "side": "buy", "quantity": "1"},
        headers={**bearer(alice["access_token"]), "Idempotency-Key": secrets.token_hex(8)},
        timeout=30,
    )
    assert reply.status_code == 201, reply.text
    wait_for(lambda: alice_on_b.named("portfolio"), 10, "alice's portfolio push on server B")
    wait_for(lambda: bob_on_a.named("tape"), 10, "the public tape on server A")
    time.sleep(0.5)
    assert alice_on_b.named("portfolio")[-1]["cash"] == reply.json()["portfolio"]["cash"]
    assert not bob_on_a.named("portfolio")  # private: never to another player's socket


def test_a_logout_on_one_server_drops_that_sessions_sockets_on_every_server(topology, listeners):
    server_a, server_b = topology.web("web_a", workers=1), topology.web("web_b", workers=1)
    first = register(server_a, "alice")
    second = requests.post(
        f"{server_b}/api/v1/auth/login",
        json={"username": "alice", "password": "Quartz-Lantern-31"},
        timeout=30,
    ).json()
    on_b, on_a = (
        listeners(server_b, first["access_token"]),
        listeners(server_a, first["access_token"]),
    )
    other_session = listeners(server_b, second["access_token"])

    started = time.monotonic()
    out = requests.post(
        f"{server_a}/api/v1/auth/logout", headers=bearer(first["access_token"]), timeout=30
    )
    assert out.status_code == 200, out.text
    wait_for(lambda: on_a.disconnected_at and on_b.disconnected_at, 5, "both sockets dropped")
    assert on_b.disconnected_at is not None and on_b.disconnected_at - started < 1.0  # promptly
    time.sleep(0.5)
    assert other_session.sio.connected  # another login session of the same player stays


def test_rate_limits_count_on_every_server_at_once(topology):
    """Per account: 5 wrong passwords lock it on every server. Per address: 10 password attempts
    a minute, whichever server answers them."""
    server_a, server_b = topology.web("web_a", workers=1), topology.web("web_b", workers=1)

    def attempt(i: int, username: str):
        return requests.post(
            f"{(server_a, server_b)[i % 2]}/api/v1/auth/login",
            json={"username": username, "password": "wrong-password"},
            timeout=30,
        )

    guesses = [attempt(i, "victim") for i in range(6)]
    assert [r.status_code for r in guesses] == [401] * 5 + [429]  # each server saw 3 at most
    assert guesses[5].json()["error"]["code"] == "too_many_attempts"
    statuses = [attempt(i, f"nobody{i}").status_code for i in range(6)]
    assert statuses == [401] * 4 + [429, 429], statuses  # the address's 11th and 12th
    # (each server alone has seen only 5 or 6 of the address's attempts)


@pytest.mark.parametrize(
    ("env", "refusal"),
    [
        ({"WEB_CONCURRENCY": "2", "MARTINGALE_ENGINE": "off"}, "need REDIS_URL"),
        ({"WEB_CONCURRENCY": "2", "REDIS_URL": "redis://127.0.0.1:1/0"}, "only with one worker"),
    ],
)
def test_gunicorn_refuses_several_workers_it_cannot_serve_correctly(env, refusal, tmp_path):
    """No queue: an emit would reach one worker's sockets only. Engine inside: one per worker."""
    clean = {"REDIS_URL": "", "MARTINGALE_MESSAGE_QUEUE": "", "MARTINGALE_ENGINE": "on"}
    proc = start("web", 'gunicorn --config gunicorn.conf.py --check-config "martingale:create_app()"',
                 {**clean, **env, "PORT": "0"}, tmp_path)  # fmt: skip
    assert proc.popen.wait(60) != 0
    assert refusal in proc.output()


def test_make_run_is_one_process_with_the_engine_inside():
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "WEB_CONCURRENCY=1" in recipe and "MARTINGALE_ENGINE=off" not in recipe
    assert "REDIS_URL" not in recipe
    assert procfile("web").startswith("MARTINGALE_ENGINE=off ")  # the Procfile's web: no engine


def test_the_benchmark_smoke_run_starts_the_topology_and_reconciles(pg_database):
    """bench/run.py --smoke: the Procfile topology, the references, every bench script, reconcile."""
    admin = pg_database.replace("+psycopg", "").rsplit("/", 1)[0] + "/postgres"
    result = subprocess.run(
        [sys.executable, str(Path(__file__).resolve().parent.parent / "bench" / "run.py"),
         "--smoke", "--workers", "2", "--postgres-url", admin],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    # every script says why it failed on a line naming itself: keep those whatever the length
    reasons = "\n".join(line for line in result.stdout.splitlines() if "bench/" in line)
    assert result.returncode == 0, reasons + "\n" + result.stdout[-4000:] + result.stderr[-3000:]
    assert "figure: fanout_delivered = 100.00" in result.stdout
    assert "bench/fuzz: OK" in result.stdout  # generated requests, all answered as documented
    assert "checks passed" in result.stdout and "bench: ok" in result.stdout


@pytest.mark.parametrize(
    ("env", "queue", "limits"),
    [
        ({}, None, "memory://"),
        ({"REDIS_URL": "redis://r:6379/0"}, "redis://r:6379/0", "redis://r:6379/0"),
        (
            {
                "REDIS_URL": "redis://r:6379/0",
                "MARTINGALE_MESSAGE_QUEUE": "redis://q:6379/1",
                "RATELIMIT_STORAGE_URI": "memory://",
            },
            "redis://q:6379/1",
            "memory://",
        ),
    ],
)
def test_redis_url_feeds_the_queue_and_the_limits_unless_overridden(env, queue, limits):
    from martingale.config import load_config

    config = load_config(env)
    assert config["MARTINGALE_MESSAGE_QUEUE"] == queue
    assert config["RATELIMIT_STORAGE_URI"] == limits


def test_the_message_queue_must_be_redis():
    from martingale.realtime.queue import RedisQueue, manager_for

    assert isinstance(manager_for("redis://127.0.0.1:1/0"), RedisQueue)
    assert not isinstance(manager_for(None), RedisQueue)
    with pytest.raises(ValueError, match="Redis URL"):
        manager_for("amqp://guest@localhost//")
