"""Retention: long-settled assets lose their stored ticks, and history and proofs answer the same."""

from __future__ import annotations

from datetime import timedelta

from martingale import reports
from martingale.engine import MarketEngine
from martingale.proofs import verify_asset
from martingale.retention import compact_ticks

from .helpers import execute, new_asset, new_player, trade


def ticks_of(game, asset_id: int) -> int:
    return execute(game, "SELECT count(*) FROM price_ticks WHERE asset_id = :a", a=asset_id)[0][0]


def views(game, ref: str):
    """Every way a reader asks for an asset's prices."""
    return [
        [(p.tick, p.t, p.price) for p in reports.history(game, ref, since, limit)[1]]
        for since, limit in [(None, 300), (None, 5), (None, 1), (-1, 3), (0, 4), (7, 300), (29, 10)]
    ]


def settle_two(game, clock):
    old = new_asset(game, lifetime_s="30", volatility="0.05")
    alice = new_player(game, "alice")
    trade(game, alice, "buy", old.symbol, "2")
    engine = MarketEngine(game)
    for _ in range(31):
        clock.advance(1)
        engine.step()
    recent = new_asset(game, lifetime_s="5")
    live = new_asset(game, lifetime_s="3600")
    clock.advance(2 * 86400)  # the first settled two days before the second
    for _ in range(6):
        clock.advance(1)
        engine.step()
    return old, recent, live


def test_compaction_drops_old_ticks_and_history_and_proof_answer_the_same(game, clock):
    old, recent, live = settle_two(game, clock)
    ref = str(old.id)
    before_views = views(game, ref)
    before_proof = verify_asset(game, ref)[1]
    assert before_proof.ok and before_proof.ticks_checked == ticks_of(game, old.id) > 20
    stored = {a.id: ticks_of(game, a.id) for a in (old, recent, live)}
    # the engine's own pool assets may have settled in the first half minute too
    due = [a for (a,) in execute(game, "SELECT id FROM assets WHERE status = 'settled' AND "
                                 "settled_at < :t", t=clock.now().replace(tzinfo=None)
                                 - timedelta(days=1))]  # fmt: skip
    assert old.id in due and recent.id not in due
    due_ticks = sum(ticks_of(game, a) - 2 for a in due)

    done = compact_ticks(game, timedelta(days=1))
    assert done.assets == len(due) and done.ticks_dropped == due_ticks
    assert ticks_of(game, old.id) == 2  # the first and the final tick stay
    assert ticks_of(game, recent.id) == stored[recent.id]  # settled too recently
    assert ticks_of(game, live.id) >= stored[live.id]  # never a live asset's

    assert views(game, ref) == before_views
    after = verify_asset(game, ref)[1]
    assert after.ok, after.problems
    assert compact_ticks(game, timedelta(days=1)).assets == 0  # once only


def test_a_compacted_proof_still_catches_a_tampered_settlement(game, clock):
    old, _, _ = settle_two(game, clock)
    compact_ticks(game, timedelta(days=1))
    execute(game, "UPDATE price_ticks SET price = price + 1 WHERE asset_id = :a AND tick > 0",
            a=old.id)  # fmt: skip
    verdict = verify_asset(game, str(old.id))[1]
    assert not verdict.ok and any("recomputed" in p for p in verdict.problems)
    execute(game, "UPDATE price_ticks SET price = price - 1 WHERE asset_id = :a AND tick > 0",
            a=old.id)  # fmt: skip


def test_the_cli_compacts_by_the_configured_age(app, game, clock):
    old, recent, _ = settle_two(game, clock)
    runner = app.test_cli_runner()
    out = runner.invoke(args=["compact-ticks", "--older-than-days", "3"])
    assert out.exit_code == 0, out.output
    assert "compacted 0 settled assets" in out.output
    out = runner.invoke(args=["compact-ticks", "--older-than-days", "1"])
    assert out.exit_code == 0 and "compacted 0 settled assets" not in out.output
    assert ticks_of(game, old.id) == 2 and ticks_of(game, recent.id) > 2
