"""Request bodies over the limit are refused with 413 before they are read (issue 9 item 1).

A 150 MiB JSON body to /auth/refresh was read and parsed (the worker grew by 290 MB). Each body
here is a stream that counts what the app pulls from it, so a test can tell "refused" from "read,
then refused".
"""

from __future__ import annotations

import io
import json

import pytest

from martingale import create_app
from martingale.game import game_of
from martingale.models import AuthSession, Trade

from ..helpers import csrf_from, make_config, new_asset
from .helpers import API, PASSWORD, assert_error, bearer, cash, count, register
from .openapi_spec import validate_response

MiB = 1024 * 1024
LIMIT = 64 * 1024  # the documented default


class CountingBody(io.RawIOBase):
    """A JSON object of ``size`` bytes, made as it is pulled; ``pulled`` counts what was read."""

    def __init__(self, size: int, field: str = "refresh_token") -> None:
        self.head = f'{{"{field}": "'.encode()
        self.size = size
        self.pulled = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        n = min(len(buffer), self.size - self.pulled)
        if n <= 0:
            return 0
        chunk = (self.head + b"a" * n)[self.pulled : self.pulled + n] if self.pulled < 16 else None
        buffer[:n] = chunk if chunk is not None and len(chunk) == n else b"a" * n
        self.pulled += n
        return n


def _sized(body: CountingBody, content_type: str = "application/json") -> dict:
    """The environ of a request declaring its length, as any HTTP/1.1 client does."""
    return {"wsgi.input": body, "CONTENT_LENGTH": str(body.size), "CONTENT_TYPE": content_type}


def _chunked(body: io.IOBase, content_type: str = "application/json") -> dict:
    """The environ gunicorn gives a chunked request: no length, a stream the server ends."""
    return {
        "wsgi.input": body,
        "wsgi.input_terminated": True,
        "HTTP_TRANSFER_ENCODING": "chunked",
        "CONTENT_TYPE": content_type,
    }


def test_a_150_mib_refresh_body_is_413_and_never_read(client, game):
    body = CountingBody(150 * MiB)
    r = client.post(f"{API}/auth/refresh", environ_overrides=_sized(body))
    reply = assert_error(r, 413, "payload_too_large")
    assert "65536" in reply["error"]["message"]
    assert body.pulled == 0
    validate_response("post", "/api/v1/auth/refresh", r)


def test_a_60_mib_trade_body_is_413_never_read_and_trades_nothing(client, game):
    asset = new_asset(game)
    alice = register(client)
    body = CountingBody(60 * MiB, field="symbol")
    r = client.post(
        f"{API}/trades",
        headers={**bearer(alice), "Idempotency-Key": "k"},
        environ_overrides=_sized(body),
    )
    assert_error(r, 413, "payload_too_large")
    assert body.pulled == 0
    assert count(game, Trade) == 0 and cash(game, alice["user"]["id"]) == 100_000 * 10**6
    assert asset.symbol  # the trade would have been valid in every other respect


@pytest.mark.parametrize("path", ["/auth/refresh", "/auth/login", "/auth/register", "/trades"])
def test_a_chunked_body_is_cut_off_at_the_limit(client, game, path):
    headers = {**bearer(register(client)), "Idempotency-Key": "k"} if path == "/trades" else {}
    body = CountingBody(150 * MiB)
    r = client.post(f"{API}{path}", headers=headers, environ_overrides=_chunked(body))
    assert_error(r, 413, "payload_too_large")
    assert body.pulled == LIMIT + 1, body.pulled  # one byte past the limit tells it is too large
    validate_response("post", f"/api/v1{path}", r)


def test_a_body_under_the_limit_is_served(client, game):
    register(client)
    pad = "p" * (LIMIT - 200)
    r = client.post(
        f"{API}/auth/login", json={"username": "alice", "password": PASSWORD, "pad": pad}
    )
    assert r.status_code == 200, r.get_data(as_text=True)
    assert count(game, AuthSession) == 2


def test_a_chunked_body_under_the_limit_is_served(client, game):
    register(client)
    raw = json.dumps({"username": "alice", "password": PASSWORD}).encode()
    body = io.BytesIO(raw)
    r = client.post(f"{API}/auth/login", environ_overrides=_chunked(body))
    assert r.status_code == 200, r.get_data(as_text=True)
    assert count(game, AuthSession) == 2


def test_a_web_form_over_the_limit_gets_a_413_page_and_logs_nobody_in(client, game):
    register(client)
    page = client.get("/login").get_data(as_text=True)
    body = CountingBody(20 * MiB, field="username")
    r = client.post("/login", environ_overrides=_sized(body, "application/x-www-form-urlencoded"))
    assert r.status_code == 413 and r.mimetype == "text/html"
    text = r.get_data(as_text=True)
    assert "too large" in text and "64 KiB" in text and "Traceback" not in text
    assert body.pulled == 0 and count(game, AuthSession) == 1
    assert csrf_from(page)  # the page the form came from is an ordinary one


def test_the_limit_is_configurable(database_url):
    app = create_app(make_config(database_url, MAX_CONTENT_LENGTH=1024))
    try:
        client = app.test_client()
        small = client.post(f"{API}/auth/refresh", json={"refresh_token": "x" * 900})
        assert small.status_code == 401
        body = CountingBody(2048)
        big = client.post(f"{API}/auth/refresh", environ_overrides=_sized(body))
        assert big.status_code == 413 and big.get_json()["error"]["code"] == "payload_too_large"
        assert body.pulled == 0
    finally:
        game_of(app).database.dispose()
