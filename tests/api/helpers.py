"""What the API tests share: the checked test client, requests as a client makes them, and reads."""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import flask
from flask.testing import FlaskClient
from flask_wtf.csrf import generate_csrf
from sqlalchemy import func, select

from martingale import auth
from martingale.engine import MarketEngine
from martingale.models import Player
from martingale.transaction_utils import read

API = "/api/v1"
PASSWORD = "Tulip-Harbor-93"
ERROR_KEYS = {"code", "message"}


class _ErrorLog(logging.Handler):
    """Collects the errors logged on the calling thread, where the test client runs the app."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.thread = threading.get_ident()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.records.append(record)


@contextmanager
def _app_errors() -> Iterator[list[logging.LogRecord]]:
    # the whole package, not only security.py's handler: a swallowed listener failure counts too
    logger = logging.getLogger("martingale")
    handler = _ErrorLog()
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)


class CheckedClient(FlaskClient):
    """A test client that checks every reply: no unexpected failure, and JSON on every /api path.

    The app turns any unexpected exception into a JSON 500 and logs it, so a traceback never reaches
    a body: what gives a failure away is that status and the error the app logs. A test that
    provokes one on purpose wraps the request in ``expect_unhandled_error()``.
    """

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._expected: list | None = None

    @contextmanager
    def expect_unhandled_error(self) -> Iterator[list]:
        """Allow unexpected failures inside the block and require one; yields the failed replies."""
        self._expected = failures = []
        try:
            yield failures
        finally:
            self._expected = None
        assert failures, "an unhandled error was expected, but every request succeeded"

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        with _app_errors() as errors:
            response = super().open(*args, **kwargs)
        request = response.request
        failed = errors or response.status_code == 500
        if self._expected is not None:
            if failed:
                self._expected.append(response)
        else:
            assert not failed, (
                f"{request.method} {request.path} failed unexpectedly "
                f"({response.status_code}):\n" + _formatted(errors)
            )
        body = response.get_data(as_text=True)
        assert "Traceback" not in body, body
        if request.path.startswith("/api/") and request.method != "OPTIONS":
            assert response.mimetype == "application/json", (request.path, response.mimetype)
        return response


def _formatted(records: list[logging.LogRecord]) -> str:
    formatter = logging.Formatter("%(name)s: %(message)s")
    return "\n".join(formatter.format(r) for r in records) or "(nothing logged)"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    assert isinstance(body["error"], dict) and set(body["error"]) == ERROR_KEYS, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"], body
    return body


def register(
    client, name: str = "alice", password: str = PASSWORD, display_name: str | None = None
) -> dict:
    body = {"username": name, "password": password}
    if display_name is not None:
        body["display_name"] = display_name
    r = client.post(f"{API}/auth/register", json=body)
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
    return read(game.database, lambda s: s.scalar(select(func.count()).select_from(model)))


def cash(game, player_id: int) -> int:
    return read(game.database, lambda s: s.get(Player, player_id).cash)


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
