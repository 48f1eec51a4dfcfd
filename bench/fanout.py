"""Tick fan-out: how long after its server time each tick reaches every listening socket.

    python bench/fanout.py --url http://127.0.0.1:5000 [--clients 5000] [--processes 4]
                           [--seconds 20] [--database-url URL] [--smoke]

Opens ``--clients`` anonymous Socket.IO connections (WebSocket, the only transport the server
accepts) spread over ``--processes`` load-generator processes, waits until all are connected, then
listens for ``--seconds``. For every ``prices`` message it records receipt time minus the tick's
own server time (``t`` in the payload, milliseconds; one clock, same machine). Every tick whose
``t`` falls in the window must reach every socket within the 5 s the clients go on listening: any
miss is a correctness failure (exit 1). ``--smoke``: 40 clients, 4 s, correctness only.

The load generator is a lean client, not python-socketio: asyncio plus wsproto speaking Engine.IO 4
(open, namespace connect, pong, events), so thousands of sockets cost a few percent of a core. Its
CPU time is measured over the window in each process and printed, so a reader can see it was not
the bottleneck. Prints ``figure: <name> = <value> (<unit>) [reference: ...]`` lines.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

TARGET_P99_MS = 250
GRACE_S = 5.0  # listening goes on this long after the window: a tick later than that is lost


# -- one load-generator process ----------------------------------------------------------------
class Socket:
    """One Engine.IO 4 / Socket.IO 5 connection over a raw WebSocket (wsproto), listen-only."""

    def __init__(
        self, host: str, port: int, records: list[tuple[int, str, float]], deflate: bool
    ) -> None:
        self.host, self.port, self.records, self.deflate = host, port, records, deflate
        self.connected = asyncio.Event()
        self.measuring = False

    async def run(self, stop: asyncio.Event) -> None:
        from wsproto import ConnectionType, WSConnection
        from wsproto.events import (
            AcceptConnection,
            CloseConnection,
            Ping,
            RejectConnection,
            Request,
            TextMessage,
        )
        from wsproto.extensions import PerMessageDeflate

        reader, writer = await asyncio.open_connection(self.host, self.port)
        ws = WSConnection(ConnectionType.CLIENT)
        writer.write(
            ws.send(
                Request(
                    host=f"{self.host}:{self.port}",
                    target="/socket.io/?EIO=4&transport=websocket",
                    # as browsers do: the server may compress, per socket, if it accepts
                    extensions=[PerMessageDeflate()] if self.deflate else [],
                )
            )
        )
        parts: list[str] = []
        try:
            while not stop.is_set():
                data = await reader.read(65536)
                received = time.time()
                if not data:
                    return
                ws.receive_data(data)
                for event in ws.events():
                    if isinstance(event, TextMessage):
                        parts.append(event.data)
                        if not event.message_finished:
                            continue
                        text, parts = "".join(parts), []
                        reply = self.on_text(text, received)
                        if reply:
                            writer.write(ws.send(TextMessage(data=reply)))
                    elif isinstance(event, Ping):
                        writer.write(ws.send(event.response()))
                    elif isinstance(event, (CloseConnection, RejectConnection)):
                        return
                    elif isinstance(event, AcceptConnection):
                        pass
        finally:
            writer.close()

    def on_text(self, text: str, received: float) -> str | None:
        kind = text[:1]
        if kind == "0":  # Engine.IO open: join the default namespace, anonymously
            return "40"
        if kind == "2":  # Engine.IO ping
            return "3"
        if text.startswith("40"):
            self.connected.set()
        elif text.startswith('42["prices"') and self.measuring:
            _name, message = json.loads(text[2:])
            self.records.append((message["tick_seq"], message["t"], received))
        return None


class FastSocket(Socket):
    """The same client with a hand-written frame reader: far less CPU per message than wsproto.

    It still offers permessage-deflate as a browser does, and stops with an error if the server
    accepts it (it cannot inflate): use ``--client wsproto`` to measure a compressing server.
    """

    async def run(self, stop: asyncio.Event) -> None:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        key = base64.b64encode(os.urandom(16)).decode()
        offer = "Sec-WebSocket-Extensions: permessage-deflate\r\n" if self.deflate else ""
        writer.write(
            (
                "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                f"Host: {self.host}:{self.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{offer}\r\n"
            ).encode()
        )
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        if not head.startswith("HTTP/1.1 101"):
            raise RuntimeError(f"upgrade refused: {head.splitlines()[0]}")
        if "sec-websocket-extensions" in head.lower():
            raise RuntimeError("the server compresses messages: measure it with --client wsproto")
        buf = bytearray()
        parts: list[bytes] = []
        try:
            while not stop.is_set():
                data = await reader.read(65536)
                received = time.time()
                if not data:
                    return
                buf += data
                while len(buf) >= 2:
                    size, start = buf[1] & 0x7F, 2
                    if size == 126:
                        size, start = int.from_bytes(buf[2:4], "big"), 4
                    elif size == 127:
                        size, start = int.from_bytes(buf[2:10], "big"), 10
                    if len(buf) < start + size:
                        break
                    fin, opcode = buf[0] & 0x80, buf[0] & 0x0F
                    payload = bytes(buf[start : start + size])
                    del buf[: start + size]
                    if opcode in (0, 1):  # text, or the continuation of one
                        parts.append(payload)
                        if fin:
                            text, parts = b"".join(parts).decode(), []
                            reply = self.on_text(text, received)
                            if reply:
                                writer.write(client_frame(1, reply.encode()))
                    elif opcode == 9:  # WebSocket ping
                        writer.write(client_frame(10, payload))
                    elif opcode == 8:  # close
                        return
        finally:
            writer.close()


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A short client-to-server frame: final and masked (RFC 6455: clients mask)."""
    assert len(payload) < 126
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked


