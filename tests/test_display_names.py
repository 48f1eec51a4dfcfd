"""Display names: the grammar, the look-alike skeleton, uniqueness under races, the migration."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from martingale import accounts, auth, create_app
from martingale.errors import (
    DisplayNameIsUsername,
    DisplayNameTaken,
    InvalidDisplayName,
    UsernameTaken,
)
from martingale.game import game_of
from martingale.models import LeaderboardRank, Player
from martingale.names import generated_name, parse_display_name, skeleton
from martingale.transaction_utils import read

from .helpers import execute, make_config, new_player, race

LOOK_ALIKES = ["Alice", "alice", "AIice", "AIi_ce", "\u0410lice", "A l i c e", "Al1ce", "ALICE"]


# -- the skeleton ------------------------------------------------------------------------------


def test_look_alike_names_share_one_skeleton():
    more = [
        "\uff21\uff4c\uff49\uff43\uff45",  # fullwidth
        "\u00c1lice",  # an accent
        "A\u0406ice",  # Cyrillic capital I
        "\u0391lice",  # Greek capital alpha
        "a-l.i_c e",
    ]
    assert {skeleton(n) for n in LOOK_ALIKES + more} == {skeleton("alice")}
    assert skeleton("rnary") == skeleton("Mary") and skeleton("vvade") == skeleton("wade")
    assert skeleton("B0b") == skeleton("bob") and skeleton("5am") == skeleton("Sam")


def test_different_names_keep_different_skeletons():
    names = ["Alice", "Alicia", "Bob", "Bobby", "Mary", "Marty", "Trader-7F3K2", "Trader-7F3K3"]
    assert len({skeleton(n) for n in names}) == len(names)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "must be a string"),
        (42, "must be a string"),
        ("ab", "3 to 24 characters"),
        ("x" * 25, "3 to 24 characters"),
        ("   ", "3 to 24 characters"),
        ("bob!", "only letters, digits, spaces and _ - ."),
        ("bo\u200bb", "U+200B"),  # zero-width space: invisible, so named by code point
        ("b\u0336ob", "U+0336"),  # a combining mark NFKC cannot compose with its letter
        ("_bob", "start and end with a letter or a digit"),
        ("bob.", "start and end with a letter or a digit"),
        ("bo  b", "two spaces or _ - . in a row"),
        ("bo_-b", "two spaces or _ - . in a row"),
        ("Admin", "reserved"),
        ("Mart1ngale", "reserved"),
        ("SYSTEM", "reserved"),
    ],
)
def test_each_grammar_problem_has_its_own_message(value, message):
    with pytest.raises(InvalidDisplayName) as caught:
        parse_display_name(value)
    assert caught.value.code == "invalid_display_name" and caught.value.status == 422
    assert message in caught.value.message


def test_a_display_name_is_kept_as_typed_after_nfkc_and_trimming():
    assert parse_display_name("  \uff21nna K  ") == "Anna K"
    assert parse_display_name("\u00c9mile Zola") == "\u00c9mile Zola"
    assert parse_display_name("\u674e\u5c0f\u9f99") == "\u674e\u5c0f\u9f99"


def test_generated_names_are_friendly_and_parse():
    names = {generated_name() for _ in range(200)}
    assert len(names) > 190
    assert all(re.fullmatch(r"Trader-[2-9A-Z]{5}", n) and parse_display_name(n) == n for n in names)


# -- the service -------------------------------------------------------------------------------


def names_of(game, player_id):
    p = read(game.database, lambda s: s.get(Player, player_id))
    return p.username, p.display_name, p.display_skeleton, p.username_skeleton


def test_a_player_without_a_chosen_name_gets_a_generated_one(game):
    alice = new_player(game, "alice")
    username, shown, shown_skeleton, login_skeleton = names_of(game, alice)
    assert username == "alice" and re.fullmatch(r"Trader-[2-9A-Z]{5}", shown)
    assert shown_skeleton == skeleton(shown) and login_skeleton == skeleton("alice")


def test_a_look_alike_of_another_display_name_is_taken(game):
    new_player(game, "first", "Alice")
    bob = new_player(game, "bob")
    before = names_of(game, bob)
    for name in LOOK_ALIKES:
        with pytest.raises(DisplayNameTaken) as caught:
            accounts.change_display_name(game, bob, name)
        assert caught.value.code == "display_name_taken" and caught.value.status == 409
        with pytest.raises(DisplayNameTaken):
            new_player(game, f"other_{len(name)}", name)
    assert names_of(game, bob) == before


def test_a_look_alike_of_another_players_username_is_taken_with_the_same_answer(game):
    new_player(game, "alice")
    bob = new_player(game, "bob")
    before = names_of(game, bob)
    with pytest.raises(DisplayNameTaken) as by_username:
        accounts.change_display_name(game, bob, "AIi_ce")
    new_player(game, "shown", "Zed Zebra")
    with pytest.raises(DisplayNameTaken) as by_display_name:
        accounts.change_display_name(game, bob, "zed zebra")
    # one message for both: a different one would tell a stranger which usernames exist
    assert by_username.value.message == by_display_name.value.message
    assert names_of(game, bob) == before


def test_ones_own_username_is_refused_as_display_name_with_the_reason(game):
    bob = new_player(game, "bob_the_builder")
    before = names_of(game, bob)
    with pytest.raises(DisplayNameIsUsername) as caught:
        accounts.change_display_name(game, bob, "Bob The Builder")
    assert caught.value.code == "display_name_is_username" and caught.value.status == 422
    assert "username" in caught.value.message and "log in" in caught.value.message
    with pytest.raises(DisplayNameIsUsername):
        new_player(game, "carol", "Car0l")
    assert names_of(game, bob) == before
    assert (
        read(game.database, lambda s: s.scalar(select(Player).where(Player.username == "carol")))
        is None
    )


def test_a_username_that_looks_like_a_display_name_is_taken(game):
    new_player(game, "first", "Zed Zebra")
    with pytest.raises(UsernameTaken):
        new_player(game, "zed_zebra")
    with pytest.raises(UsernameTaken):
        auth.register(game, "ZedZebra", "Quartz-Lantern-31", auth.API)


def test_a_player_may_restyle_their_own_display_name(game):
    bob = new_player(game, "bob", "Mister B")
    assert accounts.change_display_name(game, bob, "mister_b").display_name == "mister_b"
    assert names_of(game, bob)[1] == "mister_b"


def test_the_database_refuses_a_second_equal_skeleton_whoever_writes_it(game):
    alice, bob = new_player(game, "first", "Alice"), new_player(game, "bob")
    with pytest.raises(IntegrityError):
        execute(
            game,
            "UPDATE players SET display_skeleton = :s WHERE id = :id",
            s=skeleton("Alice"),
            id=bob,
        )
    with pytest.raises(IntegrityError):
        execute(game, "UPDATE players SET display_name = 'Alice' WHERE id = :id", id=bob)
    assert names_of(game, alice)[1] == "Alice"


def test_look_alike_claims_racing_in_threads_leave_exactly_one_winner(game):
    players = [new_player(game, f"racer{i}") for i in range(len(LOOK_ALIKES))]

    def claim(i):
        return accounts.change_display_name(game, players[i], LOOK_ALIKES[i])

    results = race(len(players), claim)
    winners = [r for r in results if isinstance(r, accounts.Account)]
    assert len(winners) == 1, results
    assert Counter(type(r) for r in results) == {
        accounts.Account: 1,
        DisplayNameTaken: len(players) - 1,
    }
    shown = read(
        game.database,
        lambda s: s.scalars(
            select(Player.display_name).where(Player.display_skeleton == "allce")
        ).all(),
    )
    assert shown == [winners[0].display_name]


def test_registrations_racing_for_one_look_alike_display_name_leave_one_winner(game):
    def register(i):
        return auth.register(
            game, f"runner{i}", "Quartz-Lantern-31", auth.API, display_name=LOOK_ALIKES[i]
        )

    results = race(len(LOOK_ALIKES), register)
    assert Counter(type(r).__name__ for r in results) == {
        "Login": 1,
        "DisplayNameTaken": len(LOOK_ALIKES) - 1,
    }
    count = read(game.database, lambda s: len(s.scalars(select(Player.id)).all()))
    assert count == 1  # the refused registrations left nothing behind


def test_a_username_and_a_look_alike_display_name_racing_leave_one_winner(game):
    bystanders = [new_player(game, f"by{i}") for i in range(4)]

    def work(i):
        if i % 2 == 0:
            return new_player(game, f"zed_{i // 2}")
        return accounts.change_display_name(game, bystanders[i // 2], f"Zed-{i // 2}")

    results = race(8, work)
    for pair in range(4):
        username, claim = results[2 * pair], results[2 * pair + 1]
        # exactly one of the two may stand: nobody shows a name that looks like a username
        assert isinstance(username, UsernameTaken) != isinstance(claim, DisplayNameTaken), (
            username,
            claim,
        )
    clash = read(
        game.database,
        lambda s: s.execute(
            text(
                "SELECT count(*) FROM players a JOIN players b"
                " ON a.display_skeleton = b.username_skeleton"
            )
        ).scalar_one(),
    )
    assert clash == 0


# -- the migration -----------------------------------------------------------------------------


def test_migration_0006_names_every_existing_player_and_refreshes_the_board(database_url, backend):
    app = create_app(make_config(database_url))
    game = game_of(app)
    try:
        with app.app_context():
            downgrade(revision="0005_engine_term")
            execute(
                game,
                "INSERT INTO players (id, username, username_key, created_at, cash, granted,"
                " realized_pnl) VALUES (1, 'Alice_7', 'alice_7', '2026-01-01 00:00:00', 0, 0, 0),"
                " (2, 'bob', 'bob', '2026-01-01 00:00:00', 0, 0, 0)",
            )
            execute(
                game,
                "INSERT INTO leaderboard_ranks (player_id, rank, name, total_pnl, granted)"
                " VALUES (1, 1, 'Alice_7', 0, 0), (2, 2, 'bob', 0, 0)",
            )
            upgrade()
        rows = read(game.database, lambda s: s.scalars(select(Player).order_by(Player.id)).all())
        assert [p.username for p in rows] == ["Alice_7", "bob"]
        assert all(re.fullmatch(r"Trader-[2-9A-Z]{5}", p.display_name) for p in rows)
        assert all(p.display_skeleton == skeleton(p.display_name) for p in rows)
        assert [p.username_skeleton for p in rows] == [skeleton("Alice_7"), skeleton("bob")]
        board = read(
            game.database,
            lambda s: s.scalars(select(LeaderboardRank.name).order_by(LeaderboardRank.rank)).all(),
        )
        assert board == [p.display_name for p in rows]
        with pytest.raises(IntegrityError):  # NOT NULL now
            execute(
                game,
                "INSERT INTO players (username, username_key, username_skeleton, display_name,"
                " created_at, cash, granted, realized_pnl)"
                " VALUES ('c', 'c', 'c', 'C c', '2026-01-01 00:00:00', 0, 0, 0)",
            )
    finally:
        with app.app_context():
            upgrade()  # a no-op when the test got that far; else the shared database is at head again
            execute(game, "DELETE FROM leaderboard_ranks")
            execute(game, "DELETE FROM players")
        game.database.dispose()
