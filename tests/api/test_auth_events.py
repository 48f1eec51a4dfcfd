"""Auth events: every login, failure, lock, logout, password change and refresh-token reuse is a
row written with what it describes, with the request's id and address, and an operator can list
them."""

from __future__ import annotations

from sqlalchemy import select

from martingale.models import AuthEvent, AuthSession
from martingale.password_attempts import THRESHOLD
from martingale.transaction_utils import read

from .helpers import API, PASSWORD, bearer, register

NEW_PASSWORD = "Harbor-Violet-58"


def events(game) -> list[tuple[str, int | None, str | None, str | None]]:
    rows = read(game.database, lambda s: s.scalars(select(AuthEvent).order_by(AuthEvent.id)).all())
    return [(e.kind, e.player_id, e.session_id, e.channel) for e in rows]


def test_each_account_event_is_recorded_with_its_session(client, game):
    alice = register(client)
    pid, first_sid = alice["user"]["id"], None
    client.post(f"{API}/auth/login", json={"username": "alice", "password": "not-it-at-all"})
    client.post(f"{API}/auth/login", json={"username": "nobody", "password": "not-it-at-all"})
    ok = client.post(f"{API}/auth/login", json={"username": "alice", "password": PASSWORD},
                     headers={"X-Request-ID": "login-request-1"})  # fmt: skip
    assert ok.status_code == 200
    client.post(f"{API}/auth/logout", headers=bearer(ok.get_json()))
    changed = client.post(f"{API}/auth/password", headers=bearer(alice),
                          json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})  # fmt: skip
    assert changed.status_code == 200
    fresh = changed.get_json()
    client.post(f"{API}/auth/refresh", json={"refresh_token": fresh["refresh_token"]})
    reused = client.post(f"{API}/auth/refresh", json={"refresh_token": fresh["refresh_token"]})
    assert reused.status_code == 401

    found = events(game)
    assert [k for k, *_ in found] == [
        "registered", "login_failed", "login_failed", "login_ok", "logout", "password_changed",
        "refresh_reuse",
    ]  # fmt: skip
    assert [p for _, p, *_ in found] == [pid, pid, None, pid, pid, pid, pid]
    sessions = set(read(game.database, lambda s: s.scalars(select(AuthSession.id)).all()))
    # every event that names a session names one that exists: written in its transaction
    assert {sid for _, _, sid, _ in found if sid} <= sessions
    assert found[3][2] != found[0][2] and found[4][2] == found[3][2] and found[6][2] == found[5][2]
    first_sid = found[0][2]
    assert first_sid is not None and all(c == "api" for *_, c in found if c)
    request = read(game.database, lambda s: s.scalars(
        select(AuthEvent.request_id).where(AuthEvent.kind == "login_ok")).one())  # fmt: skip
    assert request == "login-request-1"


def test_a_locked_account_records_the_refusals(client, game):
    register(client)
    for _ in range(THRESHOLD):
        client.post(f"{API}/auth/login", json={"username": "alice", "password": "not-it-at-all"})
    refused = client.post(f"{API}/auth/login", json={"username": "alice", "password": PASSWORD})
    assert refused.status_code == 429
    kinds = [k for k, *_ in events(game)]
    assert kinds.count("login_failed") == THRESHOLD and kinds[-1] == "login_locked"


def test_the_operator_lists_events_newest_first(app, client, game):
    register(client)
    register(client, "bob")
    client.post(f"{API}/auth/login", json={"username": "bob", "password": "not-it-at-all"})
    out = app.test_cli_runner().invoke(args=["auth-events", "--user", "bob"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[-1] == "2 events"
    assert lines[0].split()[1:3] == ["login_failed", "bob"]
    assert lines[1].split()[1:3] == ["registered", "bob"]
    failed = app.test_cli_runner().invoke(args=["auth-events", "--kind", "login_failed"])
    assert failed.output.splitlines()[-1] == "1 events"
