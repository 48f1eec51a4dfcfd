"""What the API tests share: the checked test client, requests as a client makes them, and reads."""

from __future__ import annotations

import itertools

import flask
from flask.testing import FlaskClient
from flask_wtf.csrf import generate_csrf
from sqlalchemy import func, select

from martingale import auth
from martingale.engine import MarketEngine
from martingale.models import Player
from martingale.transaction_utils import read

API = "/api/v1"
PASSWORD = "password1"
ERROR_KEYS = {"code", "message"}


class CheckedClient(FlaskClient):
    """A test client that checks every reply: never a traceback, and JSON on every /api path."""

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = super().open(*args, **kwargs)
        body = response.get_data(as_text=True)
        assert "Traceback" not in body, body
        request = response.request
        if request.path.startswith("/api/") and request.method != "OPTIONS":
            assert response.mimetype == "application/json", (request.path, response.mimetype)
        return response


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    assert isinstance(body["error"], dict) and set(body["error"]) == ERROR_KEYS, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"], body
    return body


def register(client, name: str = "alice", password: str = PASSWORD) -> dict:
    r = client.post(f"{API}/auth/register", json={"username": name, "password": password})
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.get_json()


def bearer(tokens: dict | str) -> dict[str, str]:
    token = tokens if isinstance(tokens, str) else tokens["access_token"]
    return {"Authorization": f"Bearer {token}"}


_keys = itertools.count()


def post_trade(client, tokens, symbol, side, quantity, key: str | None = None, **headers):
    key = key if key is not None else f"key-{next(_keys)}"
    return client.post(
        f"{API}/trades",
        json={"symbol": symbol, "side": side, "quantity": quantity},
        headers={**bearer(tokens), "Idempotency-Key": key, **headers},
    )


def count(game, model) -> int:
    return read(game.engine, lambda s: s.scalar(select(func.count()).select_from(model)))


def cash(game, player_id: int) -> int:
    return read(game.engine, lambda s: s.get(Player, player_id).cash)


def engine_step_after(game, clock, seconds: float):
    clock.advance(seconds)
    return MarketEngine(game).step()


def cookie_login(game, client, name: str = "carol") -> auth.Login:
    """A web (cookie) session, logged in the way Flask-Login does it."""
    login = auth.register(game, name, PASSWORD, auth.WEB)
    with client.session_transaction() as s:
        s["_user_id"] = login.principal.session_id
    return login


def csrf_token(app, client) -> str:
    """A valid CSRF token for the client's session: its raw half is put into that session."""
    with app.test_request_context():
        token = generate_csrf()
        raw = flask.session["csrf_token"]
    with client.session_transaction() as s:
        s["csrf_token"] = raw
    return token
