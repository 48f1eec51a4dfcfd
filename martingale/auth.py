"""Accounts and sessions: passwords, login sessions, access and refresh tokens.

- Passwords are hashed with scrypt (Werkzeug), parameters from configuration.
- Every login opens an ``AuthSession`` row. A browser keeps its id in the signed cookie; an API
  client gets a short-lived signed access token naming it plus a refresh token. Each request checks
  the session is neither revoked nor expired, so logout and password change take effect at once.
- Refresh tokens rotate: each is good for one refresh. Presenting a used one means it leaked, so
  the whole session (the token family) is revoked.
- Revocations are published as ``sessions_revoked`` so the realtime layer drops those sockets.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from . import audit, password_attempts
from .accounts import add_player, unique_names
from .errors import (
    InvalidCredentials,
    InvalidPassword,
    InvalidToken,
    TooManyAttempts,
    Unauthorized,
    WrongPassword,
)
from .game import Game
from .models import AuthSession, Player, RefreshToken
from .names import parse_display_name
from .transaction_utils import read, run_in_transaction
from .validators import MAX_PASSWORD, USERNAME, is_encodable, parse_password, parse_username

WEB, API = "web", "api"
_ACCESS_SALT = "martingale.access-token"
# what could be a refresh token (ours are shorter than the maximum); anything else is refused unread
MIN_REFRESH_TOKEN, MAX_REFRESH_TOKEN = 16, 128

_T = TypeVar("_T")


@functools.cache
def dummy_hash(method: str) -> str:
    """A hash to check a password against when there is no real one to check.

    It must be made with the configured method: a refusal then costs one hash of the same cost
    whether or not the username exists, so its timing tells nothing (with a cheaper dummy an unknown
    user was refused in 5 ms and a wrong password in 75). ``create_app`` makes it at startup.
    """
    return generate_password_hash("not a real password", method=method)


def check_nothing(game: Game) -> None:
    """Spend what checking a real password costs, and learn nothing from it."""
    check_password_hash(dummy_hash(game.settings.password_hash_method), "x")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the player and the login session the call came through."""

    player_id: int
    username: str  # private: shown to the player alone
    session_id: str
    display_name: str  # what everyone else sees


@dataclass(frozen=True)
class Login:
    principal: Principal
    access_token: str | None = None
    refresh_token: str | None = None


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _serializer(game: Game) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(game.settings.secret_key, salt=_ACCESS_SALT)


