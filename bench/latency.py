"""Trade round trips over REST and Socket.IO, and tick fan-out, against a real gunicorn server.

    .venv/bin/python bench/latency.py [--mode gevent|threading] [--database-url URL]
                                      [--trades 200] [--players 16] [--listeners 200]

Starts the Procfile's web command (gunicorn.conf.py) on a temporary SQLite file (or the given
database) with the chosen async mode, then measures, from this process:
- sequential round trips of one player, REST and Socket.IO (ack);
- the same with 16 players trading at once;
- tick fan-out: how long after the tick's own timestamp each of N listening sockets receives it.
Rate limits are switched off on the benchmarked server (RATELIMIT_ENABLED=false): it registers
many players from one address. Wall-clock figures on a shared 2-core machine: compare as ratios.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import requests
import socketio

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(mode: str, database_url: str, port: int) -> subprocess.Popen:
    env = dict(os.environ, MARTINGALE_ASYNC_MODE=mode, DATABASE_URL=database_url, PORT=str(port), WEB_CONCURRENCY="1",
               HOST="127.0.0.1", RATELIMIT_ENABLED="false", MARTINGALE_PASSWORD_HASH="scrypt:1024:8:1")  # fmt: skip
    bin_dir = Path(sys.executable).parent
    subprocess.run([bin_dir / "flask", "--app", "martingale", "db", "upgrade"], env=env, check=True,
                   capture_output=True, cwd=ROOT)  # fmt: skip
    proc = subprocess.Popen(
        [bin_dir / "gunicorn", "--config", "gunicorn.conf.py", "martingale:create_app()"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if requests.get(f"{url}/readyz", timeout=5).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not become ready")


class Player:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        login = self.http.post(f"{url}/api/v1/auth/register", timeout=30,
                               json={"username": f"lat_{secrets.token_hex(5)}", "password": "Quartz-Lantern-31"}).json()  # fmt: skip
        self.token = login["access_token"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"
        self.sio = socketio.Client()
        self.sio.connect(url, auth={"token": self.token}, transports=["websocket"])

    def rest(self, symbol: str) -> float:
        t = time.perf_counter()
        reply = self.http.post(f"{self.url}/api/v1/trades", timeout=30,
                               json={"symbol": symbol, "side": "buy", "quantity": "0.01"},
                               headers={"Idempotency-Key": secrets.token_hex(8)})  # fmt: skip
        assert reply.status_code == 201, reply.text
        return time.perf_counter() - t

    def sock(self, symbol: str) -> float:
        t = time.perf_counter()
        reply = self.sio.call("trade", {"symbol": symbol, "side": "buy", "quantity": "0.01",
                                        "idempotency_key": secrets.token_hex(8)}, timeout=30)  # fmt: skip
        assert "trade" in reply, reply
        return time.perf_counter() - t


def summary(label: str, samples: list[float], wall: float | None = None) -> None:
    ms = sorted(s * 1000 for s in samples)
    p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
    rate = f", {len(ms) / wall:.0f} trades/s" if wall else ""
    print(
        f"  {label:<34} n={len(ms):<5} p50 {statistics.median(ms):6.1f} ms  p99 {p99:6.1f} ms{rate}"
    )


def run_concurrent(players: list[Player], symbol: str, kind: str, trades: int) -> None:
    samples: list[float] = []
    lock = threading.Lock()

    def work(p: Player) -> None:
        mine = [getattr(p, kind)(symbol) for _ in range(trades)]
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=work, args=(p,)) for p in players]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    summary(f"{kind.upper()} {len(players)} players at once", samples, time.perf_counter() - t)


def fanout(url: str, listeners: int, seconds: float) -> None:
    delays: list[float] = []
    lock = threading.Lock()
    clients = []
    for _ in range(listeners):
        c = socketio.Client()

        def on_prices(message: dict) -> None:
            sent = datetime.fromisoformat(message["t"].replace("Z", "+00:00")).timestamp()
            with lock:
                delays.append(time.time() - sent)

        c.on("prices", on_prices)
        c.connect(url, transports=["websocket"])
        clients.append(c)
    time.sleep(seconds)
    for c in clients:
        c.disconnect()
    summary(f"tick delivery to {listeners} sockets", delays)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="gevent", choices=["gevent", "threading"])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--trades", type=int, default=200)
    parser.add_argument("--players", type=int, default=16)
    parser.add_argument("--listeners", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url_db = args.database_url or f"sqlite:///{Path(tmp) / 'latency.db'}"
        port = free_port()
        server = start_server(args.mode, url_db, port)
        url = f"http://127.0.0.1:{port}"
        try:
            print(f"mode={args.mode} database={url_db.split(':')[0]} cpus={os.cpu_count()}")
            assets: list[dict] = []
            while not assets:  # ready can precede the first refill by a moment
                assets = requests.get(f"{url}/api/v1/assets", timeout=10).json()["assets"]
                time.sleep(0.1)
            symbol = max(assets, key=lambda a: a["seconds_to_expiry"])["symbol"]
            solo = Player(url)
            summary("REST sequential, 1 player", [solo.rest(symbol) for _ in range(args.trades)])
            summary(
                "Socket.IO sequential, 1 player", [solo.sock(symbol) for _ in range(args.trades)]
            )
            crowd = [Player(url) for _ in range(args.players)]
            per = max(1, args.trades // 4)
            run_concurrent(crowd, symbol, "rest", per)
            run_concurrent(crowd, symbol, "sock", per)
            for p in [solo, *crowd]:
                p.sio.disconnect()
            fanout(url, args.listeners, 10)
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    main()
