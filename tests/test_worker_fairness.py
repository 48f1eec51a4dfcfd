"""One client cannot hold a gevent worker: a connection pipelining cheap requests (each served
without waiting on I/O) takes turns with the worker's other connections (gunicorn.conf.py,
post_request)."""

from __future__ import annotations

import socket
import threading
import time

import requests

from .process_helpers import migrate, start_web

PIPELINED = 8000
REQUEST = b"GET /healthz HTTP/1.1\r\nHost: fairness\r\n\r\n"
STATUS = b"HTTP/1.1 200 "


def test_a_pipelining_client_does_not_hold_the_worker(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'game.db'}", "WEB_CONCURRENCY": "1",
           "MARTINGALE_ENGINE": "off", "MARTINGALE_ACCESS_LOG": ""}  # fmt: skip
    migrate(env, tmp_path)
    web, url = start_web(
        env, tmp_path, command='gunicorn --config gunicorn.conf.py "martingale:create_app()"'
    )
    answered = [0]
    try:
        host, port = url.removeprefix("http://").split(":")
        hog = socket.create_connection((host, int(port)))
        sender = threading.Thread(target=hog.sendall, args=(REQUEST * PIPELINED,), daemon=True)

        def read() -> None:
            tail = b""
            while answered[0] < PIPELINED:
                chunk = hog.recv(1 << 16)
                if not chunk:
                    return
                tail += chunk
                answered[0] += tail.count(STATUS)
                # keep what could be the start of a status line cut by the chunk, never a whole one
                tail = tail[-(len(STATUS) - 1) :]

        reader = threading.Thread(target=read, daemon=True)
        sender.start()
        reader.start()
        deadline = time.monotonic() + 10
        while answered[0] < 100 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert answered[0] >= 100, "the pipelined requests were never served"
        started = time.monotonic()
        probe = requests.get(f"{url}/healthz", timeout=30)
        waited = time.monotonic() - started
        during = answered[0]
        reader.join(60)
        hog.close()
    finally:
        web.stop()
    assert probe.status_code == 200
    # the probe was answered while the pipelining client still had requests waiting...
    assert during < PIPELINED, f"the probe came after all {PIPELINED} pipelined requests"
    # ...and it did not wait for them
    assert waited < 0.5, f"another connection waited {waited:.2f} s behind one client"
    assert answered[0] == PIPELINED
