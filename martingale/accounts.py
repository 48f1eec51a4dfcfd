"""Players and their starting grant."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import ledger
from .errors import UsernameTaken
from .game import Game
from .models import Player
from .transaction_utils import run_in_transaction
from .validators import parse_username

T = TypeVar("T")


def create_player(game: Game, username: str, password_hash: str | None = None) -> int:
    """Register a player and grant the starting cash (house -> player) in one transaction."""
    name = parse_username(username)
    return unique_username(
        lambda: run_in_transaction(
            game.database, lambda s: add_player(s, game, name, password_hash)
        )
    )


def unique_username(work: Callable[[], T]) -> T:
    """Map the database's verdict on a concurrent registration of the same name."""
    try:
        return work()
    except IntegrityError as exc:
        if "username_key" in str(exc.orig):
            raise UsernameTaken("that username is taken") from None
        raise


def add_player(session: Session, game: Game, name: str, password_hash: str | None) -> int:
    """Insert a player and the grant entry; the caller owns the transaction."""
    if session.scalar(select(Player.id).where(Player.username_key == name.lower())):
        raise UsernameTaken("that username is taken")
    now = game.clock.now()
    grant = game.settings.initial_cash
    player = Player(
        username=name, username_key=name.lower(), created_at=now, cash=grant, granted=grant,
        realized_pnl=0, password_hash=password_hash,
    )  # fmt: skip
    session.add(player)
    session.flush()
    ledger.transfer(
        session, kind="grant", player_id=player.id, asset_id=None,
        cash_to_player=grant, units_to_player=0, at=now,
    )  # fmt: skip
    return player.id
