"""Story-sized helpers: the test configuration, an asset, a player, a trade, raw SQL, a race."""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from flask import Flask
from sqlalchemy import text
from werkzeug.serving import make_server

from martingale import accounts, trading
from martingale.asset_manager import Draw, create_asset
from martingale.clock import ManualClock
from martingale.config import load_config
from martingale.game import Game
from martingale.models import Asset
from martingale.money import PRICE_SCALE
from martingale.transaction_utils import run_in_transaction

_keys = itertools.count()

# Short lifetimes through configuration, never by patching code.
TEST_ENV = {
    "SECRET_KEY": "test",
    "INITIAL_CASH": "100000",
    "MARTINGALE_POOL_SIZE": "4",
    "MARTINGALE_TICK_SECONDS": "1",
    "MARTINGALE_LIFETIME_MIN_SECONDS": "30",
    "MARTINGALE_LIFETIME_MAX_SECONDS": "120",
    "MARTINGALE_LIFETIME_MEAN_SECONDS": "60",
    "MARTINGALE_WORTHLESS_PRICE": "0.01",
    # real scrypt, cheaper parameters: tests register hundreds of accounts
    "MARTINGALE_PASSWORD_HASH": "scrypt:1024:8:1",
}


def make_config(url: str, **overrides: object) -> dict[str, object]:
    """The test configuration on the database at ``url``, with a clock of its own."""
    env = dict(TEST_ENV, DATABASE_URL=url)
    return load_config(env, TESTING=True, MARTINGALE_CLOCK=ManualClock(), **overrides)


def csrf_from(html: str) -> str:
    """The CSRF token a page carries, in its form or its meta tag."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html
    )
    assert match, html[:500]
    return match.group(1)


def register_by_form(client, name: str, password: str = "Quartz-Lantern-31"):
    """Register through the /register form, as a browser does; the client keeps the cookie."""
    page = client.get("/register").get_data(as_text=True)
    return client.post(
        "/register",
        data={"csrf_token": csrf_from(page), "username": name, "password": password,
              "password2": password},
    )  # fmt: skip


def execute(game: Game, sql: str, **params: object) -> list[tuple]:
    """Raw SQL in a transaction of its own: the rows it returns, if any."""
    with game.database.begin() as conn:
        result = conn.execute(text(sql), params)
        return [tuple(r) for r in result.all()] if result.returns_rows else []


def new_asset(
    game: Game,
    *,
    drift: str = "0",
    volatility: str = "0.01",
    initial: str = "100",
    lifetime_s: str = "60",
) -> Asset:
    draw = Draw(
        drift=Decimal(drift),
        volatility=Decimal(volatility),
        initial_price=int(Decimal(initial) * PRICE_SCALE),
        lifetime_s=Decimal(lifetime_s),
    )
    return run_in_transaction(
        game.database, lambda s: create_asset(s, game, game.clock.now(), draw=draw)
    )


def new_player(game: Game, name: str = "alice", display_name: str | None = None) -> int:
    """A player who cannot log in; ``display_name`` None gets a generated one."""
    return accounts.create_player(game, name, display_name=display_name)


def trade(game: Game, player: int, side: str, symbol: str, quantity: str, key: str | None = None):
    return trading.execute_trade(
        game, player_id=player, side=side, symbol=symbol, quantity=quantity,
        idempotency_key=key or f"k{next(_keys)}",
    )  # fmt: skip


def race(n, work):
    """Run ``work(i)`` in n threads released together; return results or exceptions."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    # a thread still running would leave None behind, which reads like a result
    assert not any(t.is_alive() for t in threads), "a racer was still running after 120 s"
    return results


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """The app behind a real threaded HTTP server on 127.0.0.1 (WebSockets included): its URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
