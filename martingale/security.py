"""Who a request comes from: cookie sessions (Flask-Login), bearer tokens, and CSRF for cookie writes."""

from __future__ import annotations

import io
from typing import Any

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface

from . import rate_limits
from .auth import Principal, principal_for_session
from .errors import PayloadTooLarge
from .extensions import csrf, limiter, login_manager
from .game import current_game

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class WebUser:
    """Flask-Login's user: a live login session; its id is the session id, not the player id."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, principal: Principal) -> None:
        self.principal = principal

    def get_id(self) -> str:
        return self.principal.session_id


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer built once per key set.

    Flask builds it on every request, cookie or not (about 2% of a trade's CPU); it depends only
    on the secret key and its fallbacks, so it is rebuilt only when they change.
    """

    _built: tuple[Any, Any] | None = None

    def get_signing_serializer(self, app: Flask) -> Any:
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        built = self._built
        if built is None or built[0] != keys:
            built = self._built = (keys, super().get_signing_serializer(app))
        return built[1]


def bearer_token() -> str | None:
    """The access token of an ``Authorization: Bearer`` header, if the request has one."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def init_security(app: Flask) -> None:
    @app.before_request
    def refuse_oversized_bodies() -> None:
        # first of all hooks, before CSRF reads a form: whatever the route, a declared length over
        # the limit is refused unread, and a chunked body (no length) is read to one byte past
        # the limit at most. Werkzeug alone would hand a route a chunked body cut at the limit,
        # to be answered as malformed JSON rather than as too large.
        limit = request.max_content_length
        if limit is None:
            return
        if (request.content_length or 0) > limit:
            raise PayloadTooLarge.over(limit)
        chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
        # wsgi.input_terminated: the server decoded the chunks and ends the stream itself
        if (
            chunked
            and request.content_length is None
            and request.environ.get("wsgi.input_terminated")
        ):
            body = request.environ["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                raise PayloadTooLarge.over(limit)
            request.environ["wsgi.input"] = io.BytesIO(body)
            request.environ["CONTENT_LENGTH"] = str(len(body))

    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.session_interface = SessionCookies()
    csrf.init_app(app)
    limiter.init_app(app)
    _flask_limiter_skips_trades(app)
    rate_limits.init_trade_budget(app)
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


TRADE_ENDPOINT = "api.place_trade"


def _flask_limiter_skips_trades(app: Flask) -> None:
    """The trade route spends its own budget in one Redis round trip (rate_limits.TradeBudget), so
    Flask-Limiter has nothing to count there; merely finding that out (its exemption and meta-limit
    walk, even with a request filter saying so) was 3% of a trade's web CPU (docs/decisions/0007)."""
    hooks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit not in hooks:
        return  # RATELIMIT_ENABLED is off: Flask-Limiter installed no hook
    index = hooks.index(limiter._check_request_limit)
    check = hooks[index]

    def check_unless_trade() -> None:
        if request.endpoint != TRADE_ENDPOINT:
            check()

    hooks[index] = check_unless_trade
