"""Inputs that once crashed the server."""

from __future__ import annotations

import pytest

from ..helpers import new_asset
from .helpers import API, PASSWORD, assert_error, post_trade, register


@pytest.mark.parametrize("quantity", ["1e999999", "9E+999998"])
def test_a_quantity_with_a_huge_exponent_is_invalid(client, game, quantity):
    asset = new_asset(game)
    alice = register(client)
    assert_error(post_trade(client, alice, asset.symbol, "buy", quantity), 422, "invalid_quantity")


def test_register_refuses_a_password_that_is_not_valid_unicode(client, game):
    r = client.post(f"{API}/auth/register", json={"username": "dave", "password": "\ud800" * 8})
    assert_error(r, 422, "invalid_password")


def test_login_with_a_password_that_is_not_valid_unicode_is_invalid_credentials(client, game):
    register(client, "alice")
    r = client.post(f"{API}/auth/login", json={"username": "alice", "password": "\ud800" * 8})
    assert_error(r, 401, "invalid_credentials")


def test_login_with_a_nul_in_the_username_is_invalid_credentials(client, game, request, backend):
    r = client.post(f"{API}/auth/login", json={"username": "al\x00ice", "password": PASSWORD})
    assert_error(r, 401, "invalid_credentials")
