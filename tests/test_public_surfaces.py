"""No login name reaches anyone but its owner: every public REST route, page and push is searched.

Players with distinctive usernames register (API, browser form, a bot without a password), trade
over REST and over a socket, and the engine ticks, ranks and settles, so that they are on the tape,
on the leaderboard and in the settlement pushes. Then everything an anonymous visitor can fetch
(every GET route of the app, whatever its path parameters name) and everything an anonymous socket
heard is searched for the usernames; so is what one player's own pages show of the others.
"""

from __future__ import annotations

import json
import re

from martingale import accounts, auth, trading
from martingale.engine import MarketEngine
from martingale.extensions import socketio
from martingale.realtime import BRIDGE

from .helpers import csrf_from, new_asset

PASSWORD = "Quartz-Lantern-31"
# distinctive: no seed, hash, token or generated name can contain them by chance
API_USERS = ("zqx_login_alpha", "zqx_login_bravo")
WEB_USER = "zqx_login_charlie"
BOT = "zqx_login_delta"
LOGINS = (*API_USERS, WEB_USER, BOT)


def leaks(text: str, allowed: tuple[str, ...] = ()) -> list[str]:
    found = text.casefold()
    return [name for name in LOGINS if name not in allowed and name.casefold() in found]


def get_routes(app) -> list[str]:
    """Every GET route's rule, e.g. /api/v1/assets/<ref>/history (static files excepted)."""
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and rule.endpoint != "static"
    )


def fill(rule: str, refs: list[str]) -> list[str]:
    if "<" not in rule:
        return [rule]
    return [re.sub(r"<[^>]+>", ref, rule) for ref in refs]


def test_no_public_payload_page_or_push_contains_a_login_name(app, game, clock):
    live = new_asset(game, lifetime_s="60")
    ending = new_asset(game, lifetime_s="4")
    anonymous = socketio.test_client(app, flask_test_client=app.test_client())

    tokens = {}
    for name in API_USERS:
        chosen = {"display_name": "Bravo Trades"} if name.endswith("bravo") else {}
        r = app.test_client().post(
            "/api/v1/auth/register", json={"username": name, "password": PASSWORD, **chosen}
        )
        assert r.status_code == 201, r.get_data(as_text=True)
        tokens[name] = r.get_json()["access_token"]
    browser = app.test_client()
    page = browser.get("/register").get_data(as_text=True)
    browser.post(
        "/register",
        data={"csrf_token": csrf_from(page), "username": WEB_USER, "password": PASSWORD,
              "password2": PASSWORD},
    )  # fmt: skip
    bot = accounts.create_player(game, BOT)

    api = app.test_client()
    for i, name in enumerate(API_USERS):
        for symbol in (live.symbol, ending.symbol):
            r = api.post(
                "/api/v1/trades",
                json={"symbol": symbol, "side": "buy", "quantity": "2"},
                headers={
                    "Authorization": f"Bearer {tokens[name]}",
                    "Idempotency-Key": f"{i}{symbol}",
                },
            )
            assert r.status_code == 201, r.get_data(as_text=True)
    cookie_socket = socketio.test_client(app, flask_test_client=browser)
    ack = cookie_socket.emit(
        "trade",
        {"symbol": live.symbol, "side": "buy", "quantity": "1", "idempotency_key": "web-1"},
        callback=True,
    )
    assert "trade" in ack, ack
    trading.execute_trade(game, player_id=bot, side="buy", symbol=ending.symbol, quantity="1",
                          idempotency_key="bot-1")  # fmt: skip

    engine = MarketEngine(game)
    for _ in range(8):  # ticks, ranking passes, and the short-lived asset settles
        clock.advance(1)
        engine.step()
    clock.advance(1)
    api.post(  # a trade after the ranking: the tape's push alone carries it
        "/api/v1/trades",
        json={"symbol": live.symbol, "side": "sell", "quantity": "1"},
        headers={"Authorization": f"Bearer {tokens[API_USERS[0]]}", "Idempotency-Key": "late"},
    )

    app.extensions[BRIDGE].flush_tape()  # the tape goes out in batches: send the waiting one now
    heard = anonymous.get_received()
    anonymous.disconnect()
    names_heard = {event["name"] for event in heard}
    stream = json.dumps(heard)
    assert leaks(stream) == [], "the anonymous socket heard a login name"
    # not vacuous: the stream carried every public kind of message, traders named in it
    assert {"prices", "tape", "leaderboard", "asset_settled", "asset_expired"} <= names_heard
    assert "Bravo Trades" in stream and "Trader-" in stream

    visitor = app.test_client()
    refs = [live.symbol, str(live.id), ending.symbol, str(ending.id)]
    fetched = {}
    for rule in get_routes(app):
        for path in fill(rule, refs):
            reply = visitor.get(path, follow_redirects=True)
            fetched[path] = (reply.status_code, reply.get_data(as_text=True))
    assert fetched["/api/v1/tape"][0] == 200 and "Bravo Trades" in fetched["/api/v1/tape"][1]
    board = json.loads(fetched["/api/v1/leaderboard"][1])["leaderboard"]
    assert len(board) == len(LOGINS) and all(r["display_name"] for r in board)
    proof = json.loads(fetched[f"/api/v1/assets/{ending.symbol}/proof"][1])
    assert proof["status"] == "settled"
    for path in ("/login", "/register"):
        assert fetched[path][0] == 200
    for path, (_, body) in fetched.items():
        assert leaks(body) == [], f"anonymous GET {path} shows a login name"

    # a signed-in player sees their own username on their own pages, nobody else's
    own = API_USERS[1]
    player = app.test_client()
    login = auth.login(game, own, PASSWORD, auth.WEB)
    with player.session_transaction() as session:
        session["_user_id"] = login.principal.session_id
    headers = {"Authorization": f"Bearer {tokens[own]}"}
    for rule in get_routes(app):
        for path in fill(rule, refs):
            body = player.get(path, headers=headers, follow_redirects=True).get_data(as_text=True)
            assert leaks(body, allowed=(own,)) == [], f"{own}'s GET {path} shows another login name"
    dashboard = player.get("/").get_data(as_text=True)
    assert own in dashboard and "Bravo Trades" in dashboard  # their own names, to themselves
    cookie_socket.disconnect()
