"""The journal's one rule, for both ways of writing an entry: legs in Python, legs from SQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Integer, cast, func, literal, null, select, update

from martingale import ledger
from martingale.models import JournalEntry, Player, Posting
from martingale.transaction_utils import read, run_in_transaction

from .helpers import new_asset, new_player


def counts(game) -> tuple[int, int]:
    return read(
        game.database,
        lambda s: (
            s.scalar(select(func.count()).select_from(JournalEntry)),
            s.scalar(select(func.count()).select_from(Posting)),
        ),
    )


def test_post_refuses_legs_that_do_not_sum_to_zero_per_unit(game):
    alice = new_player(game)
    before = counts(game)

    def work(session):
        ledger.post(
            session,
            kind="grant",
            legs=[ledger.Leg(alice, ledger.USD, 5), ledger.Leg(ledger.HOUSE, ledger.USD, -4)],
            at=game.clock.now(),
        )

    with pytest.raises(ledger.UnbalancedEntry):
        run_in_transaction(game.database, work)
    assert counts(game) == before


def _every_player(amount, player=Player.id):
    """One leg row per player: ``amount`` USD to each (NULL player: the house)."""
    return select(
        player.label("player_id"), cast(null(), Integer).label("asset_id"), amount.label("amount")
    )


def test_post_selected_writes_one_row_per_selected_leg_and_proves_the_entry_balanced(game):
    players = [new_player(game, f"player{i}") for i in range(3)]
    before = counts(game)

    def work(session):
        entry = ledger.open_entry(session, kind="grant", at=game.clock.now())
        house = select(func.count() * -7).select_from(Player).scalar_subquery()
        ledger.post_selected(
            session,
            entry,
            [
                _every_player(literal(7)),
                _every_player(house, cast(null(), Integer)).limit(1),
                _every_player(literal(0)),  # zero rows move nothing: dropped
            ],
        )
        # the cached balances follow the postings, or reconcile (after the test) objects
        session.execute(update(Player).values(cash=Player.cash + 7, granted=Player.granted + 7))
        return entry

    entry = run_in_transaction(game.database, work)
    legs = read(
        game.database,
        lambda s: s.execute(
            select(Posting.player_id, Posting.amount).where(Posting.entry_id == entry)
        ).all(),
    )
    assert sorted(legs, key=lambda leg: (leg[0] is None, leg[0] or 0)) == [
        *[(p, 7) for p in players],
        (None, -21),
    ]
    assert counts(game) == (before[0] + 1, before[1] + 4)


@pytest.mark.parametrize("house_share", [-20, -22])
def test_post_selected_refuses_an_unbalanced_set_and_the_transaction_rolls_back(game, house_share):
    for i in range(3):
        new_player(game, f"player{i}")
    before = counts(game)

    def work(session):
        entry = ledger.open_entry(session, kind="grant", at=game.clock.now())
        ledger.post_selected(
            session,
            entry,
            [_every_player(literal(7)), _every_player(literal(house_share), cast(null(), Integer))
             .limit(1)],
        )  # fmt: skip

    with pytest.raises(ledger.UnbalancedEntry, match="does not balance"):
        run_in_transaction(game.database, work)
    assert counts(game) == before


def test_post_selected_refuses_an_entry_that_moves_nothing(game):
    new_asset(game)
    before = counts(game)

    def work(session):
        entry = ledger.open_entry(session, kind="grant", at=game.clock.now())
        ledger.post_selected(session, entry, [_every_player(literal(0))])

    with pytest.raises(ledger.UnbalancedEntry, match="moves nothing"):
        run_in_transaction(game.database, work)
    assert counts(game) == before
