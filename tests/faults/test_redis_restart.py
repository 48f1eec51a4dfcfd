"""Redis restarted under load: trading goes on, and the fan-out of prices resumes within 5 s.

The Procfile's processes (several web workers, the engine as its own process) share a private
redis-server (REDIS_URL) for Socket.IO messages and rate-limit counters, while players trade over
REST and sockets listen to the prices. Redis is killed (kill -9), kept down for a few seconds and
started again on the same port. While it is down every trade is still answered (rate limits count
in memory); within 5 s of Redis being back, every listening socket receives prices again; the books
reconcile and every acknowledged trade is booked exactly once.

Runs when the app reads REDIS_URL (stream R's scale-out); until then it is skipped, saying so.
"""

from __future__ import annotations

import time

import pytest

from martingale import config

from .books import assert_books
from .load import Http, Listener, Traders
from .processes import (
    Processes,
    app_env,
    free_port,
    production_env,
    start_topology,
    wait_for,
    wait_ready,
)

DOWN_S = 3.0
RESUME_S = 5.0


def test_redis_restart_trading_goes_on_and_fan_out_resumes_within_5_s(
    database_url: str, processes: Processes
) -> None:
    if "REDIS_URL" not in config.DEFAULTS:
        pytest.skip(
            "the app does not read REDIS_URL yet: Redis for Socket.IO messages and rate limits "
            "arrives with the scale-out stream (R); this test runs once that is merged"
        )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env, redis = production_env(
        processes,
        app_env(
            database_url,
            PORT=str(port),
            HOST="127.0.0.1",
            RATELIMIT_ENABLED="true",  # the counters live in Redis: its outage must not stop trades
        ),
    )
    assert redis is not None
    start_topology(processes, env)
    wait_ready(url, 60, processes)
    http = Http(url)
    processes.on_stop(http.close)
    players = [http.register(f"trader_{i}")[0] for i in range(4)]
    traders = Traders(players, http.attempt, http.symbols(), name="redis", pause_s=0.05)
    processes.on_stop(traders.halt)
    listeners = [Listener(url).connect() for _ in range(4)]  # spread over the workers
    for listener in listeners:
        processes.on_stop(listener.close)
    traders.start()
    wait_for("trades before the restart", lambda: len(traders.acknowledged()) >= 20, 30)
    wait_for(
        "prices on every socket",
        lambda: all(listener.prices for listener in listeners),
        15,
    )

    failures_before = traders.failures()
    redis.kill()
    down = time.monotonic()
    acknowledged_before = len(traders.acknowledged())
    time.sleep(DOWN_S)
    acknowledged_while_down = len(traders.acknowledged()) - acknowledged_before
    failures_while_down = traders.failures() - failures_before
    redis.start()
    back = time.monotonic()
    for listener in listeners:
        wait_for(
            "every socket to receive prices again",
            lambda listener=listener: listener.prices_after(back),
            30,
        )
    resumed_s = (
        max(min(at for at, _ in listener.prices if at > back) for listener in listeners) - back
    )
    traders.stop()
    for listener in listeners:
        listener.close()

    assert acknowledged_while_down > 0, "no trade was acknowledged while Redis was down"
    assert failures_while_down == 0, f"{failures_while_down} trades failed while Redis was down"
    assert resumed_s <= RESUME_S, (
        f"prices reached every socket {resumed_s:.1f} s after Redis was back"
    )
    assert time.monotonic() - down > DOWN_S
    books = assert_books(env, database_url, traders)
    print(f"fan-out resumed {resumed_s:.2f} s after Redis was back; {books}")
