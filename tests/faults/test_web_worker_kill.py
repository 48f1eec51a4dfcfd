"""kill -9 of a web worker under trading load, with the Procfile's processes on PostgreSQL.

Players trade over REST and over Socket.IO (by acknowledgement), each order with its own
Idempotency-Key, retried with the same key until it is answered. One gunicorn worker is killed with
SIGKILL mid-load, at a moment chosen so that some trade has committed and its reply has not been
sent (SIGSTOP first, then look in the books): those replies are lost for certain, and the sockets
drop. gunicorn starts a new worker; the clients reconnect by themselves; each retry of an order
that had already run is answered as a replay of the same trade, never a second one; every
acknowledged trade is booked exactly once.
"""

from __future__ import annotations

import os
import random
import signal
import time

import psycopg

from .books import assert_books
from .load import Http, Listener, Order, Traders
from .processes import (
    Processes,
    app_env,
    children_of,
    free_port,
    plain_url,
    start_topology,
    wait_for,
    wait_ready,
)

RECOVER_S = 30.0
DRAIN_S = 0.3  # after SIGSTOP, replies already sent reach their clients within this


def freeze_between_a_commit_and_its_reply(
    database_url: str, worker: int, *traders: Traders
) -> dict[tuple[int, str], Order]:
    """SIGSTOP the worker at a moment when some order has been booked but its client has not had
    the reply: killing it then loses those replies for certain. Returns those orders."""
    with psycopg.connect(plain_url(database_url), autocommit=True) as conn:
        for _ in range(400):
            os.kill(worker, signal.SIGSTOP)
            time.sleep(DRAIN_S)
            waiting: dict[tuple[int, str], Order] = {}
            for t in traders:
                waiting |= t.in_flight()
            booked = set(
                conn.execute(
                    "SELECT player_id, idempotency_key FROM trades WHERE idempotency_key = ANY(%s)",
                    ([key for _, key in waiting],),
                ).fetchall()
            )
            ran = {key: order for key, order in waiting.items() if key in booked}
            if ran:
                return ran
            os.kill(worker, signal.SIGCONT)
            time.sleep(random.uniform(0.005, 0.05))
    raise AssertionError("never caught the worker between a trade's commit and its reply")


def test_kill_9_of_a_web_worker_clients_reconnect_and_retries_trade_at_most_once(
    database_url: str, processes: Processes
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = app_env(database_url, PORT=str(port), HOST="127.0.0.1", WEB_CONCURRENCY="1")
    start_topology(processes, env)
    wait_ready(url, 60, processes)
    [web] = [p for p in processes.started if p.name == "web"]
    http = Http(url)
    processes.on_stop(http.close)
    logins = [http.register(f"trader_{i}") for i in range(8)]
    rest = Traders([player for player, _ in logins[:6]], http.attempt, http.symbols(), name="rest")
    sockets = {player: Listener(url, token).connect() for player, token in logins[6:]}
    by_socket = Traders(
        list(sockets),
        lambda player, *order: sockets[player].attempt(player, *order),
        http.symbols(),
        name="sock",
    )
    for traders in (rest, by_socket):
        processes.on_stop(traders.halt)
        traders.start()
    for listener in sockets.values():
        processes.on_stop(listener.close)
    wait_for("trades before the kill", lambda: len(rest.acknowledged()) >= 30, 30)
    wait_for("socket trades before the kill", lambda: len(by_socket.acknowledged()) >= 5, 30)

    workers = children_of(web.pid)
    assert workers, "gunicorn has no worker"
    victim = workers[0]
    ran = freeze_between_a_commit_and_its_reply(database_url, victim, rest, by_socket)
    os.kill(victim, signal.SIGKILL)
    killed = time.monotonic()
    acknowledged_at_kill = len(rest.acknowledged()) + len(by_socket.acknowledged())
    wait_for(
        "gunicorn to start a new worker",
        lambda: [w for w in children_of(web.pid) if w != victim],
        RECOVER_S,
    )
    wait_ready(url, RECOVER_S, processes)
    ready_after_s = time.monotonic() - killed
    for listener in sockets.values():
        wait_for(
            "each socket to reconnect and receive prices again",
            lambda listener=listener: listener.prices_after(
                max([killed, *[c for c in listener.connects if c > killed]])
            ),
            RECOVER_S,
        )
    wait_for(
        "trades after the kill",
        lambda: (
            len(rest.acknowledged()) + len(by_socket.acknowledged()) >= acknowledged_at_kill + 40
        ),
        RECOVER_S,
    )
    rest.stop()
    by_socket.stop()

    assert all(any(c > killed for c in listener.connects) for listener in sockets.values())
    assert rest.failures() + by_socket.failures() > 0, "no request met the kill: it proved nothing"
    assert rest.unanswered() == [] and by_socket.unanswered() == []
    books = assert_books(env, database_url, rest, by_socket)
    # the orders that had run when their worker died: each retry answered a replay of that trade
    for order in ran.values():
        kinds = [a.kind for a in order.attempts]
        assert kinds[-1] == "replayed" and "failed" in kinds and "created" not in kinds, kinds
    print(
        f"ready {ready_after_s:.1f} s after kill -9; {len(ran)} replies lost for certain; {books}"
    )
