"""Trading load that survives faults, and a record of every answer the clients were given.

A trader thread sends market orders, each with a fresh Idempotency-Key, and retries an order whose
answer it did not get (a reset connection, a timeout, a 5xx, a dropped socket) with the SAME key
until it gets one. Every acknowledgement (201, or 200 replayed) and every refusal (4xx) is kept per
key, so the books can be checked against what the clients were told.
"""

from __future__ import annotations

import contextlib
import itertools
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
import socketio

from martingale import errors, market, trading
from martingale.game import Game

API = "/api/v1"


@dataclass
class Answer:
    """What one attempt of an order came to."""

    kind: str  # "created" (201), "replayed" (200), "refused" (4xx) or "failed" (no answer)
    trade_id: int | None = None
    detail: str = ""


@dataclass
class Order:
    player_id: int
    key: str
    attempts: list[Answer] = field(default_factory=list)
    in_flight: bool = False  # an attempt has been sent and its answer has not arrived

    @property
    def final(self) -> Answer | None:
        last = self.attempts[-1] if self.attempts else None
        return last if last is not None and last.kind != "failed" else None

    @property
    def acknowledged(self) -> Answer | None:
        final = self.final
        return final if final is not None and final.kind in ("created", "replayed") else None


Attempt = Callable[[int, str, str, str, str], Answer]  # player, key, symbol, side, quantity


