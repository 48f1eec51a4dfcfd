"""Authentication: tokens, registration, login and its rate limit, refresh, logout, passwords."""

from __future__ import annotations

import re

import pytest

from martingale.models import AuthSession, Player, Trade

from ..helpers import new_asset
from .helpers import API, PASSWORD, assert_error, bearer, count, register

AUTHENTICATED = [
    ("get", "/portfolio"),
    ("post", "/trades"),
    ("get", "/trades"),
    ("get", "/settlements"),
    ("get", "/performance/history"),
    ("post", "/auth/logout"),
    ("post", "/auth/password"),
]


@pytest.mark.parametrize(("method", "path"), AUTHENTICATED)
def test_authenticated_routes_are_401_without_or_with_a_bad_token(client, game, method, path):
    asset = new_asset(game)
    body = {"symbol": asset.symbol, "side": "buy", "quantity": "1"}
    call = getattr(client, method)
    assert_error(call(API + path, json=body), 401, "unauthorized")
    assert_error(
        call(API + path, json=body, headers={"Authorization": "Basic eDp5"}), 401, "unauthorized"
    )
    for token in ("garbage", "a" * 600, "eyJzaWQiOiJ4In0.AAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBB"):
        assert_error(call(API + path, json=body, headers=bearer(token)), 401, "invalid_token")
    assert count(game, Trade) == 0


def test_register_returns_a_working_token_pair(client, game):
    r = client.post(f"{API}/auth/register", json={"username": "  alice ", "password": PASSWORD})
    assert r.status_code == 201
    body = r.get_json()
    assert set(body) == {"user", "access_token", "refresh_token", "token_type"}
    user = body["user"]
    assert user == {"id": user["id"], "username": "alice", "display_name": user["display_name"]}
    assert re.fullmatch(r"Trader-[2-9A-Z]{5}", user["display_name"])  # nothing of the username
    assert body["token_type"] == "Bearer"
    assert client.get(f"{API}/portfolio", headers=bearer(body)).status_code == 200
    assert count(game, Player) == 1


@pytest.mark.parametrize("taken", ["alice", "ALICE", "Alice", " aLiCe "])
def test_register_refuses_a_taken_username_case_insensitively(client, game, taken):
    register(client, "alice")
    r = client.post(f"{API}/auth/register", json={"username": taken, "password": "another-Pass-77"})
    assert_error(r, 409, "username_taken")
    assert count(game, Player) == 1


@pytest.mark.parametrize(
    ("username", "password", "code"),
    [
        ("ab", PASSWORD, "invalid_username"),
        ("a" * 21, PASSWORD, "invalid_username"),
        ("has space", PASSWORD, "invalid_username"),
        ("émile", PASSWORD, "invalid_username"),
        ("admin", PASSWORD, "invalid_username"),
        ("Root", PASSWORD, "invalid_username"),
        (123, PASSWORD, "invalid_username"),
        (None, PASSWORD, "invalid_username"),
        ("dave", "short", "invalid_password"),
        ("dave", " " * 12, "invalid_password"),
        ("dave", "x" * 129, "invalid_password"),
        ("dave", 12345678, "invalid_password"),
        ("dave", None, "invalid_password"),
        ("ab", "short", "invalid_username"),  # the username is checked first
    ],
)
def test_register_validates_username_then_password(client, game, username, password, code):
    r = client.post(f"{API}/auth/register", json={"username": username, "password": password})
    assert_error(r, 422, code)
    assert count(game, Player) == 0


def test_login_gives_a_new_session_and_the_same_reply_for_any_bad_credentials(client, game):
    register(client, "alice")
    r = client.post(f"{API}/auth/login", json={"username": "ALICE", "password": PASSWORD})
    assert r.status_code == 200
    assert r.get_json()["user"]["username"] == "alice"
    assert client.get(f"{API}/portfolio", headers=bearer(r.get_json())).status_code == 200
    sessions = count(game, AuthSession)
    unknown = client.post(f"{API}/auth/login", json={"username": "nobody", "password": PASSWORD})
    wrong = client.post(f"{API}/auth/login", json={"username": "alice", "password": "wrong-pw"})
    assert_error(unknown, 401, "invalid_credentials")
    assert_error(wrong, 401, "invalid_credentials")
    assert unknown.get_json() == wrong.get_json()
    for bad in ({"username": 1, "password": PASSWORD}, {"username": "alice"}, {}):
        assert_error(client.post(f"{API}/auth/login", json=bad), 401, "invalid_credentials")
    assert count(game, AuthSession) == sessions


