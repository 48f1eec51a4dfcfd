"""Cookie sessions (Flask-Login), CSRF for cookie-authenticated writes, and API error replies."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, request
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .api.access import bearer_token, domain_error, error_response
from .auth import Principal, principal_for_session
from .errors import MartingaleError
from .extensions import csrf, limiter, login_manager

log = logging.getLogger(__name__)
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "unprocessable", 429: "rate_limited",
}  # fmt: skip


class WebUser:
    """Flask-Login's user: a live login session; its id is the session id, not the player id."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, principal: Principal) -> None:
        self.principal = principal

    def get_id(self) -> str:
        return self.principal.session_id


def init_security(app: Flask) -> None:
    from .app import current_game

    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "web.login"
    login_manager.login_message = None

    @login_manager.user_loader
    def load_user(session_id: str) -> WebUser | None:
        principal = principal_for_session(current_game(), session_id)
        return None if principal is None else WebUser(principal)

    @app.before_request
    def csrf_for_cookie_writes() -> None:
        # a bearer token is not sent by browsers on their own, so only cookie writes need CSRF
        cookie = request.cookies.get(app.config["SESSION_COOKIE_NAME"])
        if request.method in _WRITES and bearer_token() is None and cookie:
            csrf.protect()

    def wants_json() -> bool:
        return (
            request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"
        )

    @app.errorhandler(MartingaleError)
    def on_domain_error(exc: MartingaleError) -> Any:
        return domain_error(exc)

    @app.errorhandler(CSRFError)
    def on_csrf(exc: CSRFError) -> Any:
        return error_response("csrf_failed", "missing or invalid CSRF token", 403)

    @app.errorhandler(RateLimitExceeded)
    def on_rate_limit(exc: RateLimitExceeded) -> Any:
        return error_response("rate_limited", f"too many requests: {exc.description}", 429)

    @app.errorhandler(HTTPException)
    def on_http(exc: HTTPException) -> Any:
        if not wants_json():
            return exc
        status = exc.code or 500
        keep = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}  # 405 must name them
        return error_response(_HTTP_CODES.get(status, "http_error"), exc.name, status, **keep)

    @app.errorhandler(Exception)
    def on_unexpected(exc: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response("internal_error", "something went wrong on our side", 500)
