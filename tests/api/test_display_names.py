"""Display names over the API: chosen at registration, read and changed at /api/v1/account."""

from __future__ import annotations

import re

import pytest

from martingale.models import Player
from martingale.transaction_utils import read

from ..helpers import new_asset
from .helpers import (
    API,
    PASSWORD,
    assert_error,
    bearer,
    cookie_login,
    csrf_token,
    post_trade,
    register,
)


def shown(game, player_id: int) -> str:
    return read(game.database, lambda s: s.get(Player, player_id).display_name)


def test_registration_takes_an_optional_display_name(client, game):
    chosen = register(client, "alice", display_name="  Queen of Hearts ")
    assert chosen["user"]["display_name"] == "Queen of Hearts"
    given = register(client, "bob")
    assert re.fullmatch(r"Trader-[2-9A-Z]{5}", given["user"]["display_name"])
    assert "bob" not in given["user"]["display_name"].lower()
    null = client.post(
        f"{API}/auth/register",
        json={"username": "carol", "password": PASSWORD, "display_name": None},
    )
    assert null.status_code == 201 and null.get_json()["user"]["display_name"].startswith("Trader-")


@pytest.mark.parametrize(
    ("display_name", "status", "code"),
    [
        ("ab", 422, "invalid_display_name"),
        ("bad!name", 422, "invalid_display_name"),
        (["list"], 422, "invalid_display_name"),
        ("Dave", 422, "display_name_is_username"),  # the username's own look-alike
        ("Alice", 409, "display_name_taken"),  # another player's display name
        ("AIi_ce", 409, "display_name_taken"),  # ... by look-alike
        ("w0nderland", 409, "display_name_taken"),  # another player's username
    ],
)
def test_a_refused_display_name_registers_nobody(client, game, display_name, status, code):
    register(client, "wonderland", display_name="Alice")
    r = client.post(
        f"{API}/auth/register",
        json={"username": "dave", "password": PASSWORD, "display_name": display_name},
    )
    assert_error(r, status, code)
    login = client.post(f"{API}/auth/login", json={"username": "dave", "password": PASSWORD})
    assert login.status_code == 401


def test_the_account_shows_the_caller_both_names(client, game):
    alice = register(client, "alice", display_name="Queen of Hearts")
    body = client.get(f"{API}/account", headers=bearer(alice)).get_json()
    assert body == {
        "id": alice["user"]["id"],
        "username": "alice",
        "display_name": "Queen of Hearts",
    }
    assert_error(client.get(f"{API}/account"), 401, "unauthorized")


def test_patch_account_changes_the_display_name_everywhere_public(client, game, clock):
    asset = new_asset(game)
    alice = register(client, "alice", display_name="Queen of Hearts")
    assert post_trade(client, alice, asset.symbol, "buy", "1").status_code == 201
    r = client.patch(f"{API}/account", json={"display_name": "Red Queen"}, headers=bearer(alice))
    assert r.status_code == 200
    assert r.get_json() == {
        "id": alice["user"]["id"],
        "username": "alice",
        "display_name": "Red Queen",
    }
    assert shown(game, alice["user"]["id"]) == "Red Queen"
    tape = client.get(f"{API}/tape").get_json()["tape"]
    assert [t["display_name"] for t in tape] == ["Red Queen"]  # the past trade too
    again = client.post(f"{API}/auth/login", json={"username": "alice", "password": PASSWORD})
    assert again.get_json()["user"]["display_name"] == "Red Queen"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 422, "invalid_display_name"),
        ({"display_name": 7}, 422, "invalid_display_name"),
        ({"display_name": "x" * 25}, 422, "invalid_display_name"),
        ({"display_name": "Bo  b"}, 422, "invalid_display_name"),
        ({"display_name": "root"}, 422, "invalid_display_name"),
        ({"display_name": "ALICE"}, 422, "display_name_is_username"),
        ({"display_name": "Knave-0f-Hearts"}, 409, "display_name_taken"),
        ({"display_name": "B_O_B"}, 409, "display_name_taken"),
    ],
)
def test_a_refused_change_changes_nothing(client, game, body, status, code):
    alice = register(client, "alice", display_name="Queen of Hearts")
    register(client, "bob", display_name="Knave of Hearts")
    r = client.patch(f"{API}/account", json=body, headers=bearer(alice))
    assert_error(r, status, code)
    assert shown(game, alice["user"]["id"]) == "Queen of Hearts"


def test_patch_account_needs_a_json_object_and_a_login(client, game):
    alice = register(client, "alice", display_name="Queen of Hearts")
    assert_error(
        client.patch(f"{API}/account", data="nope", headers=bearer(alice)), 400, "invalid_json"
    )
    assert_error(
        client.patch(f"{API}/account", json={"display_name": "Someone"}), 401, "unauthorized"
    )
    assert shown(game, alice["user"]["id"]) == "Queen of Hearts"


def test_a_cookie_change_needs_the_csrf_token(app, client, game):
    login = cookie_login(game, client, "carol")
    body = {"display_name": "Cheshire Cat"}
    refused = client.patch(f"{API}/account", json=body)
    assert_error(refused, 403, "csrf_failed")
    assert shown(game, login.principal.player_id) != "Cheshire Cat"
    token = csrf_token(app, client)
    ok = client.patch(f"{API}/account", json=body, headers={"X-CSRFToken": token})
    assert ok.status_code == 200 and shown(game, login.principal.player_id) == "Cheshire Cat"


def test_name_changes_are_rate_limited_like_the_password_routes(app, client, game):
    alice = register(client, "alice", display_name="Queen of Hearts")
    codes = [
        client.patch(
            f"{API}/account", json={"display_name": f"Queen {chr(65 + i)}"}, headers=bearer(alice)
        ).status_code
        for i in range(12)
    ]
    assert codes == [200] * 10 + [429] * 2
