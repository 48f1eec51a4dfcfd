"""Which Socket.IO transport survives several web workers: the measurement behind ADR 0006.

    python bench/transports.py --url http://127.0.0.1:5000 --transport polling|websocket|both
                               [--clients 50] [--seconds 20]

Opens ``--clients`` python-socketio clients (the reference client, as scripts/bot.py uses it) with
the given transports against a server, listens for ``prices`` for ``--seconds``, and reports how
many connected, how many connections were lost (each lost connection is a client that would
have to reconnect and re-sync), and what share of the ticks each client should have seen arrived.
"""

from __future__ import annotations

import argparse
import threading
import time

import socketio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    parser.add_argument("--transport", choices=["polling", "websocket", "both"], default="both")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    transports = ["polling", "websocket"] if args.transport == "both" else [args.transport]

    lock = threading.Lock()
    seqs: dict[int, set[int]] = {}
    lost = [0]
    refused = [0]
    clients = []
    for i in range(args.clients):
        client = socketio.Client(reconnection=True, reconnection_delay=0.2)
        seqs[i] = set()

        def on_prices(message: dict, i: int = i) -> None:
            with lock:
                seqs[i].add(message["tick_seq"])

        def on_disconnect(reason: object = None) -> None:
            with lock:
                lost[0] += 1

        client.on("prices", on_prices)
        client.on("disconnect", on_disconnect)
        try:
            client.connect(args.url, transports=transports, wait_timeout=10)
        except socketio.exceptions.ConnectionError:
            refused[0] += 1
        clients.append(client)
    time.sleep(args.seconds)
    with lock:
        lost_mid_run = lost[0]
    for client in clients:
        if client.connected:
            client.disconnect()
    everything = set().union(*seqs.values())
    last = max(everything) if everything else 0
    # each client owes every tick from the first one it saw to the last one anyone saw
    owed = sum(last - min(s) + 1 for s in seqs.values() if s)
    seen = sum(len(s) for s in seqs.values())
    connected = args.clients - refused[0]
    silent = sum(1 for s in seqs.values() if not s)
    print(f"transport {'+'.join(transports)}: {connected}/{args.clients} connected, "
          f"{lost_mid_run} connections lost mid-run, {silent} clients never got a tick, "
          f"{100 * seen / owed if owed else 0:.1f}% of the ticks owed delivered")  # fmt: skip


if __name__ == "__main__":
    main()
