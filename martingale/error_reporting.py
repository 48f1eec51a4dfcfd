"""Opt-in error reports to Sentry (SENTRY_DSN): the exception and where it happened, nothing a
player sent. No request bodies, cookies, credentials, query strings or local variables leave the
server: a stack frame's locals can hold a password or a token, a body can hold both."""

from __future__ import annotations

from typing import Any

from flask import Flask

# headers that carry credentials or identify a player's session; dropped from every event
_SECRET_HEADERS = {"authorization", "cookie", "x-csrftoken", "x-csrf-token", "idempotency-key"}


def scrub(event: dict[str, Any], hint: object = None) -> dict[str, Any]:
    """Keep the request's method, URL path and harmless headers; drop everything else of it."""
    req = event.get("request")
    if isinstance(req, dict):
        headers = req.get("headers") or {}
        event["request"] = {
            "method": req.get("method"),
            "url": req.get("url"),
            "headers": {k: v for k, v in headers.items() if k.lower() not in _SECRET_HEADERS},
        }
    event.pop("user", None)
    return event


def init_error_reporting(app: Flask, **options: Any) -> bool:
    """Start reporting to Sentry when SENTRY_DSN is set (``options``: tests pass a transport)."""
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration

    sentry_sdk.init(
        dsn=dsn,
        integrations=[FlaskIntegration()],
        environment=app.config.get("MARTINGALE_ENV", "development"),
        # each category of what a request carries, off; the scrub below is the second line
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_bodies": [],
            "url_query_params": {"mode": "off"},
            "stack_frame_variables": False,
            "database_query_data": False,
        },
        max_request_body_size="never",
        traces_sample_rate=0,
        before_send=scrub,  # type: ignore[arg-type]
        **options,
    )
    return True
