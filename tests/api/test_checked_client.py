"""The checked client itself: it fails a test on an unexpected server error, which no body shows."""

from __future__ import annotations

import pytest
from flask import jsonify

from ..helpers import new_asset
from .helpers import API, post_trade, register


def crash():
    raise RuntimeError("a bug in a route")


def quiet_500():
    return jsonify(error={"code": "internal_error", "message": "m"}), 500


@pytest.mark.parametrize("view", [crash, quiet_500])
def test_an_unexpected_server_error_fails_the_request(app, client, view):
    app.add_url_rule(f"{API}/broken", view_func=view)
    with pytest.raises(AssertionError, match="failed unexpectedly") as failed:
        client.get(f"{API}/broken")
    if view is crash:  # the failure shows what the app logged, traceback and all
        assert "a bug in a route" in str(failed.value)


def test_a_listener_failure_the_app_swallows_still_fails_the_request(client, game):
    asset = new_asset(game)
    alice = register(client)

    def broken_listener(name, payload):
        raise RuntimeError("a bug in a listener")

    game.events.subscribe(broken_listener)
    with pytest.raises(AssertionError, match="a bug in a listener"):
        post_trade(client, alice, asset.symbol, "buy", "1")  # a 201 for the caller


def test_an_expected_failure_passes_and_an_expected_one_that_never_comes_fails(app, client):
    app.add_url_rule(f"{API}/broken", view_func=crash)
    with client.expect_unhandled_error() as failures:
        r = client.get(f"{API}/broken")
    assert failures == [r] and r.get_json()["error"]["code"] == "internal_error"
    with pytest.raises(AssertionError, match="was expected"), client.expect_unhandled_error():
        assert client.get("/healthz").status_code == 200
