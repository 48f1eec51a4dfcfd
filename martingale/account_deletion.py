"""Deleting an account: the player's personal data goes, the books keep every row.

A player may delete their account (the App Store requires it of an app that creates accounts).
``delete_account`` checks the current password under the per-account guessing budget, then in ONE
transaction, holding the player's row lock:

- the username becomes ``~deleted<id>``, which no username can be (``validators.USERNAME`` has no
  ``~``), so nobody can log in with it and the old name is free to register again;
- the display name becomes ``Deleted player #<id>`` (``#`` is outside the display-name grammar, and
  names.py reserves the words), so past tape entries read as anonymous; both skeletons become the
  placeholder, which no real name's skeleton can equal;
- the password hash is dropped (a CHECK keeps a deleted account from ever holding one again), every
  session is revoked and every refresh token deleted; past auth events keep their kind and time
  but lose the address they came from; the player leaves the leaderboard at once;
- an ``account_deleted`` auth event is recorded.

The books are untouched (docs/decisions/0010-account-deletion.md): journal entries, postings,
trades and settlements stay, so ``reconcile`` holds. Open positions stay in the anonymised account
and settle into its cash as every other holding does; it is play money that nobody can withdraw
or log in to spend. After the commit ``sessions_revoked`` drops the player's sockets on every
process. A deletion racing another (or a password change) waits for the row lock and then finds
the account gone or its session ended: exactly one of them deletes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from . import audit, password_attempts
from .auth import Principal, SessionEnded, check_nothing, run_password_checked
from .errors import TooManyAttempts, WrongPassword
from .game import Game
from .models import AuthEvent, AuthSession, LeaderboardRank, Player, RefreshToken
from .names import DELETED_LABEL
from .validators import MAX_PASSWORD, is_encodable

WRONG = "the password is incorrect"


@dataclass(frozen=True)
class Deleted:
    """What the player is shown as from now on."""

    player_id: int
    display_name: str


def placeholder(player_id: int) -> str:
    """The username and skeletons of a deleted account: unique, and never a valid username."""
    return f"~deleted{player_id}"


def anonymous_name(player_id: int) -> str:
    return f"{DELETED_LABEL} #{player_id}"


def delete_account(game: Game, principal: Principal, password: object, channel: str) -> Deleted:
    """Erase the caller's personal data and end every session, if ``password`` is theirs."""
    account = principal.username.lower()
    try:
        password_attempts.check(game, account)  # a stolen session must not guess without a budget
    except TooManyAttempts:
        audit.record_alone(game, "login_locked", player_id=principal.player_id, channel=channel)
        raise
    revoked: list[str] = []

    def work(session: Session) -> Deleted:
        revoked.clear()  # a retried transaction starts over
        player = session.get(Player, principal.player_id, with_for_update=True)
        live = session.get(AuthSession, principal.session_id)
        now = game.clock.now()
        if (
            player is None
            or player.deleted_at is not None
            or live is None
            or live.revoked_at is not None
            or live.expires_at <= now
        ):
            raise SessionEnded("session ended")
        if (
            not isinstance(password, str)
            or len(password) > MAX_PASSWORD
            or not is_encodable(password)
            or not player.password_hash
        ):
            check_nothing(game)  # as long as a wrong password takes
            raise WrongPassword(WRONG)
        if not check_password_hash(player.password_hash, password):
            raise WrongPassword(WRONG)
        gone = placeholder(player.id)
        player.username = player.username_key = player.username_skeleton = gone
        player.display_name, player.display_skeleton = anonymous_name(player.id), gone
        player.password_hash = None
        player.deleted_at = now
        sessions = select(AuthSession.id).where(AuthSession.player_id == player.id)
        session.execute(delete(RefreshToken).where(RefreshToken.session_id.in_(sessions)))
        revoked.extend(session.scalars(sessions.where(AuthSession.revoked_at.is_(None))).all())
        session.execute(
            update(AuthSession).where(AuthSession.id.in_(revoked)).values(revoked_at=now)
        )
        session.execute(
            update(AuthEvent).where(AuthEvent.player_id == player.id).values(remote=None)
        )
        session.execute(delete(LeaderboardRank).where(LeaderboardRank.player_id == player.id))
        audit.record(session, game, "account_deleted", player_id=player.id,
                     session_id=principal.session_id, channel=channel)  # fmt: skip
        return Deleted(player.id, player.display_name)

    # a right password clears the name's budget: whoever registers it next must not inherit it
    return run_password_checked(
        game, work, account=account, player_id=principal.player_id, channel=channel,
        revoked=revoked,
    )  # fmt: skip
