"""Auth events: each one a row written in the transaction that made it happen, and a log line
once that transaction has committed (a retried or rolled-back transaction logs nothing)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import g, has_request_context, request
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from .game import Game
from .models import AuthEvent, Player
from .transaction_utils import read, run_in_transaction

log = logging.getLogger("martingale.auth")


def record(
    session: Session,
    game: Game,
    kind: str,
    *,
    player_id: int | None = None,
    session_id: str | None = None,
    channel: str | None = None,
) -> None:
    """Add the event to ``session``'s transaction; log it when that transaction commits."""
    remote = request_id = None
    if has_request_context():  # a CLI or a test calls services outside any request
        remote, request_id = request.remote_addr, g.get("request_id")
    row = AuthEvent(at=game.clock.now(), kind=kind, player_id=player_id, session_id=session_id,
                    channel=channel, remote=remote, request_id=request_id)  # fmt: skip
    session.add(row)
    fields = {"event": kind, "player_id": player_id, "channel": channel, "remote": remote}

    def committed(_: Session) -> None:
        log.info("auth %s", kind, extra={"fields": fields})

    event.listen(session, "after_commit", committed, once=True)


def record_alone(
    game: Game, kind: str, *, player_id: int | None = None, channel: str | None = None
) -> None:
    """An event that changes nothing else (a failed or refused login): a transaction of its own."""
    run_in_transaction(
        game.database, lambda s: record(s, game, kind, player_id=player_id, channel=channel)
    )


def recent(
    game: Game,
    *,
    username: str | None = None,
    kind: str | None = None,
    hours: float = 24,
    limit: int = 100,
) -> list[tuple[AuthEvent, str | None]]:
    """The newest events first (with the player's username), for an operator."""
    query = (
        select(AuthEvent, Player.username)
        .outerjoin(Player, Player.id == AuthEvent.player_id)
        .where(AuthEvent.at >= game.clock.now() - timedelta(hours=hours))
        .order_by(AuthEvent.id.desc())
        .limit(limit)
    )
    if username is not None:
        query = query.where(Player.username_key == username.strip().lower())
    if kind is not None:
        query = query.where(AuthEvent.kind == kind)
    return read(game.database, lambda s: [(e, name) for e, name in s.execute(query).all()])


def at_text(at: datetime) -> str:
    return at.isoformat(timespec="seconds")
