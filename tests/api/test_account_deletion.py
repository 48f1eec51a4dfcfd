"""Deleting an account: personal data goes, every session ends, the books keep every row.

A player who deletes their account can no longer be found by name, log in, refresh or hold a
socket; their past trades read "Deleted player #<id>" on the tape, they leave the leaderboard, and
reconcile still passes (the ``game`` fixture reconciles after every test).
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from martingale import account_deletion, auth, leaderboard, password_attempts, trading
from martingale.auth import SessionEnded
from martingale.engine import MarketEngine
from martingale.extensions import socketio
from martingale.models import (
    AuthEvent,
    AuthSession,
    JournalEntry,
    Player,
    Posting,
    RefreshToken,
    Trade,
)
from martingale.transaction_utils import read

from ..helpers import new_asset, race
from .helpers import API, PASSWORD, assert_error, bearer, count, post_trade, register


def delete(client, tokens, password=PASSWORD, **headers):
    return client.delete(
        f"{API}/account", json={"password": password}, headers={**bearer(tokens), **headers}
    )


def player(game, player_id: int) -> Player:
    return read(game.database, lambda s: s.get(Player, player_id))


def books(game) -> tuple[int, int, int]:
    return count(game, JournalEntry), count(game, Posting), count(game, Trade)


def test_a_deleted_account_is_anonymous_and_every_credential_stops_at_once(client, game, clock):
    asset = new_asset(game)
    tokens = register(client, "leaver", display_name="Leaving Larry")
    pid = tokens["user"]["id"]
    other = register(client, "stayer")
    assert post_trade(client, tokens, asset.symbol, "buy", "2").status_code == 201
    assert post_trade(client, tokens, asset.symbol, "sell", "1").status_code == 201
    leaderboard.rank_players(game, 1, {})
    ranked = client.get(f"{API}/leaderboard").get_json()["leaderboard"]
    assert "Leaving Larry" in [row["display_name"] for row in ranked]
    before = books(game)
    sock = socketio.test_client(client.application, auth={"token": tokens["access_token"]})
    assert sock.is_connected()

    r = delete(client, tokens)

    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json() == {"deleted": True, "display_name": f"Deleted player #{pid}"}
    # the old credentials: every one refused at once
    assert_error(client.get(f"{API}/account", headers=bearer(tokens)), 401, "invalid_token")
    assert_error(post_trade(client, tokens, asset.symbol, "buy", "1"), 401, "invalid_token")
    refreshed = client.post(f"{API}/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert_error(refreshed, 401, "invalid_token")
    again = client.post(f"{API}/auth/login", json={"username": "leaver", "password": PASSWORD})
    assert_error(again, 401, "invalid_credentials")
    assert not sock.is_connected()
    # personal data gone; the name reads as anonymous wherever the trades are shown
    gone = player(game, pid)
    assert gone.username == gone.username_key == f"~deleted{pid}"
    assert gone.display_name == f"Deleted player #{pid}" and gone.password_hash is None
    assert gone.deleted_at is not None
    tape = client.get(f"{API}/tape").get_json()["tape"]
    assert [t["display_name"] for t in tape] == [f"Deleted player #{pid}"] * 2
    assert "Leaving Larry" not in client.get(f"{API}/tape").get_data(as_text=True)
    ranked = client.get(f"{API}/leaderboard").get_json()["leaderboard"]  # off the board at once...
    assert [row["display_name"] for row in ranked] == [other["user"]["display_name"]]
    leaderboard.rank_players(game, 2, {})  # ...and off every later ranking
    ranked = client.get(f"{API}/leaderboard").get_json()["leaderboard"]
    assert [row["display_name"] for row in ranked] == [other["user"]["display_name"]]
    # sessions revoked, refresh tokens dropped, the event recorded, earlier addresses erased
    sessions = read(game.database, lambda s: s.scalars(
        select(AuthSession).where(AuthSession.player_id == pid)).all())  # fmt: skip
    assert sessions and all(s.revoked_at is not None for s in sessions)
    tokens_left = read(game.database, lambda s: s.scalar(
        select(func.count()).select_from(RefreshToken).join(AuthSession)
        .where(AuthSession.player_id == pid)))  # fmt: skip
    assert tokens_left == 0
    events = read(game.database, lambda s: s.scalars(
        select(AuthEvent).where(AuthEvent.player_id == pid).order_by(AuthEvent.id)).all())  # fmt: skip
    assert [e.kind for e in events] == ["registered", "account_deleted"]
    assert events[0].remote is None and events[1].channel == "api"
    # the books: not one row removed or added
    assert books(game) == before


def test_the_deleted_username_may_be_registered_by_someone_new(client, game):
    first = register(client, "Reused_Name")
    assert delete(client, first).status_code == 200
    second = register(client, "reused_name")
    assert second["user"]["id"] != first["user"]["id"]
    r = client.post(f"{API}/auth/login", json={"username": "REUSED_NAME", "password": PASSWORD})
    assert r.status_code == 200 and r.get_json()["user"]["id"] == second["user"]["id"]


def test_open_positions_stay_and_settle_into_the_deleted_account(client, game, clock):
    asset = new_asset(game, lifetime_s="30")
    tokens = register(client, "holder")
    pid = tokens["user"]["id"]
    assert post_trade(client, tokens, asset.symbol, "buy", "3").status_code == 201
    assert delete(client, tokens).status_code == 200
    clock.advance(31)
    MarketEngine(game).step()
    settled = read(game.database, lambda s: s.scalar(
        select(func.count()).select_from(Trade).where(Trade.player_id == pid)))  # fmt: skip
    assert settled == 1
    assert player(game, pid).cash > 0  # the settlement's value credited, as for anyone


def test_a_wrong_password_is_refused_and_changes_nothing(client, game):
    tokens = register(client, "careful")
    pid = tokens["user"]["id"]
    before = player(game, pid)
    for wrong in ("Not-The-Password-1", None, 42):  # the budget's threshold is 5: stay under
        r = client.delete(f"{API}/account", json={"password": wrong}, headers=bearer(tokens))
        assert_error(r, 403, "wrong_password")
    assert_error(client.delete(f"{API}/account", json={}, headers=bearer(tokens)),
                 403, "wrong_password")  # fmt: skip
    assert_error(delete(client, tokens, "x" * 10_000), 403, "wrong_password")  # fifth: locks
    after = player(game, pid)
    assert (after.username, after.display_name, after.password_hash, after.deleted_at) == (
        before.username, before.display_name, before.password_hash, None,
    )  # fmt: skip
    assert client.get(f"{API}/account", headers=bearer(tokens)).status_code == 200
    kinds = read(game.database, lambda s: s.scalars(
        select(AuthEvent.kind).where(AuthEvent.player_id == pid)).all())  # fmt: skip
    assert "account_deleted" not in kinds


def test_wrong_passwords_spend_the_accounts_guessing_budget(client, game):
    tokens = register(client, "guessed")
    for _ in range(password_attempts.THRESHOLD):
        assert_error(delete(client, tokens, "Wrong-Guess-Here-9"), 403, "wrong_password")
    r = delete(client, tokens)  # even the right one waits out the lock
    assert_error(r, 429, "too_many_attempts")
    assert int(r.headers["Retry-After"]) > 0
    assert client.get(f"{API}/account", headers=bearer(tokens)).status_code == 200


def test_no_credentials_or_a_cookie_without_csrf_is_refused(client, game):
    assert_error(client.delete(f"{API}/account", json={"password": PASSWORD}), 401, "unauthorized")


def test_two_deletions_racing_delete_once(game):
    """Two sessions of one player delete at the same moment: one wins, the other finds it gone."""
    auth.register(game, "racer", PASSWORD, auth.API)
    logins = [auth.login(game, "racer", PASSWORD, auth.API) for _ in range(4)]
    results = race(
        4, lambda i: account_deletion.delete_account(game, logins[i].principal, PASSWORD, auth.API)
    )
    won = [r for r in results if isinstance(r, account_deletion.Deleted)]
    assert len(won) == 1, results
    assert all(isinstance(r, SessionEnded) for r in results if r not in won), results
    events = read(game.database, lambda s: s.scalar(
        select(func.count()).select_from(AuthEvent).where(AuthEvent.kind == "account_deleted")))  # fmt: skip
    assert events == 1


def test_a_deletion_racing_trades_leaves_balanced_books_and_no_trade_after_it(game):
    asset = new_asset(game)
    login = auth.register(game, "busy", PASSWORD, auth.API)

    def work(i: int):
        if i == 0:
            return account_deletion.delete_account(game, login.principal, PASSWORD, auth.API)
        return trading.place_trade(
            game, player_id=login.principal.player_id, symbol=asset.symbol, side="buy",
            quantity="1", idempotency_key=f"race-{i}", session_id=login.principal.session_id,
        )  # fmt: skip

    results = race(6, work)
    assert isinstance(results[0], account_deletion.Deleted), results[0]
    for r in results[1:]:
        assert not isinstance(r, Exception) or isinstance(r, SessionEnded), r
    # whatever won, the session is over now: a trade after the deletion returned is refused
    with pytest.raises(SessionEnded):
        work(99)
