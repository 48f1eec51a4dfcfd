"""The market engine: one loop that persists ticks, settles finished assets and refills the pool.

Only one engine may be active per database. On PostgreSQL it holds a session-level advisory lock on
a connection it keeps open; on SQLite an exclusive ``flock`` on a file beside the database. Either is
released by the operating system or the server when the holder dies, so a waiting engine takes over.
A failing step is logged and retried on the next tick; nothing but ``stop()`` ends the loop.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.orm import Session

from . import asset_manager, leaderboard
from .asset_manager import TickState
from .clock import iso
from .game import Game
from .models import Asset, EngineBeat
from .money import price
from .settlement import SettlementReport, settle_asset
from .transaction_utils import read, run_in_transaction

log = logging.getLogger(__name__)
ADVISORY_KEY = 0x4D61727469  # "Marti"
STANDBY_POLL_S = 2.0


class LeaderLock(Protocol):
    def try_acquire(self) -> bool: ...
    def release(self) -> None: ...


class PostgresLeaderLock:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Connection | None = None

    def try_acquire(self) -> bool:
        conn = self._engine.connect()
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar()
        conn.commit()
        if got:
            self._conn = conn
            return True
        conn.close()
        return False

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                self._conn.commit()
            finally:
                self._conn.close()
                self._conn = None


class FileLeaderLock:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._file: IO[str] | None = None

    def try_acquire(self) -> bool:
        handle = self._path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def leader_lock_for(engine: Engine) -> LeaderLock:
    if engine.dialect.name == "postgresql":
        return PostgresLeaderLock(engine)
    database = engine.url.database or ""
    if database in ("", ":memory:"):
        raise ValueError("the engine needs a file-backed SQLite database")
    return FileLeaderLock(Path(database).with_name(Path(database).name + ".engine-lock"))


def is_ticking(game: Game) -> bool:
    """Whether some engine beat within the last three ticks (a database error propagates)."""
    beat = read(game.database, lambda session: session.get(EngineBeat, 1))
    window = timedelta(microseconds=3 * game.settings.tick_us)
    return beat is not None and game.clock.now() - beat.beat_at <= window


@dataclass
class StepReport:
    ticks: dict[int, tuple[int, int]] = field(default_factory=dict)
    settled: list[SettlementReport] = field(default_factory=list)
    born: list[int] = field(default_factory=list)


class MarketEngine:
    def __init__(self, game: Game, lock: LeaderLock | None = None) -> None:
        self.game = game
        self.lock = lock or leader_lock_for(game.database)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.tick_seq = 0
        self._symbols: dict[int, str] = {}  # asset id -> symbol of live assets (ids never reuse)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.is_leader = False
        self.ranker = leaderboard.Ranker(game)  # ranks after each step's prices, when due

    # -- one pass ---------------------------------------------------------------------------
    def step(self) -> StepReport:
        """Persist ticks, settle what has ended, refill the pool, beat. Publishes after commit."""
        game = self.game
        report = StepReport()

        def advance(session: Session) -> tuple[int, TickState, dict[int, str]]:
            # the beat count is the tick sequence: +1 per step, and it survives engine restarts
            seq = self._beat(session)
            state = asset_manager.persist_ticks(session, game)
            return seq, state, self._symbols_of(session, state.latest)

        seq, state, symbols = run_in_transaction(game.database, advance)
        report.ticks = state.latest
        for asset_id in state.due:
            settled = settle_asset(game, asset_id)
            if settled is not None:
                report.settled.append(settled)
                game.events.publish("asset_settled", settled.__dict__)
        if state.live - len(report.settled) < game.settings.pool_size:
            born = asset_manager.refill_pool(game)
            report.born = [a.id for a in born]
            for asset in born:
                self._symbols[asset.id] = asset.symbol
                game.events.publish("asset_born", {"asset_id": asset.id, "symbol": asset.symbol})
        self.tick_seq = seq
        gone = {s.asset_id for s in report.settled}
        game.events.publish(
            "prices",
            {
                "tick_seq": seq,
                "t": iso(game.clock.now()),
                "prices": {
                    symbols[aid]: price(p)
                    for aid, (_, p) in report.ticks.items()
                    if aid not in gone
                },
                # each asset's own tick index: a client that missed messages asks history for
                # exactly the ticks after the last one it holds
                "ticks": {
                    symbols[aid]: k for aid, (k, _) in report.ticks.items() if aid not in gone
                },
            },
        )
        self.ranker.after_step(seq, report.ticks)
        return report

    def _symbols_of(self, session: Session, latest: dict[int, tuple[int, int]]) -> dict[int, str]:
        """Symbols of the ticking assets: cached by id, one query for any not seen yet."""
        missing = [aid for aid in latest if aid not in self._symbols]
        if missing:
            rows = session.execute(select(Asset.id, Asset.symbol).where(Asset.id.in_(missing)))
            self._symbols.update({aid: symbol for aid, symbol in rows})
        self._symbols = {aid: self._symbols[aid] for aid in latest}
        return dict(self._symbols)

    def _beat(self, session: Session) -> int:
        """Record that this engine is alive; return the step's sequence number."""
        now = self.game.clock.now()
        beat = session.get(EngineBeat, 1)
        if beat is None:
            beat = EngineBeat(id=1, holder=self.holder, beat_at=now, ticks=1)
            session.add(beat)
        else:
            beat.holder, beat.beat_at, beat.ticks = self.holder, now, beat.ticks + 1
        return beat.ticks

    # -- the loop -----------------------------------------------------------------------------
    def run(self) -> None:
        """Wait to become the only engine, then tick until stopped."""
        clock = self.game.clock
        while not self._stop.is_set():
            if self.lock.try_acquire():
                break
            log.info("another engine holds the lock; standing by")
            self._stop.wait(STANDBY_POLL_S)
        else:
            return
        self.is_leader = True
        log.info("engine %s is ticking", self.holder)
        period = self.game.settings.tick_us / 1_000_000
        try:
            while not self._stop.is_set():
                try:
                    self.step()
                except Exception:
                    log.exception("engine step failed; retrying next tick")
                now = clock.now()
                # sleep to the next tick boundary of wall time, so steps stay aligned
                elapsed = now.timestamp() % period
                self._stop.wait(period - elapsed)
        finally:
            self.is_leader = False
            self.lock.release()

    def start(self) -> threading.Thread:
        self._thread = threading.Thread(target=self.run, name="martingale-engine", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