async def generate(url: str, clients: int, deflate: bool, client: str) -> None:
    """Connect, report, measure when told, report. Talks to the parent over stdin/stdout."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    records: list[tuple[int, str, float]] = []
    stop = asyncio.Event()
    kind = FastSocket if client == "fast" else Socket
    sockets = [kind(host, port, records, deflate) for _ in range(clients)]
    gate = asyncio.Semaphore(32)  # connections being opened at once
    failures = 0

    async def connect(sock: Socket) -> None:
        nonlocal failures
        async with gate:
            task = asyncio.ensure_future(sock.run(stop))
            joined = asyncio.ensure_future(sock.connected.wait())
            # connected, or the connection failed (refused, upgrade refused), or 30 s passed
            await asyncio.wait({task, joined}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
            if not sock.connected.is_set():
                failures += 1
                joined.cancel()
                task.cancel()
                if task.done() and not task.cancelled() and task.exception() is not None:
                    print(f"fanout: a socket failed: {task.exception()}", file=sys.stderr)
                return
        tasks.append(task)

    tasks: list[asyncio.Task[None]] = []
    await asyncio.gather(*(connect(s) for s in sockets))
    print(json.dumps({"connected": clients - failures, "failed": failures}), flush=True)
    loop = asyncio.get_running_loop()
    line = await loop.run_in_executor(None, sys.stdin.readline)
    seconds = float(line.split()[1])
    for sock in sockets:
        sock.measuring = True
    before = resource.getrusage(resource.RUSAGE_SELF)
    await asyncio.sleep(seconds + GRACE_S)
    after = resource.getrusage(resource.RUSAGE_SELF)
    for sock in sockets:
        sock.measuring = False
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    alive = sum(1 for t in tasks if not t.done())
    print(json.dumps({"records": records, "cpu_s": cpu, "alive": alive}), flush=True)
    stop.set()
    for task in tasks:
        task.cancel()


# -- the parent ---------------------------------------------------------------------------------
def cpu_of(pids: list[int]) -> float:
    """User + system CPU seconds so far of the given processes (Linux /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def parse_t(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def percentile(sorted_ms: list[float], q: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, int(q * len(sorted_ms)))]


def figure(name: str, value: object, unit: str, reference: str = "") -> None:
    ref = f" [reference: {reference}]" if reference else ""
    print(f"figure: {name} = {value} ({unit}){ref}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    parser.add_argument("--database-url", default=None, help="accepted for the common CLI; unused")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--clients", type=int, default=None)
    parser.add_argument("--processes", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--no-deflate", action="store_true",
                        help="do not offer permessage-deflate (browsers offer it)")  # fmt: skip
    parser.add_argument("--server-pids", default="",
                        help="comma-separated web worker pids: their CPU per delivery is printed")  # fmt: skip
    parser.add_argument("--client", choices=["fast", "wsproto"], default="fast",
                        help="frame reader: hand-written (cheap), or wsproto (can inflate)")  # fmt: skip
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        asyncio.run(generate(args.url, args.child, not args.no_deflate, args.client))
        return 0

    clients = args.clients or (40 if args.smoke else 5000)
    processes = args.processes or (2 if args.smoke else max(4, os.cpu_count() or 1))
    seconds = args.seconds or (4.0 if args.smoke else 20.0)
    shares = [
        clients // processes + (1 if i < clients % processes else 0) for i in range(processes)
    ]
    started = time.monotonic()
    children = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--url",
                args.url,
                "--child",
                str(n),
                "--client",
                args.client,
                *(["--no-deflate"] if args.no_deflate else []),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in shares
        if n
    ]
    try:
        hello = [json.loads(c.stdout.readline() or "{}") for c in children]  # type: ignore[union-attr]
        connected = sum(h.get("connected", 0) for h in hello)
        ramp = time.monotonic() - started
        print(f"fanout: {connected}/{clients} sockets connected in {ramp:.1f} s "
              f"by {len(children)} load-generator processes on this machine", flush=True)  # fmt: skip
        server_pids = [int(p) for p in args.server_pids.split(",") if p]
        server_before = cpu_of(server_pids)
        window_start = time.time()
        for c in children:
            c.stdin.write(f"measure {seconds}\n")  # type: ignore[union-attr]
            c.stdin.flush()  # type: ignore[union-attr]
        window_end = window_start + seconds
        results = [json.loads(c.stdout.readline() or "{}") for c in children]  # type: ignore[union-attr]
        server_cpu = cpu_of(server_pids) - server_before
    finally:
        for c in children:
            try:
                c.wait(15)
            except subprocess.TimeoutExpired:
                c.kill()
                c.wait()
    alive = sum(r.get("alive", 0) for r in results)
    cpu = sum(r.get("cpu_s", 0.0) for r in results)
    judged: dict[int, int] = {}
    delays: list[float] = []
    per_tick: dict[int, list[float]] = {}  # seq -> delays: the first receipt vs the spread
    for r in results:
        for seq, stamp, received in r.get("records", []):
            t = parse_t(stamp)
            if window_start + 0.5 <= t <= window_end:
                judged[seq] = judged.get(seq, 0) + 1
                delays.append((received - t) * 1000)
                per_tick.setdefault(seq, []).append(delays[-1])
    expected = connected * len(judged)
    delivered = sum(judged.values())
    ok = connected == clients and alive == connected and judged and delivered == expected
    if delays:
        ms = sorted(delays)
        print(f"fanout: {len(judged)} ticks judged x {connected} sockets; "
              f"{delivered}/{expected} deliveries", flush=True)  # fmt: skip
        figure("fanout_sockets", connected, "listening sockets", f"{clients} asked")
        figure("fanout_p50", f"{percentile(ms, 0.50):.1f}", "ms, tick t to receipt")
        figure("fanout_p99", f"{percentile(ms, 0.99):.1f}", "ms, tick t to receipt",
               f"target <= {TARGET_P99_MS} ms at 5,000 sockets")  # fmt: skip
        figure("fanout_max", f"{ms[-1]:.1f}", "ms")
        # before the first socket: the engine, Redis, a worker's wake-up; after it: the fan-out
        first = sorted(min(d) for d in per_tick.values())
        spread = sorted(max(d) - min(d) for d in per_tick.values())
        figure("fanout_first_receipt_p50", f"{percentile(first, 0.5):.1f}", "ms, tick t to the "
               "first socket", f"worst tick {first[-1]:.1f} ms")  # fmt: skip
        figure("fanout_spread_p50", f"{percentile(spread, 0.5):.1f}", "ms, first to last socket "
               "of one tick", f"worst tick {spread[-1]:.1f} ms")  # fmt: skip
    figure("fanout_delivered", f"{100 * delivered / expected:.2f}" if expected else "0", "%",
           "every judged tick to every socket")  # fmt: skip
    listened = seconds + GRACE_S
    figure("fanout_loadgen_cpu", f"{100 * cpu / listened:.1f}",
           "% of one core while listening",
           f"{len(children)} processes on this machine; {cpu:.2f} s CPU in {listened:.0f} s")  # fmt: skip
    if server_pids and delivered:
        figure("fanout_server_cpu_per_delivery", f"{1e6 * server_cpu / delivered:.0f}",
               "us of web-worker CPU per tick per socket",
               f"{len(server_pids)} workers: {server_cpu:.2f} s CPU while listening")  # fmt: skip
    if not ok:
        print(f"fanout: FAILED: {clients - connected} never connected, {connected - alive} dropped, "
              f"{expected - delivered} deliveries missing", flush=True)  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
