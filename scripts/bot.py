"""A bot that plays Martingale over HTTP and Socket.IO only, and checks the house's proofs.

    .venv/bin/python scripts/bot.py --url http://127.0.0.1:5000 [--timeout 900]

It registers, watches the price ticks (filling any gap from the history endpoint), buys the asset
closest to expiry twice (once over Socket.IO, once over REST, each with its own idempotency key,
and replays one to show it is not executed twice), waits for its position to settle, then fetches
the asset's proof and recomputes every published price and the settlement from the revealed seed.
"""

from __future__ import annotations

import argparse
import hashlib
import secrets
import sys
import threading
import time
from decimal import Decimal

import requests
import socketio

from martingale.money import PRICE_SCALE
from martingale.price_path import PathParams, PricePath

MIN_SECONDS_LEFT = 4  # enough for the socket trade, its replay and the REST trade on a busy box


class Bot:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.http = requests.Session()
        self.sio = socketio.Client(reconnection=True)
        self.ticks = 0
        self.gaps = 0
        self.last_seq: int | None = None
        self.settled = threading.Event()
        self.settlements: list[dict] = []

    def api(self, method: str, path: str, **kwargs) -> dict:
        reply = self.http.request(method, f"{self.url}/api/v1{path}", timeout=30, **kwargs)
        body = reply.json()
        if reply.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {reply.status_code} {body}")
        return body

    def register(self) -> None:
        name = f"bot_{secrets.token_hex(4)}"
        login = self.api(
            "POST", "/auth/register", json={"username": name, "password": secrets.token_urlsafe(12)}
        )
        self.token = login["access_token"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"
        print(f"registered {name}; cash {self.api('GET', '/portfolio')['cash']}")

    def on_prices(self, message: dict) -> None:
        seq = message["tick_seq"]
        if self.last_seq is not None and seq != self.last_seq + 1:
            self.gaps += 1  # a missed tick: its points are in the history endpoint
        self.last_seq = seq
        self.ticks += 1

    def on_settlement(self, message: dict) -> None:
        self.settlements.append(message)
        print(f"settlement: {message.get('count')} position(s) settled for ${message.get('value')}")
        self.settled.set()

    def connect(self) -> None:
        self.sio.on("prices", self.on_prices)
        self.sio.on("settlement", self.on_settlement)
        self.sio.connect(self.url, auth={"token": self.token}, transports=["websocket"])

    def trade_socket(self, symbol: str, quantity: str, key: str) -> dict:
        reply = self.sio.call("trade", {"symbol": symbol, "side": "buy", "quantity": quantity,
                                        "idempotency_key": key}, timeout=30)  # fmt: skip
        if "error" in reply:
            raise RuntimeError(f"socket trade refused: {reply['error']}")
        return reply

    def trade_rest(self, symbol: str, quantity: str, key: str) -> dict:
        return self.api("POST", "/trades", json={"symbol": symbol, "side": "buy", "quantity": quantity},
                        headers={"Idempotency-Key": key})  # fmt: skip

    def verify(self, asset_id: int) -> bool:
        proof = self.api("GET", f"/assets/{asset_id}/proof")
        seed = bytes.fromhex(proof["seed"])
        ok = hashlib.sha256(seed).hexdigest() == proof["seed_commitment"]
        path = PricePath(PathParams(seed, int(Decimal(proof["initial_price"]) * PRICE_SCALE),
                                    Decimal(proof["drift"]), Decimal(proof["volatility"])))  # fmt: skip
        points = self.api("GET", f"/assets/{asset_id}/history", params={"limit": 2000})["points"]
        bad = [p for p in points if int(Decimal(p["price"]) * PRICE_SCALE) != path.price(p["tick"])]
        final = int(Decimal(proof["settlement_price"]) * PRICE_SCALE) == path.price(
            proof["settlement_tick"]
        )
        print(f"proof of {proof['symbol']} (id {asset_id}): commitment {'ok' if ok else 'MISMATCH'}, "
              f"{len(points) - len(bad)}/{len(points)} ticks recomputed, settlement "
              f"{'ok' if final else 'MISMATCH'}")  # fmt: skip
        return ok and not bad and final

    def soonest_tradeable(self, timeout: float) -> dict:
        """The live asset closest to expiry that still has time for three trades. A server just
        started may not have filled its pool yet, and the soonest asset may expire mid-way."""
        deadline = time.monotonic() + timeout
        while True:
            assets = [a for a in self.api("GET", "/assets")["assets"]
                      if a["seconds_to_expiry"] >= MIN_SECONDS_LEFT]  # fmt: skip
            if assets:
                return min(assets, key=lambda a: a["seconds_to_expiry"])
            if time.monotonic() > deadline:
                raise RuntimeError(f"no asset with {MIN_SECONDS_LEFT} s left within {timeout} s")
            time.sleep(0.5)

    def play(self, timeout: float) -> int:
        self.register()
        self.connect()
        target = self.soonest_tradeable(timeout)
        print(
            f"buying {target['symbol']} at {target['price']}, expires in {target['seconds_to_expiry']:.0f} s"
        )
        key = secrets.token_hex(8)
        first = self.trade_socket(target["symbol"], "1", key)
        again = self.trade_socket(target["symbol"], "1", key)
        print(f"socket trade {first['trade']['id']} at {first['trade']['price']}; replay returned "
              f"trade {again['trade']['id']} (replayed={again.get('replayed')})")  # fmt: skip
        rest = self.trade_rest(target["symbol"], "0.5", secrets.token_hex(8))
        print(f"REST trade {rest['trade']['id']} for ${rest['trade']['total']}")
        if not self.settled.wait(timeout):
            print("no settlement within the timeout")
            return 1
        time.sleep(0.5)
        print(f"watched {self.ticks} ticks ({self.gaps} gaps filled from history)")
        settlement = self.api("GET", "/settlements")["settlements"][0]
        ok = self.verify(settlement["asset_id"])
        self.sio.disconnect()
        return 0 if ok else 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    parser.add_argument(
        "--timeout", type=float, default=1900, help="seconds to wait for settlement"
    )
    args = parser.parse_args()
    sys.exit(Bot(args.url).play(args.timeout))


if __name__ == "__main__":
    main()