class Traders:
    """``count`` threads trading through ``attempt`` for the players given, until ``stop``."""

    def __init__(
        self,
        players: list[int],
        attempt: Attempt,
        symbols: Callable[[], list[str]],
        *,
        name: str = "t",
        pause_s: float = 0.02,
        retry_for_s: float = 40.0,
    ) -> None:
        self.players, self.attempt, self.symbols = players, attempt, symbols
        self.name, self.pause_s, self.retry_for_s = name, pause_s, retry_for_s
        self.orders: list[Order] = []
        self.unexpected: list[BaseException] = []
        self._stop = threading.Event()
        self._go = threading.Event()
        self._go.set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self) -> Traders:
        for player in self.players:
            thread = threading.Thread(target=self._run, args=(player,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def pause(self) -> None:
        """Send no new order (those in flight finish) until ``resume``."""
        self._go.clear()

    def resume(self) -> None:
        self._go.set()

    def halt(self) -> None:
        """Stop at once, retries and all (a failed test's cleanup)."""
        self.retry_for_s = 0.0
        self._stop.set()
        self._go.set()

    def stop(self) -> None:
        """Stop sending new orders; orders still unanswered keep retrying for ``retry_for_s``."""
        self._stop.set()
        self._go.set()
        for thread in self._threads:
            thread.join(self.retry_for_s + 30)
        assert not any(t.is_alive() for t in self._threads), "a trader is still running"
        assert not self.unexpected, f"a trader crashed: {self.unexpected!r}"

    def _run(self, player: int) -> None:
        rng = random.Random(player)
        try:
            for n in itertools.count():
                while not self._go.wait(0.05):
                    if self._stop.is_set():
                        return
                if self._stop.is_set():
                    return
                symbols = self.symbols()
                if not symbols:
                    time.sleep(0.2)
                    continue
                order = Order(player, f"{self.name}-{player}-{n}")
                with self._lock:
                    self.orders.append(order)
                side = "buy" if rng.random() < 0.7 else "sell"
                self._until_answered(order, rng.choice(symbols), side, rng.choice(("1", "0.5")))
                time.sleep(self.pause_s)
        except BaseException as exc:  # reported by stop(), never lost in a thread
            self.unexpected.append(exc)

    def _until_answered(self, order: Order, symbol: str, side: str, quantity: str) -> None:
        give_up = None
        delay = 0.05
        while True:
            order.in_flight = True
            answer = self.attempt(order.player_id, order.key, symbol, side, quantity)
            order.attempts.append(answer)
            order.in_flight = False
            if answer.kind != "failed":
                return
            if self._stop.is_set():
                give_up = give_up or time.monotonic() + self.retry_for_s
                if time.monotonic() > give_up:
                    return
            time.sleep(delay)
            delay = min(1.0, delay * 2)

    # -- what happened -------------------------------------------------------------------------
    def acknowledged(self) -> dict[tuple[int, str], int]:
        """(player, key) -> trade id, for every order the clients were told went through."""
        return {
            (o.player_id, o.key): ack.trade_id
            for o in self.orders
            if (ack := o.acknowledged) is not None and ack.trade_id is not None
        }

    def refused(self) -> set[tuple[int, str]]:
        return {
            (o.player_id, o.key)
            for o in self.orders
            if o.final is not None and o.final.kind == "refused"
        }

    def attempted(self) -> set[tuple[int, str]]:
        return {(o.player_id, o.key) for o in self.orders}

    def in_flight(self) -> dict[tuple[int, str], Order]:
        return {(o.player_id, o.key): o for o in list(self.orders) if o.in_flight}

    def unanswered(self) -> list[Order]:
        return [o for o in self.orders if o.final is None]

    def lost_replies_replayed(self) -> int:
        """Orders that ran but whose reply was lost, answered by the retry as a replay."""
        return sum(
            1
            for o in self.orders
            if o.acknowledged is not None
            and o.acknowledged.kind == "replayed"
            and any(a.kind == "failed" for a in o.attempts)
        )

    def failures(self) -> int:
        return sum(1 for o in self.orders for a in o.attempts if a.kind == "failed")

    def acknowledged_between(self, start: float, end: float) -> int:
        return sum(1 for t in self.ack_times if start <= t <= end)

    @property
    def ack_times(self) -> list[float]:
        return [a.at for o in self.orders for a in o.attempts if isinstance(a, TimedAnswer)]


@dataclass
class TimedAnswer(Answer):
    """An acknowledgement stamped with the monotonic time it arrived."""

    at: float = 0.0


# -- the channels ----------------------------------------------------------------------------------
def service_attempt(game: Game) -> Attempt:
    """Orders straight through the trade service (no web tier), as the engine tests need."""

    def attempt(player: int, key: str, symbol: str, side: str, quantity: str) -> Answer:
        try:
            result = trading.execute_trade(
                game, player_id=player, symbol=symbol, side=side, quantity=quantity,
                idempotency_key=key,
            )  # fmt: skip
        except errors.MartingaleError as exc:
            return Answer("refused", detail=exc.code)
        except Exception as exc:
            return Answer("failed", detail=repr(exc)[:200])
        kind = "replayed" if result.replayed else "created"
        return TimedAnswer(kind, result.id, at=time.monotonic())

    return attempt


def service_symbols(game: Game) -> Callable[[], list[str]]:
    def symbols() -> list[str]:
        try:
            return [q.symbol for q in market.live_quotes(game)]
        except Exception:
            return []

    return symbols


class Http:
    """A player's REST client: one keep-alive session per thread."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.tokens: dict[int, str] = {}
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self.server_errors: list[tuple[float, str]] = []  # (monotonic time, what), any request

    def session(self) -> requests.Session:
        if getattr(self._local, "session", None) is None:
            self._local.session = requests.Session()
            self._sessions.append(self._local.session)
        return self._local.session

    def close(self) -> None:
        for session in self._sessions:
            session.close()

    def register(self, name: str) -> tuple[int, str]:
        reply = requests.post(
            f"{self.url}{API}/auth/register",
            json={"username": name, "password": "Quartz-Lantern-31"},
            timeout=30,
        )
        assert reply.status_code == 201, reply.text
        body = reply.json()
        self.tokens[body["user"]["id"]] = body["access_token"]
        return body["user"]["id"], body["access_token"]

    def attempt(self, player: int, key: str, symbol: str, side: str, quantity: str) -> Answer:
        try:
            reply = self.session().post(
                f"{self.url}{API}/trades",
                json={"symbol": symbol, "side": side, "quantity": quantity},
                headers={"Authorization": f"Bearer {self.tokens[player]}", "Idempotency-Key": key},
                timeout=15,
            )
        except requests.RequestException as exc:
            self._local.session.close()  # a fresh connection for the retry
            self._local.session = None
            return Answer("failed", detail=type(exc).__name__)
        if reply.status_code in (200, 201):
            body = reply.json()
            replayed = reply.headers.get("Idempotent-Replayed") == "true"
            assert (reply.status_code == 200) == replayed, reply.headers
            kind = "replayed" if replayed else "created"
            return TimedAnswer(kind, body["trade"]["id"], at=time.monotonic())
        if 400 <= reply.status_code < 500:
            return Answer("refused", detail=f"{reply.status_code} {reply.text[:120]}")
        self.server_errors.append((time.monotonic(), f"trade: {reply.status_code}"))
        return Answer("failed", detail=f"{reply.status_code} {reply.text[:120]}")

    def symbols(self) -> Callable[[], list[str]]:
        """Live symbols, refreshed at most every half second (shared by the threads)."""
        cache: dict[str, Any] = {"at": 0.0, "symbols": []}

        def symbols() -> list[str]:
            if time.monotonic() - cache["at"] > 0.5:
                try:
                    reply = requests.get(f"{self.url}{API}/assets", timeout=5)
                    if reply.status_code >= 500:
                        self.server_errors.append(
                            (time.monotonic(), f"assets: {reply.status_code}")
                        )
                    if reply.status_code == 200:
                        cache["symbols"] = [a["symbol"] for a in reply.json()["assets"]]
                        cache["at"] = time.monotonic()
                except requests.RequestException:
                    pass
            return list(cache["symbols"])

        return symbols


class Listener:
    """A Socket.IO client that reconnects by itself and notes each connection and price message."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url, self.token = url, token
        self.sio = socketio.Client(
            reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1.0
        )
        self.connects: list[float] = []
        self.disconnects: list[float] = []
        self.prices: list[tuple[float, int]] = []  # (monotonic time, tick_seq)
        self.sio.on("connect", lambda: self.connects.append(time.monotonic()))
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("prices", lambda body: self.prices.append((time.monotonic(), body["tick_seq"])))

    def connect(self) -> Listener:
        auth = {"token": self.token} if self.token else None
        self.sio.connect(self.url, auth=auth, transports=["websocket"], wait_timeout=20)
        return self

    def _on_disconnect(self, *_: object) -> None:
        self.disconnects.append(time.monotonic())
        # python-engineio leaves the socket of a WebSocket that broke open (a ResourceWarning);
        # it is dead either way, so close it here, before the client reconnects on a new one
        with contextlib.suppress(Exception):
            self.sio.eio.ws.shutdown()

    def local_port(self) -> int:
        """The client's end of its WebSocket (to find the worker serving it)."""
        return int(self.sio.eio.ws.sock.getsockname()[1])

    def prices_after(self, moment: float) -> list[int]:
        return [seq for at, seq in self.prices if at > moment]

    def close(self) -> None:
        self.sio.disconnect()

    def attempt(self, player: int, key: str, symbol: str, side: str, quantity: str) -> Answer:
        """A trade by acknowledgement; no answer (dropped socket, timeout) is a failed attempt."""
        order = {"symbol": symbol, "side": side, "quantity": quantity, "idempotency_key": key}
        try:
            reply = self.sio.call("trade", order, timeout=10)
        except Exception as exc:  # not connected, or no acknowledgement in time
            time.sleep(0.2)
            return Answer("failed", detail=type(exc).__name__)
        if "error" in reply:
            code = reply["error"]["code"]
            if code == "internal_error":
                return Answer("failed", detail=code)
            return Answer("refused", detail=code)
        kind = "replayed" if reply.get("replayed") else "created"
        return TimedAnswer(kind, reply["trade"]["id"], at=time.monotonic())
