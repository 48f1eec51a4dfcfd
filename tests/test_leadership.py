"""The engine's leadership: a term fences every engine transaction, on SQLite and PostgreSQL.

tests/faults/ shows the same on real processes (a cut connection, kill -9); these tests pin each
rule down in one process, where the interleaving is chosen, not hoped for.
"""

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from martingale.asset_manager import refill_pool
from martingale.engine import LostLeadership, MarketEngine, is_ticking
from martingale.models import LIVE, Asset, EngineBeat, PriceTick, Settlement
from martingale.settlement import settle_asset
from martingale.transaction_utils import read, run_in_transaction

from .helpers import execute, new_asset, new_player, trade


def snapshot(game):
    def work(s):
        beat = s.get(EngineBeat, 1)
        return (
            (beat.holder, beat.ticks, beat.term, beat.beat_at),
            s.scalar(select(func.count()).select_from(PriceTick)),
            sorted(s.execute(select(Asset.id, Asset.status)).all()),
            s.scalar(select(func.count()).select_from(Settlement)),
        )

    return read(game.database, work)


def prices_of(game):
    seen = []
    game.events.subscribe(lambda name, body: seen.append(body) if name == "prices" else None)
    return seen


def test_each_claim_takes_the_next_term(game):
    first, second = MarketEngine(game), MarketEngine(game)
    assert (first.claim(), second.claim(), first.claim()) == (1, 2, 3)
    assert execute(game, "SELECT term, holder FROM engine_beats") == [(3, first.holder)]


def test_a_superseded_engine_writes_nothing_and_the_new_leader_goes_on(game, clock):
    new_asset(game, lifetime_s="60")
    old, new = MarketEngine(game), MarketEngine(game)
    clock.advance(1)
    old.step()
    new.claim()
    before = snapshot(game)
    clock.advance(1)
    with pytest.raises(LostLeadership):
        old.step()
    assert snapshot(game) == before
    new.step()
    holder, ticks, term, _ = snapshot(game)[0]
    assert (holder, ticks, term) == (new.holder, 2, 2)


def test_settlement_and_refill_refuse_a_superseded_engine(game, clock):
    asset = new_asset(game, lifetime_s="5")
    trade(game, new_player(game), "buy", asset.symbol, "2")
    old, new = MarketEngine(game), MarketEngine(game)
    old.step()
    clock.advance(6)
    new.claim()
    with pytest.raises(LostLeadership):
        settle_asset(game, asset.id, fence=old.fence)
    with pytest.raises(LostLeadership):
        refill_pool(game, fence=old.fence)
    assert read(game.database, lambda s: s.get(Asset, asset.id).status) == LIVE
    report = new.step()
    assert [s.asset_id for s in report.settled] == [asset.id]
    assert snapshot(game)[3] == 1


def test_a_claim_waits_for_a_transaction_of_the_old_term_in_flight(game):
    """The old leader checked its term inside a transaction that has not committed yet: the new
    claim waits for it, so the old term's last write lands before the new term begins."""
    old, new = MarketEngine(game), MarketEngine(game)
    old.claim()
    fenced, release = threading.Event(), threading.Event()

    def late_write(session):
        old.fence(session)
        fenced.set()
        assert release.wait(30)
        session.add(
            EngineBeat(id=2, holder="written under the old term", beat_at=old_beat, ticks=0)
        )

    old_beat = read(game.database, lambda s: s.get(EngineBeat, 1).beat_at)
    writer = threading.Thread(target=run_in_transaction, args=(game.database, late_write))
    writer.start()
    assert fenced.wait(30)
    claimed = []
    claimer = threading.Thread(target=lambda: claimed.append(new.claim()))
    claimer.start()
    time.sleep(0.5)
    assert claimed == []  # still waiting for the old term's transaction
    release.set()
    writer.join(30)
    claimer.join(30)
    assert claimed == [2]
    assert execute(game, "SELECT holder FROM engine_beats WHERE id = 2") == [
        ("written under the old term",)
    ]
    with pytest.raises(LostLeadership):
        run_in_transaction(game.database, old.fence)


def test_each_tick_is_published_once_even_across_a_change_of_leader(game, clock):
    asset = new_asset(game, lifetime_s="60")
    seen = prices_of(game)
    old, new = MarketEngine(game), MarketEngine(game)
    clock.advance(1)
    old.step()
    new.claim()
    new.step()  # same instant: tick 1 was published by the old leader already
    clock.advance(1)
    new.step()
    mine = [(body["tick_seq"], body["ticks"].get(asset.symbol)) for body in seen]
    assert mine == [(1, 1), (2, None), (3, 2)]


def test_readiness_does_not_trust_a_beat_stamped_ahead_of_its_own_clock(game, clock):
    MarketEngine(game).step()
    assert is_ticking(game)
    clock.set(clock.now() - timedelta(seconds=3))
    assert is_ticking(game)  # three ticks of skew are tolerated
    clock.set(clock.now() - timedelta(seconds=1))
    assert not is_ticking(game)


@pytest.mark.parametrize("backend", ["postgresql"])  # a flock cannot be taken from a live process
def test_a_leader_whose_lock_session_dies_stands_by_and_takes_the_lead_back(game, caplog):
    """Its lock's connection is cut (a server restart, pg_terminate_backend): it notices before its
    next step and, with no other engine about, leads again under a new term."""
    engine = MarketEngine(game)
    engine.start()
    try:
        deadline = time.monotonic() + 15
        while engine.term != 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert engine.term == 1
        [(terminated,)] = execute(
            game,
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        assert terminated
        deadline = time.monotonic() + 15
        while engine.term != 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert engine.term == 2 and engine.is_leader
    finally:
        engine.stop()
    assert "lost the leader lock (term 1)" in caplog.text
