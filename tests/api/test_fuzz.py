"""Property-based: whatever a client sends to the trade and auth endpoints, the server never fails.

Every reply is below 500 and is documented (status, body and headers) in the OpenAPI document; every
4xx has exactly the error shape and changes nothing: the players, trades, postings, login sessions
and refresh tokens are counted, and the fuzzing player's cash and postings compared, around each
request. The books still reconcile after each test (the ``game`` fixture).

The rate limiter's counters are cleared before each example so the fuzzer reaches the handlers;
429 replies are covered in test_auth and test_openapi. Nothing is filtered out: inputs that once
crashed the server (huge exponents, NUL, lone surrogates) are regression tests in
test_crash_regressions.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from martingale import auth, rate_limits
from martingale.engine import MarketEngine
from martingale.extensions import limiter
from martingale.models import AuthSession, Player, Posting, RefreshToken, Trade
from martingale.transaction_utils import read

from ..helpers import new_asset, trade
from .helpers import API, PASSWORD
from .openapi_spec import validate_response

FUZZ = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# -- strategies -------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=30),
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=8,
)
decimal_text = st.from_regex(r"\A[ +-]?[0-9]{0,11}(\.[0-9]{0,10})?([eE][+-]?[0-9]{1,3})?\Z")
content_types = st.sampled_from(
    [
        None,
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ]
)
# a non-JSON body, or bytes that may happen to be JSON
raw_bodies = st.tuples(
    st.one_of(st.binary(max_size=80), st.text(max_size=80).map(str.encode)), content_types
)
# header values as a WSGI server can deliver them: latin-1, no line breaks
header_text = st.text(
    alphabet=st.characters(max_codepoint=255, exclude_characters="\r\n"), max_size=300
)


def mostly(plausible, anything, weight: int = 3):
    """Plausible values ``weight`` times as often as anything else, to get past the first check."""
    return st.sampled_from([True] * weight + [False]).flatmap(
        lambda pick: plausible if pick else anything
    )


LIVE, LIVE_LOWER, SETTLED = "<live>", "<live-lower>", "<settled>"
symbols = mostly(
    st.sampled_from([LIVE, LIVE, LIVE_LOWER, SETTLED, "ZZZ"]),
    st.one_of(
        st.sampled_from(["ZZZZ", "", "A1", "ABCDEFGHIJK"]),
        st.from_regex(r"\A\s?[A-Za-z]{1,11}\s?\Z"),
        json_values,
    ),
)
sides = mostly(
    st.sampled_from(["buy", "sell", "BUY", " Sell "]),
    st.one_of(st.sampled_from(["hold", "", "buy sell"]), json_values),
)
quantities = mostly(
    st.one_of(
        st.sampled_from(["1", "0.5", "0.00000001", "2.12345678", "007", "2000"]),
        st.integers(min_value=1, max_value=3),
    ),
    st.one_of(
        st.sampled_from(
            ["1000000000", "0", "-1", "1e3", "0.123456789", "NaN", "1_0", "\uff11", " 1", "1."]
        ),
        decimal_text,
        st.integers(min_value=-10, max_value=10**12),
        st.floats(),
        json_values,
    ),
)
orders = st.one_of(
    st.fixed_dictionaries(
        {"symbol": symbols, "side": sides, "quantity": quantities}, optional={"note": json_values}
    ),
    st.fixed_dictionaries({}, optional={"symbol": symbols, "side": sides, "quantity": quantities}),
)
idempotency_keys = mostly(
    st.uuids().map(str),
    st.one_of(
        st.none(), st.sampled_from(["used-key", "k", " ", "x" * 255, "x" * 256]), header_text
    ),
)


# -- what is checked around every request -----------------------------------------------------


def snapshot(game, player_id: int) -> tuple[int, ...]:
    def work(s) -> tuple[int, ...]:
        def count(model, *where) -> int:
            return s.scalar(select(func.count()).select_from(model).where(*where))

        return (
            count(Player),
            count(Trade),
            count(Posting),
            count(AuthSession),
            count(RefreshToken),
            s.get(Player, player_id).cash,
            count(Posting, Posting.player_id == player_id),
        )

    return read(game.database, work)


def check(response, method: str, template: str, before, after) -> None:
    text = response.get_data(as_text=True)
    body = response.get_json(silent=True)
    code = body["error"]["code"] if response.status_code >= 400 and body else ""
    event(f"{response.status_code} {code}".strip())  # --hypothesis-show-statistics
    assert response.status_code < 500, text
    if 400 <= response.status_code < 500:
        body = response.get_json()
        assert isinstance(body, dict) and set(body) == {"error"}, text
        error = body["error"]
        assert isinstance(error, dict) and set(error) == {"code", "message"}, text
        assert isinstance(error["code"], str) and error["code"], text
        assert isinstance(error["message"], str), text
        assert after == before, (text, before, after)
    validate_response(method, template, response)


# -- fixtures: a small market and a player with a position and a used key ---------------------


@pytest.fixture
def market(game, clock):
    settled = new_asset(game, initial="5", lifetime_s="30")
    live = new_asset(game, initial="100", lifetime_s="120")
    clock.advance(31)
    MarketEngine(game).step()  # settles the first, refills the pool with random assets
    login = auth.register(game, "fuzzer", PASSWORD, auth.API)
    player = login.principal.player_id
    trade(game, player, "buy", live.symbol, "5", key="used-key")
    return {
        "player": player,
        "token": login.access_token,
        "refresh": login.refresh_token,
        "symbols": {LIVE: live.symbol, LIVE_LOWER: live.symbol.lower(), SETTLED: settled.symbol},
    }


# -- POST /api/v1/trades ----------------------------------------------------------------------


@settings(FUZZ, max_examples=150)
@given(
    body=mostly(orders, st.one_of(json_values, raw_bodies)),
    key=idempotency_keys,
    authorization=st.sampled_from(["valid"] * 6 + ["none", "garbage"]),
)
def test_fuzzed_orders_never_fail_and_refusals_change_nothing(
    client, game, market, body, key, authorization
):
    limiter.reset()
    rate_limits.budget_of(client.application).reset()
    headers = {}
    if authorization == "valid":
        headers["Authorization"] = f"Bearer {market['token']}"
    elif authorization == "garbage":
        headers["Authorization"] = "Bearer not-a-token"
    if key is not None:
        headers["Idempotency-Key"] = key
    if isinstance(body, tuple):
        data, content_type = body
        request = {"data": data, "content_type": content_type}
    else:
        if isinstance(body, dict) and isinstance(body.get("symbol"), str):
            body = {**body, "symbol": market["symbols"].get(body["symbol"], body["symbol"])}
        request = {"json": body}
    before = snapshot(game, market["player"])
    response = client.post(f"{API}/trades", headers=headers, **request)
    check(response, "post", "/api/v1/trades", before, snapshot(game, market["player"]))


# -- the auth endpoints -----------------------------------------------------------------------

usernames = st.one_of(
    st.sampled_from(["admin", "ab", "x" * 21, "a b c"]),
    st.from_regex(r"\A[A-Za-z0-9_]{3,20}\Z"),
    st.text(max_size=25),
    json_values,
)
passwords = st.one_of(
    st.sampled_from(["short", " " * 9, "p" * 129]),
    st.text(max_size=140),
    json_values,
)
TOKEN, SPENT = "<refresh-token>", "<spent-refresh-token>"
refresh_tokens = st.one_of(
    st.sampled_from(["", "x" * 16, "x" * 129]),
    st.text(max_size=140),
    json_values,
)
anything = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "username": usernames,
            "password": passwords,
            "refresh_token": refresh_tokens,
            "extra": json_values,
        },
    ),
    json_values,
    raw_bodies,
)
BODIES = {
    "register": mostly(
        st.fixed_dictionaries(
            {
                "username": mostly(st.from_regex(r"\A\s?[A-Za-z0-9_]{3,20}\s?\Z"), usernames),
                "password": mostly(st.text(min_size=8, max_size=128), passwords),
            }
        ),
        anything,
    ),
    "login": mostly(
        st.fixed_dictionaries(
            {
                "username": mostly(st.sampled_from(["fuzzer", "FUZZER", " fuzzer"]), usernames),
                "password": mostly(st.sampled_from([PASSWORD, "wrong-pw"]), passwords),
            }
        ),
        anything,
    ),
    "refresh": mostly(
        st.fixed_dictionaries(
            {"refresh_token": mostly(st.sampled_from([TOKEN, SPENT]), refresh_tokens)}
        ),
        anything,
    ),
}


@pytest.mark.parametrize("endpoint", ["register", "login", "refresh"])
@FUZZ
@given(data=st.data())
def test_fuzzed_auth_requests_never_fail_and_refusals_change_nothing(
    client, game, market, backend, endpoint, data
):
    limiter.reset()
    body = data.draw(BODIES[endpoint], label="body")
    if isinstance(body, tuple):
        raw, content_type = body
        request: dict[str, Any] = {"data": raw, "content_type": content_type}
    else:
        if isinstance(body, dict) and body.get("refresh_token") in (TOKEN, SPENT):
            body = {**body, "refresh_token": _refresh_token(game, body["refresh_token"] == SPENT)}
        request = {"json": body}
    before = snapshot(game, market["player"])
    response = client.post(f"{API}/auth/{endpoint}", **request)
    check(response, "post", f"/api/v1/auth/{endpoint}", before, snapshot(game, market["player"]))
    if response.status_code == 200 and endpoint != "register":
        assert response.get_json()["token_type"] == "Bearer"


def _refresh_token(game, spent: bool) -> str:
    """A live refresh token of a fresh session, or one already spent on a rotation."""
    login = auth.login(game, "fuzzer", PASSWORD, auth.API)
    if spent:
        auth.refresh(game, login.refresh_token)
    return login.refresh_token


def test_the_fuzzed_market_allows_every_outcome(client, game, market):
    """The fixture's market is not vacuous: new trades, replays, duplicates and refusals."""
    seen: set[int] = set()
    headers = {"Authorization": f"Bearer {market['token']}"}
    live = market["symbols"][LIVE]
    for order, key in (
        ({"symbol": live, "side": "buy", "quantity": "1"}, "fresh"),
        ({"symbol": live, "side": "buy", "quantity": "5"}, "used-key"),
        ({"symbol": live, "side": "sell", "quantity": "1"}, "used-key"),
        ({"symbol": live, "side": "hold", "quantity": "1"}, "k2"),
    ):
        r = client.post(f"{API}/trades", json=order, headers={**headers, "Idempotency-Key": key})
        seen.add(r.status_code)
    assert seen == {201, 200, 409, 422}
