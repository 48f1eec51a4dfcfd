"""Players and their starting grant."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import ledger
from .errors import UsernameTaken
from .game import Game
from .models import Player
from .transaction_utils import run_in_transaction
from .validators import parse_username


def create_player(game: Game, username: str) -> int:
    """Register a player and grant the starting cash (house -> player) in one transaction."""
    name = parse_username(username)

    def work(session: Session) -> int:
        if session.scalar(select(Player.id).where(Player.username_key == name.lower())):
            raise UsernameTaken("that username is taken")
        now = game.clock.now()
        grant = game.settings.initial_cash
        player = Player(
            username=name, username_key=name.lower(), created_at=now, cash=grant, granted=grant,
            realized_pnl=0,
        )  # fmt: skip
        session.add(player)
        session.flush()
        ledger.transfer(
            session, kind="grant", player_id=player.id, asset_id=None,
            cash_to_player=grant, units_to_player=0, at=now,
        )  # fmt: skip
        return player.id

    try:
        return run_in_transaction(game.engine, work)
    except IntegrityError as exc:  # a concurrent registration of the same name won
        if "username_key" in str(exc.orig):
            raise UsernameTaken("that username is taken") from None
        raise
