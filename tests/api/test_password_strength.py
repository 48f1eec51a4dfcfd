"""Weak passwords are refused wherever a password is set: registration and password change, on the
API and on the pages, with the estimator's own advice in the message."""

from __future__ import annotations

import re

import pytest

from martingale.models import Player

from .helpers import API, PASSWORD, assert_error, bearer, count, register

WEAK = [
    ("password", "common password"),
    ("12345678", "common password"),
    ("qwertyuiop", "common password"),
    ("aaaaaaaaaaaa", "Repeats"),
    ("Alice2024!", "Add another word"),
]


@pytest.mark.parametrize(("password", "advice"), WEAK)
def test_registration_refuses_a_guessable_password_and_says_why(client, game, password, advice):
    r = client.post(f"{API}/auth/register", json={"username": "dave", "password": password})
    body = assert_error(r, 422, "invalid_password")
    assert "too easy to guess" in body["error"]["message"]
    assert advice in body["error"]["message"]
    assert count(game, Player) == 0


@pytest.mark.parametrize("password", ["Tulip_Harbor_93", "my-Tulip_Harbor_93", "tulip_harbor_93!"])
def test_a_password_containing_the_username_is_refused(client, game, password):
    r = client.post(
        f"{API}/auth/register", json={"username": "Tulip_Harbor_93", "password": password}
    )
    body = assert_error(r, 422, "invalid_password")
    assert "username" in body["error"]["message"]
    assert count(game, Player) == 0


def test_a_strong_password_is_accepted(client, game):
    r = client.post(
        f"{API}/auth/register", json={"username": "dave", "password": "Lantern-Quartz-71"}
    )
    assert r.status_code == 201


def test_a_password_change_refuses_a_weak_new_password_and_changes_nothing(client, game):
    alice = register(client, "alice")
    for weak in ("password", "12345678", "alice-alice-alice"):
        r = client.post(
            f"{API}/auth/password",
            json={"current_password": PASSWORD, "new_password": weak},
            headers=bearer(alice),
        )
        assert_error(r, 422, "invalid_password")
    assert client.get(f"{API}/portfolio", headers=bearer(alice)).status_code == 200
    r = client.post(f"{API}/auth/login", json={"username": "alice", "password": PASSWORD})
    assert r.status_code == 200


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def test_the_register_page_shows_the_advice_next_to_the_password(app, game):
    browser = app.test_client()
    token = _csrf(browser.get("/register").get_data(as_text=True))
    r = browser.post(
        "/register",
        data={"csrf_token": token, "username": "dave", "password": "12345678",
              "password2": "12345678"},
    )  # fmt: skip
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "too easy to guess" in html and "common password" in html
    assert count(game, Player) == 0
