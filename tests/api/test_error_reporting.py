"""Sentry, when opted in, gets the exception and never what the player sent."""

from __future__ import annotations

import json

import pytest
import sentry_sdk
from sentry_sdk.transport import Transport

from martingale import create_app
from martingale.error_reporting import init_error_reporting
from martingale.game import game_of

from ..helpers import make_config

SECRET = "hunter2-super-secret-password"


class Captured(Transport):
    events: list[dict] = []

    def capture_envelope(self, envelope) -> None:
        for item in envelope.items:
            if item.type == "event":
                Captured.events.append(json.loads(item.payload.get_bytes()))


@pytest.fixture
def reporting_app(database_url):
    app = create_app(make_config(database_url, SENTRY_DSN="https://public@sentry.invalid/1"))
    assert init_error_reporting(app, transport=Captured)  # the same init, with a local transport

    @app.post("/api/v1/boom")
    def boom():
        token = SECRET  # a local a report must not carry
        raise RuntimeError(f"boom {len(token)}")

    Captured.events.clear()
    yield app
    sentry_sdk.get_client().close()
    game_of(app).database.dispose()


def test_a_crash_is_reported_without_body_cookies_credentials_or_locals(reporting_app):
    client = reporting_app.test_client()
    client.set_cookie("session", f"cookie-{SECRET}")
    reply = client.post(
        f"/api/v1/boom?password={SECRET}",
        json={"password": SECRET},
        headers={"Authorization": f"Bearer {SECRET}", "Idempotency-Key": SECRET},
    )
    assert reply.status_code == 500 and SECRET not in reply.get_data(as_text=True)
    sentry_sdk.flush(5)
    [event] = Captured.events
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["request"]["method"] == "POST"
    assert SECRET not in json.dumps(event)


def test_without_a_dsn_nothing_is_set_up(app):
    assert init_error_reporting(app) is False