def _open(session: Session, game: Game, player: Player, kind: str) -> Login:
    now = game.clock.now()
    ttl = game.settings.web_session_seconds if kind == WEB else game.settings.refresh_token_seconds
    sid = secrets.token_hex(16)
    session.add(
        AuthSession(
            id=sid,
            player_id=player.id,
            kind=kind,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
    )
    principal = _principal(player, sid)
    if kind == WEB:
        return Login(principal)
    refresh = secrets.token_urlsafe(32)
    session.add(RefreshToken(token_hash=_hash_token(refresh), session_id=sid, issued_at=now))
    access = _serializer(game).dumps({"sid": sid, "pid": player.id})
    return Login(principal, access_token=access, refresh_token=refresh)


def _principal(player: Player, session_id: str) -> Principal:
    return Principal(player.id, player.username, session_id, player.display_name)


def register(
    game: Game, username: object, password: object, kind: str, display_name: object = None
) -> Login:
    """Create the player, grant the starting cash and log in, in one transaction.

    ``display_name`` None (not given) picks a generated one; nothing public comes from the username.
    """
    name = parse_username(username)
    shown = None if display_name is None else parse_display_name(display_name)
    pw_hash = generate_password_hash(
        parse_password(password, name), method=game.settings.password_hash_method
    )

    def work(session: Session) -> Login:
        player_id = add_player(session, game, name, pw_hash, shown)
        player = session.get(Player, player_id)
        assert player is not None  # inserted just above, in this transaction
        opened = _open(session, game, player, kind)
        audit.record(session, game, "registered", player_id=player_id,
                     session_id=opened.principal.session_id, channel=kind)  # fmt: skip
        return opened

    return unique_names(lambda: run_in_transaction(game.database, work))


def login(game: Game, username: object, password: object, kind: str) -> Login:
    if (
        not isinstance(username, str)
        or not isinstance(password, str)
        or len(password) > MAX_PASSWORD
        or not is_encodable(password)
        or not USERNAME.fullmatch(username.strip())
    ):
        check_nothing(game)
        audit.record_alone(game, "login_failed", channel=kind)
        raise InvalidCredentials("invalid username or password")
    key = username.strip().lower()
    player = read(
        game.database, lambda s: s.scalar(select(Player).where(Player.username_key == key))
    )
    who = None if player is None else player.id
    try:
        password_attempts.check(game, key)  # known or not: the answer must not tell
    except TooManyAttempts:
        audit.record_alone(game, "login_locked", player_id=who, channel=kind)
        raise
    stored = player.password_hash if player is not None else None
    if player is None or not stored:
        check_nothing(game)
        password_attempts.failed(game, key)
        audit.record_alone(game, "login_failed", player_id=who, channel=kind)
        raise InvalidCredentials("invalid username or password")
    if not check_password_hash(stored, password):
        password_attempts.failed(game, key)
        audit.record_alone(game, "login_failed", player_id=who, channel=kind)
        raise InvalidCredentials("invalid username or password")
    password_attempts.succeeded(game, key)

    def work(session: Session) -> Login:
        opened = _open(session, game, player, kind)
        audit.record(session, game, "login_ok", player_id=player.id,
                     session_id=opened.principal.session_id, channel=kind)  # fmt: skip
        return opened

    return run_in_transaction(game.database, work)


def _live_session(session: Session, sid: str, now: datetime) -> tuple[AuthSession, Player] | None:
    row = session.execute(
        select(AuthSession, Player)
        .join(Player, Player.id == AuthSession.player_id)
        .where(AuthSession.id == sid)
    ).first()
    if row is None:
        return None
    auth, player = row
    if auth.revoked_at is not None or auth.expires_at <= now:
        return None
    return auth, player


def principal_for_session(game: Game, sid: object) -> Principal | None:
    """The principal of a live session id (from a cookie), or None."""
    if not isinstance(sid, str):
        return None
    found = read(game.database, lambda s: _live_session(s, sid, game.clock.now()))
    return None if found is None else _principal(found[1], sid)


@dataclass(frozen=True)
class TokenClaims:
    """What a signed, unexpired access token says: its player and login session."""

    player_id: int
    session_id: str


class SessionEnded(InvalidToken):
    """The login session a request named is revoked or expired (found by the trade itself)."""


def claims_of_access_token(game: Game, token: object) -> TokenClaims:
    """Check an access token's signature and age, with no database read.

    The session it names may have ended since: whoever acts on the claims checks that in its own
    round trip (a trade does, in ``trading.execute_trade``), so revocation still acts at once.
    """
    if not isinstance(token, str) or len(token) > 512:
        raise InvalidToken("missing or malformed access token")
    max_age = game.settings.access_token_seconds
    key = (game.settings.secret_key, token)
    known = _VERIFIED.get(key)
    if known is not None:  # the signature was checked before: only its age can have changed
        found, signed_at = known
        if not 0 <= time.time() - signed_at <= max_age:
            raise InvalidToken("access token expired")
        return found
    try:
        claims, stamp = _serializer(game).loads(token, max_age=max_age, return_timestamp=True)
    except SignatureExpired:
        raise InvalidToken("access token expired") from None
    except BadSignature:
        raise InvalidToken("invalid access token") from None
    sid, pid = claims.get("sid"), claims.get("pid")
    if not isinstance(sid, str) or not isinstance(pid, int) or isinstance(pid, bool):
        raise InvalidToken("session ended")
    found = TokenClaims(pid, sid)
    with _VERIFIED_LOCK:
        if len(_VERIFIED) >= _VERIFIED_LIMIT:
            del _VERIFIED[next(iter(_VERIFIED))]
        _VERIFIED[key] = (found, stamp.timestamp())
    return found


# (secret, token) -> (claims, signing time) of tokens whose signature was verified: checking an
# HMAC is most of what authenticating a trade costs, and a verified token stays verified
_VERIFIED: dict[tuple[str, str], tuple[TokenClaims, float]] = {}
_VERIFIED_LIMIT = 20_000
_VERIFIED_LOCK = threading.Lock()


def principal_for_access_token(game: Game, token: object) -> Principal:
    claims = claims_of_access_token(game, token)
    principal = principal_for_session(game, claims.session_id)
    if principal is None or principal.player_id != claims.player_id:
        raise InvalidToken("session ended")
    return principal


def require_live_session(game: Game, player_id: int, session_id: str) -> None:
    """Refuse (``SessionEnded``) unless the session is live and the player's: one indexed read."""
    principal = principal_for_session(game, session_id)
    if principal is None or principal.player_id != player_id:
        raise SessionEnded("session ended")


def refresh(game: Game, token: object) -> Login:
    """Rotate: the presented refresh token is spent and a new pair is issued."""
    if not isinstance(token, str) or not MIN_REFRESH_TOKEN <= len(token) <= MAX_REFRESH_TOKEN:
        raise InvalidToken("invalid refresh token")
    revoked: list[str] = []

    def work(session: Session) -> Login | None:
        now = game.clock.now()
        stored = session.get(RefreshToken, _hash_token(token), with_for_update=True)
        if stored is None:
            return None
        found = _live_session(session, stored.session_id, now)
        if found is None:
            return None
        auth, player = found
        if stored.used_at is not None:  # replayed: assume theft, end the whole family
            auth.revoked_at = now
            revoked.append(auth.id)
            audit.record(session, game, "refresh_reuse", player_id=player.id, session_id=auth.id,
                         channel=API)  # fmt: skip
            return None
        stored.used_at = now
        fresh = secrets.token_urlsafe(32)
        session.add(RefreshToken(token_hash=_hash_token(fresh), session_id=auth.id, issued_at=now))
        access = _serializer(game).dumps({"sid": auth.id, "pid": player.id})
        return Login(_principal(player, auth.id), access, fresh)

    result = run_in_transaction(game.database, work)
    if revoked:
        game.events.publish("sessions_revoked", {"session_ids": revoked})
    if result is None:
        raise InvalidToken("invalid refresh token")
    return result


def logout(game: Game, principal: Principal) -> None:
    def work(session: Session) -> None:
        session.execute(
            update(AuthSession)
            .where(AuthSession.id == principal.session_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=game.clock.now())
        )
        audit.record(session, game, "logout", player_id=principal.player_id,
                     session_id=principal.session_id)  # fmt: skip

    run_in_transaction(game.database, work)
    game.events.publish("sessions_revoked", {"session_ids": [principal.session_id]})


def change_password(
    game: Game, principal: Principal, current: object, new: object, kind: str
) -> Login:
    """Check the current password, store the new one, end every session, open a fresh one."""
    new_password = parse_password(new, principal.username)
    account = principal.username.lower()
    try:
        password_attempts.check(game, account)  # a stolen session must not guess without a budget
    except TooManyAttempts:
        audit.record_alone(game, "login_locked", player_id=principal.player_id, channel=kind)
        raise
    pw_hash = generate_password_hash(new_password, method=game.settings.password_hash_method)
    if not isinstance(current, str) or not is_encodable(current):
        check_nothing(game)  # as long as a wrong password takes: hashing the new one and a check
        raise WrongPassword("current password is incorrect")
    revoked: list[str] = []

    def work(session: Session) -> Login:
        player = session.get(Player, principal.player_id, with_for_update=True)
        if player is None:
            raise Unauthorized("no such player")
        if not player.password_hash:
            check_nothing(game)
            raise WrongPassword("current password is incorrect")
        if not check_password_hash(player.password_hash, current):
            raise WrongPassword("current password is incorrect")
        if check_password_hash(player.password_hash, new_password):
            raise InvalidPassword("the new password must differ from the current one")
        player.password_hash = pw_hash
        now = game.clock.now()
        live = session.scalars(
            select(AuthSession.id).where(
                AuthSession.player_id == player.id, AuthSession.revoked_at.is_(None)
            )
        ).all()
        session.execute(update(AuthSession).where(AuthSession.id.in_(live)).values(revoked_at=now))
        revoked.extend(live)
        opened = _open(session, game, player, kind)
        audit.record(session, game, "password_changed", player_id=player.id,
                     session_id=opened.principal.session_id, channel=kind)  # fmt: skip
        return opened

    return run_password_checked(
        game, work, account=account, player_id=principal.player_id, channel=kind, revoked=revoked
    )


def run_password_checked(
    game: Game,
    work: Callable[[Session], _T],
    *,
    account: str,
    player_id: int,
    channel: str,
    revoked: list[str],
) -> _T:
    """Run a transaction that checks the player's password and ends the sessions in ``revoked``.

    A wrong password counts against the account's budget and is audited alone (the transaction
    rolled back); a right one clears the budget, and the ended sessions' sockets are dropped on
    every process once the change is committed.
    """
    try:
        result = run_in_transaction(game.database, work)
    except WrongPassword:
        password_attempts.failed(game, account)
        audit.record_alone(game, "login_failed", player_id=player_id, channel=channel)
        raise
    password_attempts.succeeded(game, account)
    game.events.publish("sessions_revoked", {"session_ids": revoked})
    return result
