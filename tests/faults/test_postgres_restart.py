"""PostgreSQL restarted under trading load, on a private cluster (the shared server stays up).

The Procfile's processes run against the private server while players trade over HTTP. The server
is stopped the hard way (``pg_ctl -m immediate``: every session is cut mid-transaction, the next
start runs crash recovery), kept down for a few seconds and started again. While it is down every
/readyz answers 503 at once; within 5 s of it accepting connections again /readyz answers 200 (the
web processes' pools and the engine's leader lock recover by themselves); no trade is partial.
Then a quick restart while no request is in flight: the pools still hold the connections the server
dropped, and no request fails for it, nor does /readyz say the database is down (a unit of work or
a read that meets such a connection runs again on a fresh one).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
import requests

from .books import assert_books
from .load import Http, Traders
from .processes import (
    PrivatePostgres,
    Processes,
    app_env,
    free_port,
    production_env,
    start_topology,
    wait_for,
    wait_ready,
)

DOWN_S = 3.0
READY_AFTER_S = 5.0


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    if not PrivatePostgres.available():
        if os.environ.get("CI") == "true":
            pytest.fail("CI: initdb and pg_ctl are needed for the PostgreSQL restart test")
        pytest.skip("initdb/pg_ctl not installed (MARTINGALE_PG_BIN)")
    server = PrivatePostgres()
    try:
        server.start()
        yield server
    finally:
        server.remove()


def test_postgresql_restart_readyz_tells_the_truth_and_no_trade_is_partial(
    private_postgres: PrivatePostgres, processes: Processes
) -> None:
    database_url = private_postgres.create_database("martingale_test_restart")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env, _ = production_env(processes, app_env(database_url, PORT=str(port), HOST="127.0.0.1"))
    start_topology(processes, env)
    wait_ready(url, 60, processes)
    http = Http(url)
    processes.on_stop(http.close)
    players = [http.register(f"trader_{i}")[0] for i in range(6)]
    traders = Traders(players, http.attempt, http.symbols(), name="pg")
    processes.on_stop(traders.halt)
    traders.start()
    wait_for("trades before the restart", lambda: len(traders.acknowledged()) >= 20, 30)

    private_postgres.stop("immediate")
    down = time.monotonic()
    answers = []
    while time.monotonic() - down < DOWN_S:
        asked = time.monotonic()
        reply = requests.get(f"{url}/readyz", timeout=10)
        answers.append((reply.status_code, reply.json(), time.monotonic() - asked))
        time.sleep(0.2)
    acknowledged_while_down = len(traders.acknowledged())
    private_postgres.start()
    up = time.monotonic()

    def ready() -> bool:
        return requests.get(f"{url}/readyz", timeout=10).status_code == 200

    wait_for("/readyz to answer 200 after the restart", ready, 30, interval=0.1)
    ready_after_s = time.monotonic() - up
    wait_for(
        "trades after the restart",
        lambda: len(traders.acknowledged()) >= acknowledged_while_down + 20,
        30,
    )

    # a quick restart while no request is in flight: the pools still hold the dropped
    # connections, and not one request may fail for it
    traders.pause()
    wait_for("the orders in flight to be answered", lambda: not traders.in_flight(), 30)
    failures_before_quick = traders.failures()
    acknowledged_before_quick = len(traders.acknowledged())
    private_postgres.stop("immediate")
    private_postgres.start()
    restarted = time.monotonic()
    # each worker's first /readyz meets a dropped connection: the database is up, and says so
    probes = [
        requests.get(f"{url}/readyz", timeout=10).json()
        for _ in range(2 * int(env["WEB_CONCURRENCY"]))
    ]
    traders.resume()
    wait_for(
        "trades after the quick restart",
        lambda: len(traders.acknowledged()) >= acknowledged_before_quick + 20,
        30,
    )
    wait_for("/readyz to answer 200 after the quick restart", ready, 30, interval=0.1)
    failed_after_quick = traders.failures() - failures_before_quick
    traders.stop()

    assert len(answers) >= 5
    assert {status for status, _, _ in answers} == {503}, answers
    assert all(body == {"status": "unavailable", "database": False} for _, body, _ in answers)
    assert max(took for _, _, took in answers) < 2.0, (
        "a /readyz answer hung while PostgreSQL was down"
    )
    assert ready_after_s <= READY_AFTER_S, (
        f"/readyz was 200 only {ready_after_s:.1f} s after the restart"
    )
    assert failed_after_quick == 0, f"{failed_after_quick} trades failed on dropped connections"
    assert [p for p in probes if p.get("database") is not True] == []
    assert [e for at, e in http.server_errors if at > restarted] == []
    books = assert_books(env, database_url, traders)
    assert books.failed_attempts > 0, "no trade met the outage: the test proved nothing"
    print(f"ready {ready_after_s:.2f} s after the restart; {books}")
