"""kill -9 of a web worker under trading load, with the Procfile's processes on PostgreSQL.

Players trade over REST and over Socket.IO (by acknowledgement), each order with its own
Idempotency-Key, retried with the same key until it is answered. One gunicorn worker (the one
serving the first socket trader, where the Procfile runs several) is killed with SIGKILL mid-load,
at a moment chosen so that some trade has committed and its reply has not been sent (SIGSTOP
first, then look in the books): those replies are lost for certain, and its sockets drop. gunicorn
starts a new worker; the clients reconnect by themselves; each retry of an order that had already
run is answered as a replay of the same trade, never a second one; every acknowledged trade is
booked exactly once.
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
    production_env,
    start_topology,
    wait_for,
    wait_ready,
    worker_serving,
)

RECOVER_S = 30.0
DRAIN_S = 0.3  # after SIGSTOP, replies already sent reach their clients within this
STILL_S = 0.7  # an order served by another worker is answered within this; the frozen one's is not


def freeze_between_a_commit_and_its_reply(
    database_url: str, worker: int, *traders: Traders
) -> tuple[dict[tuple[int, str], Order], int]:
    """SIGSTOP the worker at a moment when some order has been booked but its client has not had
    the reply: killing it then loses those replies for certain. Returns those orders (the ones in
    flight all through the freeze: other workers answer theirs) and how many freezes it took."""

    def waiting() -> dict[tuple[int, str], tuple[Order, int]]:
        found: dict[tuple[int, str], tuple[Order, int]] = {}
        for t in traders:
            found |= {key: (o, len(o.attempts)) for key, o in t.in_flight().items()}
        return found

    with psycopg.connect(plain_url(database_url), autocommit=True) as conn:
        for tries in range(1, 200):
            os.kill(worker, signal.SIGSTOP)
            time.sleep(DRAIN_S)
            first = waiting()
            if first:
                time.sleep(STILL_S)
                still = {k: o for k, (o, n) in waiting().items() if first.get(k, (o, -1))[1] == n}
                booked = set(
                    conn.execute(
                        "SELECT player_id, idempotency_key FROM trades"
                        " WHERE idempotency_key = ANY(%s)",
                        ([key for _, key in still],),
                    ).fetchall()
                )
                ran = {key: order for key, order in still.items() if key in booked}
                if ran:
                    return ran, tries
            os.kill(worker, signal.SIGCONT)
            time.sleep(random.uniform(0.005, 0.05))
    raise AssertionError("never caught the worker between a trade's commit and its reply")


def test_kill_9_of_a_web_worker_clients_reconnect_and_retries_trade_at_most_once(
    database_url: str, processes: Processes
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env, _ = production_env(processes, app_env(database_url, PORT=str(port), HOST="127.0.0.1"))
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
    assert len(workers) == int(env["WEB_CONCURRENCY"]), workers
    # the victim: the worker serving the first socket trader (the only one, or one of several)
    serving = {player: worker_serving(s.local_port(), workers) for player, s in sockets.items()}
    victim = serving[next(iter(sockets))]
    assert victim in workers, serving
    ran, freezes = freeze_between_a_commit_and_its_reply(database_url, victim, rest, by_socket)
    os.kill(victim, signal.SIGKILL)
    killed = time.monotonic()
    acknowledged_at_kill = len(rest.acknowledged()) + len(by_socket.acknowledged())
    wait_for(
        "gunicorn to start a new worker",
        lambda: set(children_of(web.pid)) - set(workers),
        RECOVER_S,
    )
    wait_ready(url, RECOVER_S, processes)
    ready_after_s = time.monotonic() - killed
    for player, listener in sockets.items():
        if serving[player] == victim:
            wait_for(
                "a socket of the killed worker to reconnect",
                lambda listener=listener: any(c > killed for c in listener.connects),
                RECOVER_S,
            )
        wait_for(
            "every socket to receive prices after the kill (and its reconnection)",
            lambda listener=listener: listener.prices_after(max([killed, *listener.connects])),
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

    assert rest.failures() + by_socket.failures() > 0, "no request met the kill: it proved nothing"
    assert rest.unanswered() == [] and by_socket.unanswered() == []
    books = assert_books(env, database_url, rest, by_socket)
    # the orders that had run when their worker died: each retry answered a replay of that trade
    for order in ran.values():
        kinds = [a.kind for a in order.attempts]
        assert kinds[-1] == "replayed" and "failed" in kinds and "created" not in kinds, kinds
    print(
        f"ready {ready_after_s:.1f} s after kill -9; {len(ran)} replies lost for certain ({freezes} freezes); {books}"
    )
