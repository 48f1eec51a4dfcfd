"""Players, their starting grant, and their public display name."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import ledger
from .errors import DisplayNameIsUsername, DisplayNameTaken, Unauthorized, UsernameTaken
from .game import Game
from .models import Player
from .names import generated_name, parse_display_name, skeleton
from .transaction_utils import read, run_in_transaction
from .validators import parse_username

T = TypeVar("T")

USERNAME_TAKEN = "that username is taken"
NAME_TAKEN = "that display name is taken, or looks too much like another player's name"
NAME_IS_USERNAME = (
    "your display name is shown to everyone, so it must not look like your username:"
    " showing it would hand anyone half of what you log in with"
)
# pg_advisory_xact_lock(namespace, key): the two-key lock space, apart from the engine's leader lock
_NAME_LOCKS = 0x4D474E4D  # "MGNM"


@dataclass(frozen=True)
class Account:
    """The player's own view of their names; only ``display_name`` is ever shown to others."""

    player_id: int
    username: str
    display_name: str


def create_player(
    game: Game, username: str, password_hash: str | None = None, display_name: object = None
) -> int:
    """Register a player and grant the starting cash (house -> player) in one transaction."""
    name = parse_username(username)
    shown = None if display_name is None else parse_display_name(display_name)
    return unique_names(
        lambda: run_in_transaction(
            game.database, lambda s: add_player(s, game, name, password_hash, shown)
        )
    )


def unique_names(work: Callable[[], T]) -> T:
    """Map the database's verdict on a concurrent claim of the same (or a look-alike) name."""
    try:
        return work()
    except IntegrityError as exc:
        if "username_key" in str(exc.orig):
            raise UsernameTaken(USERNAME_TAKEN) from None
        if "display_skeleton" in str(exc.orig) or "display_name" in str(exc.orig):
            raise DisplayNameTaken(NAME_TAKEN) from None
        raise


def check_username(game: Game, username: object) -> None:
    """Raise what registering ``username`` would raise about it (InvalidUsername, UsernameTaken),
    changing nothing: a form says so while its other fields are still wrong."""
    name = parse_username(username)
    login = skeleton(name)
    taken = read(game.database, lambda s: s.scalar(
        select(Player.id).where((Player.username_key == name.lower()) | (Player.display_skeleton == login)).limit(1)
    ))  # fmt: skip
    if taken is not None:
        raise UsernameTaken(USERNAME_TAKEN)


def add_player(
    session: Session, game: Game, name: str, password_hash: str | None, display_name: str | None
) -> int:
    """Insert a player and the grant entry; the caller owns the transaction.

    ``display_name`` is parsed already; None picks a generated one.
    """
    login = skeleton(name)
    shown = display_name
    _lock_names(session, login, *([skeleton(shown)] if shown else []))
    if session.scalar(select(Player.id).where(Player.username_key == name.lower())):
        raise UsernameTaken(USERNAME_TAKEN)
    # a username that looks like someone's display name would let that name pose as this account
    if session.scalar(select(Player.id).where(Player.display_skeleton == login)):
        raise UsernameTaken(USERNAME_TAKEN)
    if shown is None:
        shown = _free_generated_name(session, login)
    else:
        _check_display_name(session, skeleton(shown), login, player_id=None)
    now = game.clock.now()
    grant = game.settings.initial_cash
    player = Player(
        username=name, username_key=name.lower(), username_skeleton=login, display_name=shown,
        display_skeleton=skeleton(shown), created_at=now, cash=grant, granted=grant,
        realized_pnl=0, password_hash=password_hash,
    )  # fmt: skip
    session.add(player)
    session.flush()
    ledger.transfer(
        session, kind="grant", player_id=player.id, asset_id=None,
        cash_to_player=grant, units_to_player=0, at=now,
    )  # fmt: skip
    return player.id


def account(game: Game, player_id: int) -> Account:
    player = read(game.database, lambda s: s.get(Player, player_id))
    if player is None:
        raise Unauthorized("no such player")
    return Account(player.id, player.username, player.display_name)


def change_display_name(game: Game, player_id: int, display_name: object) -> Account:
    """Show the player under another name from now on (the tape's past trades included)."""
    shown = parse_display_name(display_name)
    wanted = skeleton(shown)

    def work(session: Session) -> Account:
        _lock_names(session, wanted)
        player = session.get(Player, player_id, with_for_update=True)
        if player is None:
            raise Unauthorized("no such player")
        _check_display_name(session, wanted, player.username_skeleton, player_id=player.id)
        player.display_name, player.display_skeleton = shown, wanted
        return Account(player.id, player.username, shown)

    return unique_names(lambda: run_in_transaction(game.database, work))


def _check_display_name(
    session: Session, wanted: str, own_login: str, player_id: int | None
) -> None:
    if wanted == own_login:
        raise DisplayNameIsUsername(NAME_IS_USERNAME)
    others = select(Player.id).where(Player.id != player_id) if player_id else select(Player.id)
    # one refusal for both: a distinct one would tell a stranger which usernames exist
    if session.scalar(others.where(Player.display_skeleton == wanted).limit(1)) or session.scalar(
        others.where(Player.username_skeleton == wanted).limit(1)
    ):
        raise DisplayNameTaken(NAME_TAKEN)


def _free_generated_name(session: Session, own_login: str) -> str:
    while True:  # 28**5 names: a draw is taken with odds of players / 17 million
        name = generated_name()
        wanted = skeleton(name)
        if wanted == own_login:
            continue
        _lock_names(session, wanted)
        taken = select(Player.id).where(
            (Player.display_skeleton == wanted) | (Player.username_skeleton == wanted)
        )
        if session.scalar(taken.limit(1)) is None:
            return name


def _lock_names(session: Session, *skeletons: str) -> None:
    """PostgreSQL: claims of one skeleton, as a username or a display name, take turns.

    The unique index on display skeletons stops two equal display names by itself, but no index
    can stop a display name and another player's username from sharing a skeleton: two such claims
    would each miss the other's uncommitted row. SQLite needs nothing: BEGIN IMMEDIATE already
    runs one writer at a time. Sorted, so two claims of the same two skeletons cannot deadlock.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for name in sorted(set(skeletons)):
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big", signed=True)
        session.execute(
            text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": _NAME_LOCKS, "key": key}
        )
