"""Password guessing: a budget per account shared by every route that checks a password, on top of
the per-address one; and the client address taken from a trusted proxy's header only."""

from __future__ import annotations

import itertools
import re

import pytest
from limits.storage import MemoryStorage

from martingale import create_app, password_attempts
from martingale.extensions import limiter
from martingale.game import game_of
from martingale.models import AuthSession

from ..helpers import make_config
from .helpers import API, PASSWORD, assert_error, bearer, cookie_login, count, csrf_token, register

_addresses = (f"198.51.100.{i}" for i in itertools.count(1))


def _from_new_address() -> dict:
    """A fresh client address per attempt: the per-address budget never decides these tests."""
    return {"environ_base": {"REMOTE_ADDR": next(_addresses)}}


def _login(client, username: str, password: str):
    return client.post(
        f"{API}/auth/login",
        json={"username": username, "password": password},
        **_from_new_address(),
    )


def _locked(response) -> int:
    """The seconds the lock has left, as the message says; Retry-After is never sooner."""
    body = assert_error(response, 429, "too_many_attempts")
    match = re.search(r"try again in (\d+) seconds", body["error"]["message"])
    assert match, body
    # Flask-Limiter raises Retry-After to its own window's end when later (and rounds down)
    assert int(response.headers["Retry-After"]) >= int(match.group(1)) - 1 > 0
    return int(match.group(1))


def test_five_failures_lock_the_account_from_every_address_even_for_the_right_password(
    client, game
):
    register(client, "alice")
    for _ in range(5):
        assert_error(_login(client, "alice", "not-the-password"), 401, "invalid_credentials")
    sessions = count(game, AuthSession)
    assert _locked(_login(client, "alice", PASSWORD)) == 30
    assert count(game, AuthSession) == sessions  # refused without opening anything


def test_an_unknown_username_is_locked_the_same_way(client, game):
    register(client, "alice")
    for name in ("alice", "nobody"):
        for _ in range(5):
            assert_error(_login(client, name, "not-the-password"), 401, "invalid_credentials")
    known, unknown = _login(client, "alice", PASSWORD), _login(client, "nobody", PASSWORD)
    assert _locked(known) == _locked(unknown)
    assert known.get_json() == unknown.get_json()


def test_the_lock_doubles_up_to_15_minutes_and_a_right_password_after_it_always_works(
    client, game, clock
):
    register(client, "alice")
    for _ in range(5):
        _login(client, "alice", "not-the-password")
    waits = []
    for _ in range(8):
        wait = _locked(_login(client, "ALICE", "not-the-password"))  # refused, not counted
        waits.append(wait)
        clock.advance(wait)
        assert_error(_login(client, "alice", "not-the-password"), 401, "invalid_credentials")
    assert waits == [30, 60, 120, 240, 480, 900, 900, 900]
    clock.advance(900)
    r = _login(client, "alice", PASSWORD)
    assert r.status_code == 200, r.get_data(as_text=True)
    # success resets the account's budget: five more failures before the next lock
    for _ in range(5):
        assert_error(_login(client, "alice", "not-the-password"), 401, "invalid_credentials")
    _locked(_login(client, "alice", PASSWORD))


def test_failures_are_forgotten_after_15_quiet_minutes(client, game, clock):
    register(client, "alice")
    for _ in range(4):
        _login(client, "alice", "not-the-password")
    clock.advance(15 * 60)
    for _ in range(4):
        assert_error(_login(client, "alice", "not-the-password"), 401, "invalid_credentials")
    assert _login(client, "alice", PASSWORD).status_code == 200


def test_every_route_that_checks_a_password_spends_the_same_budget(app, client, game):
    alice = register(client, "alice")
    browser = app.test_client()
    cookie_login(game, browser, "carol")  # carol's browser (a web session)
    token = csrf_token(app, browser)
    change = {"new_password": "an0ther-Strong-one", "confirm_password": "an0ther-Strong-one"}

    def change_on_page(current: str):
        return browser.post(
            "/change-password",
            data={"csrf_token": token, "current_password": current, **change},
            **_from_new_address(),
        )

    def change_over_api(current: str):
        return client.post(
            f"{API}/auth/password",
            json={"current_password": current, "new_password": "an0ther-Strong-one"},
            headers=bearer(alice),
            **_from_new_address(),
        )

    for _ in range(2):
        assert change_on_page("not-it-at-all").status_code == 422
    for _ in range(2):
        assert_error(_login(client, "carol", "not-the-password"), 401, "invalid_credentials")
    assert_error(change_over_api("not-it-at-all"), 403, "wrong_password")  # alice's, not carol's
    assert_error(_login(client, "carol", "not-the-password"), 401, "invalid_credentials")
    _locked(_login(client, "carol", PASSWORD))  # carol's fifth failure locked her account
    page = change_on_page(PASSWORD)
    assert page.status_code == 429 and int(page.headers["Retry-After"]) > 0
    assert "too many failed password attempts" in page.get_data(as_text=True)
    for _ in range(4):  # alice's own budget: four more failures through the API's change
        assert_error(change_over_api("not-it-at-all"), 403, "wrong_password")
    _locked(change_over_api(PASSWORD))
    _locked(_login(client, "alice", PASSWORD))


def test_the_login_page_shows_the_lock_as_a_429(app, client, game):
    register(client, "alice")
    for _ in range(5):
        _login(client, "alice", "not-the-password")
    browser = app.test_client()
    page = browser.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    r = browser.post(
        "/login", data={"csrf_token": token, "username": "alice", "password": PASSWORD}
    )
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert "too many failed password attempts" in r.get_data(as_text=True)
    assert browser.get(f"{API}/portfolio").status_code == 401


def _proxied_app(database_url: str, hops: int):
    return create_app(make_config(database_url, MARTINGALE_TRUSTED_PROXIES=hops))


@pytest.mark.parametrize(("hops", "limited"), [(0, True), (1, False)])
def test_x_forwarded_for_names_the_client_only_behind_a_trusted_proxy(database_url, hops, limited):
    app = _proxied_app(database_url, hops)
    try:
        client = app.test_client()
        statuses = [
            client.post(
                f"{API}/auth/login",
                json={"username": f"user{i}", "password": "not-the-password"},
                headers={"X-Forwarded-For": f"203.0.113.{i}"},
            ).status_code
            for i in range(11)
        ]
    finally:
        game_of(app).database.dispose()
    # every request comes from the one proxy; with no proxy trusted the header is the client's word
    assert statuses[:10] == [401] * 10
    assert statuses[10] == (429 if limited else 401)


def test_with_the_storage_unreachable_the_process_counts_on_its_own(app, client, game, monkeypatch):
    register(client, "alice")

    def unreachable(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with app.app_context():
        storage = limiter.limiter.storage
    for name in ("get", "incr", "clear"):
        monkeypatch.setattr(storage, name, unreachable)
    monkeypatch.setattr(password_attempts, "_FALLBACK", MemoryStorage())  # this test's own
    for _ in range(5):
        assert_error(_login(client, "alice", "not-the-password"), 401, "invalid_credentials")
    _locked(_login(client, "alice", PASSWORD))  # counted in this process's memory meanwhile
