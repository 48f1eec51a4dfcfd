"""Query parameters, unknown paths and methods."""

from __future__ import annotations

import pytest

from martingale.extensions import limiter

from ..helpers import new_asset
from .helpers import API, assert_error, bearer, post_trade, register

RANGES = [
    ("/assets/{id}/history", "limit", 1, 2000),
    ("/assets/{id}/history", "since_tick", 0, None),
    ("/tape", "limit", 1, 200),
    ("/leaderboard", "limit", 1, 100),
    ("/trades", "limit", 1, 500),
    ("/trades", "before", 0, None),
    ("/settlements", "limit", 1, 200),
    ("/performance/history", "points", 2, 600),
]


@pytest.mark.parametrize(("path", "name", "low", "high"), RANGES)
def test_query_parameters_outside_their_range_are_400(client, game, path, name, low, high):
    asset = new_asset(game)
    alice = register(client)
    url = API + path.format(id=asset.id)
    for good in [low, "", *([high] if high else [])]:
        limiter.reset()  # budgets are test_read_limits.py's business, not this test's
        r = client.get(url, query_string={name: good}, headers=bearer(alice))
        assert r.status_code == 200, (good, r.get_data(as_text=True))
    bad = ["-1", "abc", "1.5", " 5", "+5", "0x10", "5 ", *([str(high + 1)] if high else [])]
    if low > 0:
        bad.append(str(low - 1))
    for value in bad:
        limiter.reset()
        r = client.get(url, query_string={name: value}, headers=bearer(alice))
        assert_error(r, 400, "invalid_parameter")


@pytest.mark.parametrize("value", ["²", "1" + "0" * 5000], ids=["superscript", "5001-digits"])
def test_odd_digit_strings_in_query_parameters_are_400(client, game, value):
    assert_error(client.get(f"{API}/tape", query_string={"limit": value}), 400, "invalid_parameter")


@pytest.mark.parametrize("what", ["history", "proof"])
@pytest.mark.parametrize("ref", ["99999999999999999999", "²"], ids=["huge", "superscript"])
def test_an_asset_ref_that_no_id_can_have_is_404(client, game, what, ref):
    assert_error(client.get(f"{API}/assets/{ref}/{what}"), 404, "unknown_asset")


@pytest.mark.parametrize("what", ["history", "proof"])
def test_an_asset_id_beyond_32_bits_is_404(client, game, request, backend, what):
    assert_error(client.get(f"{API}/assets/2147483648/{what}"), 404, "unknown_asset")


def test_paging_cursors_stop_at_the_32_bit_columns_they_compare_with(client, game):
    asset = new_asset(game)
    alice = register(client)
    assert post_trade(client, alice, asset.symbol, "buy", "1").status_code == 201
    r = client.get(f"{API}/trades?before=2147483647", headers=bearer(alice))
    assert r.status_code == 200 and len(r.get_json()["trades"]) == 1
    r = client.get(f"{API}/assets/{asset.id}/history?since_tick=2147483647")
    assert r.status_code == 200 and r.get_json()["points"] == []
    assert_error(client.get(f"{API}/trades?before=2147483648", headers=bearer(alice)), 400,
                 "invalid_parameter")  # fmt: skip
    assert_error(client.get(f"{API}/assets/{asset.id}/history?since_tick={2**62}"), 400,
                 "invalid_parameter")  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("get", "/api/v1/nope", 404, "not_found"),
        ("post", "/api/v1/nope", 404, "not_found"),
        ("get", "/api/v1/assets/1", 404, "not_found"),
        ("get", "/api/v1/assets/1/history/", 404, "not_found"),
        ("get", "/api/v2/assets", 404, "not_found"),
        ("delete", "/api/v1/trades", 405, "method_not_allowed"),
        ("put", "/api/v1/portfolio", 405, "method_not_allowed"),
        ("get", "/api/v1/auth/login", 405, "method_not_allowed"),
        ("post", "/api/v1/assets", 405, "method_not_allowed"),
    ],
)
def test_unknown_api_paths_and_methods_answer_json(client, game, method, path, status, code):
    assert_error(getattr(client, method)(path), status, code)


def test_a_405_names_the_allowed_methods(client, game):
    r = client.delete(f"{API}/trades")
    assert r.status_code == 405
    assert {m.strip() for m in r.headers.get("Allow", "").split(",")} >= {"GET", "POST"}
