"""A simulated market: bot players trade through the real services on an injected clock.

The engine steps once per simulated tick, so an hour of game time (several generations of assets,
expiries, worthless endings and settlements) runs in seconds. Bots buy, sell, sell everything,
retry with the same idempotency key, and sometimes ask for more than they have; afterwards the books
must reconcile.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import func, select

from . import accounts, create_app, market, trading
from .clock import ManualClock
from .config import load_config, normalize_database_url
from .engine import MarketEngine
from .errors import MartingaleError
from .game import Game, game_of
from .models import Settlement
from .money import PRICE_SCALE, QTY_SCALE, USD_SCALE, usd
from .portfolio import portfolio
from .reconcile import format_report, reconcile
from .transaction_utils import read

TRADE_PROBABILITY = 0.02  # per bot per simulated second


@dataclass
class SimulationReport:
    players: int
    minutes: int
    wall_seconds: float = 0.0
    steps: int = 0
    born: int = 0
    settled_assets: int = 0
    worthless: int = 0
    settlements: int = 0
    settled_value: int = 0
    trades: int = 0
    replays: int = 0
    refusals: Counter[str] = field(default_factory=Counter)
    reconciled: bool = False
    reconcile_report: str = ""

    def summary(self) -> str:
        refusals = ", ".join(f"{k} {v}" for k, v in sorted(self.refusals.items())) or "none"
        return "\n".join(
            [
                f"simulated {self.minutes} min with {self.players} bots in {self.wall_seconds:.1f} s"
                f" of wall time ({self.steps} engine steps)",
                f"assets born {self.born}, settled {self.settled_assets}"
                f" ({self.worthless} worthless); {self.settlements} holdings settled"
                f" for ${usd(self.settled_value)}",
                f"trades {self.trades}, idempotent replays {self.replays}, refusals: {refusals}",
                self.reconcile_report,
                "reconcile: OK" if self.reconciled else "reconcile: FAILED",
            ]
        )


def simulate(
    *, players: int, minutes: int, seed: int | None = None, database_url: str | None = None
) -> SimulationReport:
    with tempfile.TemporaryDirectory(prefix="martingale-sim-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'simulation.db'}"
        clock = ManualClock()
        overrides = _overrides(url, clock)
        if database_url is None:  # a throwaway file: skip the fsync per commit
            overrides["MARTINGALE_SQLITE_SYNCHRONOUS"] = "NORMAL"
        app = create_app(load_config() | overrides)
        with app.app_context():
            upgrade()
            game = game_of(app)
            return _run(game, clock, players, minutes, random.Random(seed))


def _overrides(url: str, clock: ManualClock) -> dict[str, object]:
    return {"SQLALCHEMY_DATABASE_URI": normalize_database_url(url), "MARTINGALE_CLOCK": clock}


def _run(
    game: Game, clock: ManualClock, players: int, minutes: int, rng: random.Random
) -> SimulationReport:
    report = SimulationReport(players=players, minutes=minutes)
    started = time.perf_counter()
    bots = [accounts.create_player(game, f"bot_{i:03d}") for i in range(players)]
    engine = MarketEngine(game)
    tick_s = game.settings.tick_us / 1_000_000
    steps = int(minutes * 60 / tick_s)
    for _ in range(steps):
        clock.advance(tick_s)
        step = engine.step()
        report.steps += 1
        report.born += len(step.born)
        for s in step.settled:
            report.settled_assets += 1
            report.worthless += s.worthless
        active = [b for b in bots if rng.random() < TRADE_PROBABILITY]
        if not active:
            continue
        quotes = market.live_quotes(game)
        for bot in active:
            _bot_turn(game, bot, quotes, rng, report)
    settlements, settled_value = read(
        game.database,
        lambda s: s.execute(
            select(func.count(), func.coalesce(func.sum(Settlement.value), 0))
        ).one(),
    )
    # PostgreSQL's SUM over bigint is numeric: back to integer atoms before any formatting
    report.settlements, report.settled_value = int(settlements), int(settled_value)
    checks = reconcile(game.database)
    report.reconciled = all(c.ok for c in checks)
    report.reconcile_report = format_report(checks)
    report.wall_seconds = time.perf_counter() - started
    return report


def _bot_turn(
    game: Game, bot: int, quotes: list[market.Quote], rng: random.Random, report: SimulationReport
) -> None:
    view = portfolio(game, bot)
    roll = rng.random()
    if view.positions and roll < 0.4:
        pos = rng.choice(view.positions)
        fraction = Decimal(1) if rng.random() < 0.3 else Decimal(str(rng.uniform(0.1, 0.9)))
        units = (Decimal(pos.quantity) * fraction / QTY_SCALE).quantize(Decimal("1e-8"), ROUND_DOWN)
        order = ("sell", pos.symbol, max(units, Decimal("1e-8")))
    elif quotes:
        quote = rng.choice(quotes)
        # sometimes more than the bot can afford: the refusal path must be exact too
        budget = (
            Decimal(view.cash)
            / USD_SCALE
            * Decimal(str(rng.uniform(0.01, 0.25 if roll < 0.97 else 2)))
        )
        units = (budget / (Decimal(quote.price) / PRICE_SCALE)).quantize(
            Decimal("1e-8"), ROUND_DOWN
        )
        order = ("buy", quote.symbol, max(units, Decimal("1e-8")))
    else:
        return
    key = f"sim-{rng.getrandbits(64):016x}"
    # positional notation: str() of a small Decimal is "1E-8", which the wire grammar refuses
    quantity = f"{order[2]:f}"
    for _attempt in range(2 if rng.random() < 0.05 else 1):
        try:
            result = trading.execute_trade(
                game, player_id=bot, side=order[0], symbol=order[1], quantity=quantity,
                idempotency_key=key,
            )  # fmt: skip
        except MartingaleError as exc:
            report.refusals[exc.code] += 1
            return
        if result.replayed:
            report.replays += 1
        else:
            report.trades += 1
