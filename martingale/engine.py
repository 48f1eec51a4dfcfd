"""The market engine: one loop that persists ticks, settles finished assets and refills the pool.

Only one engine may write per database: the leader. Leadership has two parts.

- Election: a lock the server or the operating system drops when its holder dies. PostgreSQL: a
  session-level advisory lock on a connection of its own (with TCP keepalives of a few seconds, so
  the server also drops it when the holder's host vanishes); SQLite: an exclusive ``flock`` on a file
  beside the database. Standbys try every ``STANDBY_POLL_S``.
- Fencing: a lock alone cannot stop a leader that lost it without noticing (its connection was cut,
  it was paused between checking and writing) from writing late. So a new leader bumps
  ``engine_beats.term`` under that row's lock (``claim``), and every engine transaction (the ticks
  and the beat, each settlement, the refill) first locks the row and checks that the term is still
  its own, else raises ``LostLeadership`` and writes nothing. A claim waits for any transaction of
  the old term still in flight, so two terms never write at once.

A leader also checks, before each step, that its lock is still held; if not (or if it was
superseded) it stands by again, and takes the lead back when the lock is free. A failing step is
logged and retried at the next tick; nothing but ``stop()`` ends the loop.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.orm import Session

from . import asset_manager, leaderboard
from .asset_manager import TickState
from .clock import iso
from .game import Game
from .metrics import metrics
from .models import Asset, EngineBeat
from .money import price
from .settlement import SettlementReport, settle_asset
from .transaction_utils import read, run_in_transaction

log = logging.getLogger(__name__)
ADVISORY_KEY = 0x4D61727469  # "Marti"
STANDBY_POLL_S = 0.5
SUMMARY_STEPS = 60  # steps per "engine steps" log line: one a minute at one tick a second
# the server drops the lock of a client that stops answering after idle + interval x count seconds
KEEPALIVE = {"tcp_keepalives_idle": 2, "tcp_keepalives_interval": 1, "tcp_keepalives_count": 2}
NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # beat_at of a term claimed but not yet ticked


class LostLeadership(RuntimeError):
    """Another engine holds a newer term: this one must not write."""


class LeaderLock(Protocol):
    def try_acquire(self) -> bool: ...
    def held(self) -> bool: ...
    def release(self) -> None: ...


class PostgresLeaderLock:
    """A session-level advisory lock on a connection kept for it alone."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Connection | None = None

    def try_acquire(self) -> bool:
        conn = self._engine.connect()
        try:
            for name, value in KEEPALIVE.items():
                conn.execute(text("SELECT set_config(:n, :v, false)"), {"n": name, "v": str(value)})
            got = conn.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}
            ).scalar()
            conn.commit()
        except BaseException:
            conn.invalidate()
            conn.close()
            raise
        if got:
            self._conn = conn
            return True
        conn.invalidate()  # its session settings stay out of the pool
        conn.close()
        return False

    def held(self) -> bool:
        """Whether the session holding the lock is alive (a session lock lives as long as it)."""
        if self._conn is None:
            return False
        try:
            self._conn.execute(text("SELECT 1"))
            self._conn.commit()
        except Exception:
            log.warning("the leader lock's connection is gone", exc_info=True)
            return False
        return True

    def release(self) -> None:
        """Unlock and end the session: closing it releases the lock even if the unlock fails."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
            conn.commit()
        except Exception:
            log.info("could not unlock the leader lock; its session is dropped instead")
        finally:
            conn.invalidate()
            conn.close()


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

    def held(self) -> bool:
        return self._file is not None  # a flock lasts as long as its open file

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
    """Whether the leading engine beat within the last three ticks (a database error propagates).

    Only the holder of the current term can write the beat, so a fresh beat means a live leader. A
    beat stamped more than three ticks ahead of this process's clock is not taken as fresh either:
    clocks that far apart cannot tell whether the engine is alive.
    """
    beat = read(game.database, lambda session: session.get(EngineBeat, 1))
    window = timedelta(microseconds=3 * game.settings.tick_us)
    return beat is not None and abs(game.clock.now() - beat.beat_at) <= window


@dataclass
class StepReport:
    ticks: dict[int, tuple[int, int]] = field(default_factory=dict)
    settled: list[SettlementReport] = field(default_factory=list)
    born: list[int] = field(default_factory=list)


class MarketEngine:
    def __init__(self, game: Game, lock: LeaderLock | None = None) -> None:
        self.game = game
        self.lock = lock or leader_lock_for(game.database)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"[-64:]
        self.tick_seq = 0
        self.term: int | None = None  # the leadership term this engine writes under
        self._symbols: dict[int, str] = {}  # asset id -> symbol of live assets (ids never reuse)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.is_leader = False
        self._step_seconds: list[float] = []
        # ranks after each step's prices, when due. Not fenced: a pass is derived data that the next
        # leader's pass replaces, and a fence's share lock held for a whole pass (a second at 100k
        # players) would hold up this engine's own beat, that is the next tick
        self.ranker = leaderboard.Ranker(game)

    # -- the fence ----------------------------------------------------------------------------
    def claim(self) -> int:
        """Take the next leadership term: from its commit on, only this engine's writes succeed.

        The row lock makes the claim wait for any engine transaction of the old term in flight.
        ``run`` claims after winning the leader lock; an engine stepped by hand (the simulator,
        tests) claims on its first step.
        """

        def work(session: Session) -> int:
            beat = session.get(EngineBeat, 1, with_for_update=True)
            if beat is None:
                beat = EngineBeat(id=1, holder=self.holder, beat_at=NEVER, ticks=0, term=0)
                session.add(beat)
            beat.term, beat.holder = beat.term + 1, self.holder
            return beat.term

        self.term = run_in_transaction(self.game.database, work)
        return self.term

    def fence(self, session: Session) -> None:
        """Refuse the transaction unless this engine still holds the current term.

        Runs first in every engine transaction; the row stays share-locked until it ends, so a
        new claim cannot commit in between.
        """
        current = session.scalar(
            select(EngineBeat.term).where(EngineBeat.id == 1).with_for_update(read=True)
        )
        self._check_term(current)

    def _check_term(self, current: int | None) -> None:
        if self.term is None or current != self.term:
            raise LostLeadership(f"engine {self.holder}: term {self.term}, current term {current}")

    # -- one pass ---------------------------------------------------------------------------
    def step(self) -> StepReport:
        """Persist ticks, settle what has ended, refill the pool, beat. Publishes after commit.

        Every transaction is fenced: ``LostLeadership`` if another engine took a newer term.
        """
        game = self.game
        report = StepReport()
        if self.term is None:
            self.claim()

        def advance(session: Session) -> tuple[int, TickState, dict[int, str]]:
            # the beat count is the tick sequence: +1 per step, and it survives engine restarts
            now = game.clock.now()
            seq, previous = self._beat(session, now)
            state = asset_manager.persist_ticks(session, game, now=now, since=previous)
            return seq, state, self._symbols_of(session, state.latest)

        seq, state, symbols = run_in_transaction(game.database, advance)
        report.ticks = state.latest
        for asset_id in state.due:
            started = time.perf_counter()
            settled = settle_asset(game, asset_id, fence=self.fence)
            if settled is not None:
                m = metrics()
                m.settlement_seconds.observe(time.perf_counter() - started)
                m.settlements.inc()
                m.settled_holdings.inc(settled.holders)
                report.settled.append(settled)
                log.info("asset settled", extra={"fields": {
                    "event": "settlement", "asset_id": settled.asset_id, "symbol": settled.symbol,
                    "final_tick": settled.final_tick, "final_price": settled.final_price,
                    "holders": settled.holders, "quantity": settled.quantity,
                    "value": settled.value, "worthless": settled.worthless, "tick_seq": seq,
                }})  # fmt: skip
                game.events.publish("asset_settled", settled.__dict__)
        if state.live - len(report.settled) < game.settings.pool_size:
            born = asset_manager.refill_pool(game, fence=self.fence)
            report.born = [a.id for a in born]
            for asset in born:
                log.info("asset born", extra={"fields": {
                    "event": "birth", "asset_id": asset.id, "symbol": asset.symbol,
                    "expiry_tick": asset.expiry_tick, "tick_seq": seq,
                }})  # fmt: skip
                self._symbols[asset.id] = asset.symbol
                game.events.publish("asset_born", {"asset_id": asset.id, "symbol": asset.symbol})
        self.tick_seq = seq
        gone = {s.asset_id for s in report.settled}
        # each tick is published once: an asset whose tick has not moved since the previous step
        # (this engine's, or the last one of the leader before it) is left out
        moved = {
            symbols[aid]: tick_price
            for aid, tick_price in report.ticks.items()
            if aid in state.moved and aid not in gone
        }
        game.events.publish(
            "prices",
            {
                "tick_seq": seq,
                "t": iso(game.clock.now()),
                "prices": {symbol: price(p) for symbol, (_, p) in moved.items()},
                # each asset's own tick index: a client that missed messages asks history for
                # exactly the ticks after the last one it holds
                "ticks": {symbol: k for symbol, (k, _) in moved.items()},
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

    def _beat(self, session: Session, now: datetime) -> tuple[int, datetime | None]:
        """Record, fenced, that the leader is alive at ``now``: the step's sequence number and the
        time of the previous step (None if there was none)."""
        beat = session.get(EngineBeat, 1, with_for_update=True)
        self._check_term(None if beat is None else beat.term)
        assert beat is not None
        previous = None if beat.beat_at == NEVER else beat.beat_at
        beat.holder, beat.beat_at, beat.ticks = self.holder, now, beat.ticks + 1
        return beat.ticks, previous

    # -- the loop -----------------------------------------------------------------------------
    def run(self) -> None:
        """Stand by until this engine wins the leader lock, lead until stopped or the lead is
        lost, and stand by again."""
        said = ""  # the last standby reason logged, so an outage is logged once, not per poll
        while not self._stop.is_set():
            try:
                acquired = self.lock.try_acquire()
                reason = "another engine holds the lock"
            except Exception as exc:
                acquired, reason = False, f"the database is unreachable ({type(exc).__name__})"
            if not acquired:
                if reason != said:
                    log.info("engine %s stands by: %s", self.holder, reason)
                    said = reason
                self._stop.wait(STANDBY_POLL_S)
                continue
            said = ""
            try:
                self._lead()
            finally:
                self.is_leader = False
                self.term = None
                self.lock.release()

    def _lead(self) -> None:
        """Claim a term and tick until stopped, superseded, or the leader lock is gone."""
        try:
            term = self.claim()
        except Exception:
            log.exception("engine %s could not claim a term", self.holder)
            self._stop.wait(STANDBY_POLL_S)
            return
        self.is_leader = True
        log.info("engine %s leads, term %d", self.holder, term)
        # the previous leader may have ticked in this very second: start on the next boundary
        self._wait_for_next_tick()
        while not self._stop.is_set():
            if not self.lock.held():
                log.warning(
                    "engine %s lost the leader lock (term %d); standing by", self.holder, term
                )
                return
            try:
                started, due = time.perf_counter(), self._tick_due()
                self.step()
                took = time.perf_counter() - started
                self._summarise(took)
                m = metrics()
                m.engine_step_seconds.observe(took)
                m.tick_lag_seconds.observe(max(0.0, self.game.clock.now().timestamp() - due))
            except LostLeadership:
                log.warning("engine %s was superseded (term %d); standing by", self.holder, term)
                return
            except Exception:
                log.exception("engine step failed; retrying next tick")
            self._wait_for_next_tick()

    def _tick_due(self) -> float:
        """When the tick this step publishes was due (its boundary of wall time), epoch seconds."""
        period = self.game.settings.tick_us / 1_000_000
        now = self.game.clock.now().timestamp()
        return now - now % period

    def _summarise(self, seconds: float) -> None:
        """One log line per minute of steps: how long they took (a slow step delays the tick)."""
        self._step_seconds.append(seconds)
        if len(self._step_seconds) >= SUMMARY_STEPS:
            times, self._step_seconds = self._step_seconds, []
            log.info("engine steps", extra={"fields": {
                "event": "steps", "steps": len(times), "tick_seq": self.tick_seq,
                "mean_ms": round(sum(times) / len(times) * 1000, 2),
                "max_ms": round(max(times) * 1000, 2),
            }})  # fmt: skip

    def _wait_for_next_tick(self) -> None:
        """Sleep to the next tick boundary of wall time, so steps stay aligned."""
        period = self.game.settings.tick_us / 1_000_000
        self._stop.wait(period - self.game.clock.now().timestamp() % period)

    def start(self) -> threading.Thread:
        self._thread = threading.Thread(target=self.run, name="martingale-engine", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