def test_login_is_rate_limited_to_10_a_minute_per_client(client, game):
    register(client, "alice")
    for i in range(10):  # ten accounts: each account's own budget (5 failures) is not the limit
        r = client.post(f"{API}/auth/login", json={"username": f"user{i}", "password": "wrong-pw"})
        assert_error(r, 401, "invalid_credentials")
    r = client.post(f"{API}/auth/login", json={"username": "alice", "password": PASSWORD})
    body = assert_error(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) > 0
    assert r.headers["X-RateLimit-Limit"] == "10" and r.headers["X-RateLimit-Remaining"] == "0"
    assert "10 per 1 minute" in body["error"]["message"]
    other = client.post(
        f"{API}/auth/login",
        json={"username": "alice", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.9.8.7"},
    )
    assert other.status_code == 200  # the limit is per client address


def test_refresh_rotates_and_a_reused_token_ends_the_whole_session(client, game):
    first = register(client)
    r = client.post(f"{API}/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200
    second = r.get_json()
    assert second["user"] == first["user"]
    assert second["refresh_token"] != first["refresh_token"]
    # access tokens name the session, not the rotation: the earlier one also still works
    assert client.get(f"{API}/portfolio", headers=bearer(first)).status_code == 200
    assert client.get(f"{API}/portfolio", headers=bearer(second)).status_code == 200
    other = client.post(f"{API}/auth/login", json={"username": "alice", "password": PASSWORD})

    replay = client.post(f"{API}/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert_error(replay, 401, "invalid_token")
    # the spent token leaked, so the whole family is gone: both access tokens and the new refresh
    for pair in (first, second):
        assert_error(client.get(f"{API}/portfolio", headers=bearer(pair)), 401, "invalid_token")
    again = client.post(f"{API}/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert_error(again, 401, "invalid_token")
    # another session of the same player is untouched
    assert client.get(f"{API}/portfolio", headers=bearer(other.get_json())).status_code == 200


@pytest.mark.parametrize("token", [None, 42, "", "short", "x" * 129, "x" * 40])
def test_refresh_refuses_anything_but_a_live_refresh_token(client, game, token):
    r = client.post(f"{API}/auth/refresh", json={"refresh_token": token})
    assert_error(r, 401, "invalid_token")


def test_logout_revokes_the_session_tokens_only(client, game):
    alice = register(client)
    other = client.post(f"{API}/auth/login", json={"username": "alice", "password": PASSWORD})
    r = client.post(f"{API}/auth/logout", headers=bearer(alice))
    assert (r.status_code, r.get_json()) == (200, {"logged_out": True})
    assert_error(client.get(f"{API}/portfolio", headers=bearer(alice)), 401, "invalid_token")
    assert_error(client.post(f"{API}/auth/logout", headers=bearer(alice)), 401, "invalid_token")
    refresh = client.post(f"{API}/auth/refresh", json={"refresh_token": alice["refresh_token"]})
    assert_error(refresh, 401, "invalid_token")
    assert client.get(f"{API}/portfolio", headers=bearer(other.get_json())).status_code == 200


def test_password_change_ends_every_session_and_returns_a_new_pair(client, game):
    alice = register(client)
    other = client.post(f"{API}/auth/login", json={"username": "alice", "password": PASSWORD})
    other = other.get_json()
    url = f"{API}/auth/password"
    wrong = client.post(
        url,
        json={"current_password": "not-it-at-all", "new_password": "brand-new-1"},
        headers=bearer(alice),
    )
    assert_error(wrong, 403, "wrong_password")
    missing = client.post(url, json={"new_password": "brand-new-1"}, headers=bearer(alice))
    assert_error(missing, 403, "wrong_password")
    for bad in ("short", " " * 10, None, 12345678):
        r = client.post(
            url, json={"current_password": PASSWORD, "new_password": bad}, headers=bearer(alice)
        )
        assert_error(r, 422, "invalid_password")
    assert_error(client.post(url, data="nope", headers=bearer(alice)), 400, "invalid_json")
    # nothing above changed anything: the old pair still works
    assert client.get(f"{API}/portfolio", headers=bearer(alice)).status_code == 200

    r = client.post(
        url,
        json={"current_password": PASSWORD, "new_password": "brand-new-1"},
        headers=bearer(alice),
    )
    assert r.status_code == 200
    fresh = r.get_json()
    assert fresh["user"] == alice["user"] and fresh["token_type"] == "Bearer"
    for old in (alice, other):
        assert_error(client.get(f"{API}/portfolio", headers=bearer(old)), 401, "invalid_token")
        refresh = client.post(f"{API}/auth/refresh", json={"refresh_token": old["refresh_token"]})
        assert_error(refresh, 401, "invalid_token")
    assert client.get(f"{API}/portfolio", headers=bearer(fresh)).status_code == 200
    r = client.post(f"{API}/auth/refresh", json={"refresh_token": fresh["refresh_token"]})
    assert r.status_code == 200
    old_pw = client.post(f"{API}/auth/login", json={"username": "alice", "password": PASSWORD})
    assert_error(old_pw, 401, "invalid_credentials")
    new_pw = client.post(f"{API}/auth/login", json={"username": "alice", "password": "brand-new-1"})
    assert new_pw.status_code == 200


def test_a_new_password_equal_to_the_current_one_is_an_invalid_password(client):
    alice = register(client)
    r = client.post(
        f"{API}/auth/password",
        json={"current_password": PASSWORD, "new_password": PASSWORD},
        headers=bearer(alice),
    )
    assert_error(r, 422, "invalid_password")
