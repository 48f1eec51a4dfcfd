"""Story-sized helpers: an asset with chosen parameters, a player, a trade."""

from __future__ import annotations

import itertools
import threading
from decimal import Decimal

from martingale import accounts, trading
from martingale.asset_manager import Draw, create_asset
from martingale.game import Game
from martingale.models import Asset
from martingale.money import PRICE_SCALE
from martingale.transaction_utils import run_in_transaction

_keys = itertools.count()


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


def new_player(game: Game, name: str = "alice") -> int:
    return accounts.create_player(game, name)


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
    return results
