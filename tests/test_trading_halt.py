"""The kill switch: while trading is halted every trade path refuses with trading_halted, nothing
of the refused trade is written, prices keep ticking; after resume trading works again."""

from __future__ import annotations

import pytest

from martingale import errors
from martingale.engine import MarketEngine
from martingale.maintenance import set_trading, trading_state

from .helpers import execute, new_asset, new_player, race, trade


def books(game):
    return execute(game, "SELECT (SELECT count(*) FROM trades), (SELECT count(*) FROM postings),"
                   " (SELECT sum(cash) FROM players), (SELECT count(*) FROM journal_entries)")  # fmt: skip


def test_a_halt_refuses_every_trade_and_writes_nothing_and_resume_reopens(game, clock):
    asset = new_asset(game, lifetime_s="600")
    alice = new_player(game, "alice")
    trade(game, alice, "buy", asset.symbol, "2")
    set_trading(game, halted=True, reason="ledger maintenance")
    assert trading_state(game).halted and trading_state(game).reason == "ledger maintenance"
    before = books(game)
    for side, quantity in (("buy", "1"), ("sell", "1")):
        with pytest.raises(errors.TradingHalted) as refused:
            trade(game, alice, side, asset.symbol, quantity)
        assert refused.value.code == "trading_halted" and refused.value.status == 409
    assert books(game) == before
    engine = MarketEngine(game)  # prices keep ticking while trading is halted
    clock.advance(2)
    assert engine.step().ticks

    set_trading(game, halted=False)
    assert not trading_state(game).halted and trading_state(game).reason is None
    assert trade(game, alice, "sell", asset.symbol, "1").quantity == 10**8


def test_trades_racing_a_halt_either_ran_before_it_or_are_refused(game):
    """15 threads buy in a loop while the switch flips: each ends refused, and no trade is booked
    after set_trading returns (those already past the trigger were waited for)."""
    asset = new_asset(game, lifetime_s="600")
    players = [new_player(game, f"player{i}") for i in range(16)]

    def work(i):
        if i == 0:
            set_trading(game, halted=True)
            return execute(game, "SELECT count(*) FROM trades")[0][0]  # the moment it returned
        for _ in range(20):
            try:
                trade(game, players[i], "buy", asset.symbol, "0.01")
            except errors.TradingHalted:
                return "halted"
        return "never halted"

    results = race(16, work)
    at_return = results[0]
    assert results[1:] == ["halted"] * 15, results
    # nothing was booked after the switch said it was done: no trade was still in flight
    assert execute(game, "SELECT count(*) FROM trades")[0][0] == at_return
    with pytest.raises(errors.TradingHalted):
        trade(game, players[1], "buy", asset.symbol, "1")
    assert execute(game, "SELECT count(*) FROM trades")[0][0] == at_return


def test_the_cli_pauses_and_resumes(app, game):
    runner = app.test_cli_runner()
    assert "trading open" in runner.invoke(args=["trading", "status"]).output
    out = runner.invoke(args=["trading", "pause", "--reason", "incident 42"])
    assert out.exit_code == 0 and "HALTED" in out.output and "incident 42" in out.output
    asset = new_asset(game, lifetime_s="600")
    with pytest.raises(errors.TradingHalted):
        trade(game, new_player(game), "buy", asset.symbol, "1")
    assert "trading open" in runner.invoke(args=["trading", "resume"]).output


def test_the_switch_holds_even_after_its_row_was_emptied_away(game):
    """A database truncated by hand (tests, a restore gone wrong) has no switch row: the state reads
    open, and pausing writes the row again rather than doing nothing."""
    execute(game, "DELETE FROM market_controls")
    assert not trading_state(game).halted
    asset = new_asset(game, lifetime_s="600")
    set_trading(game, halted=True)
    with pytest.raises(errors.TradingHalted):
        trade(game, new_player(game), "buy", asset.symbol, "1")
    set_trading(game, halted=False)
