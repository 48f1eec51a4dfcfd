"""Accounts over the API: register, log in, refresh, log out, change password."""

from __future__ import annotations

from typing import Any

from flask import session
from flask_login import logout_user

from .. import auth, rate_limits, wire
from ..extensions import limiter
from ..game import current_game
from .access import caller, json_body
from .blueprint import bp


@bp.post("/auth/register")
@limiter.limit(rate_limits.ACCOUNT_WRITES)
def register() -> Any:
    """Create an account with the starting cash; returns a token pair."""
    body = json_body()
    result = auth.register(
        current_game(), body.get("username"), body.get("password"), auth.API,
        display_name=body.get("display_name"),
    )  # fmt: skip
    return wire.login(result), 201


@bp.post("/auth/login")
@limiter.limit(rate_limits.ACCOUNT_WRITES)
def login() -> Any:
    """Exchange a username and password for a token pair."""
    body = json_body()
    result = auth.login(current_game(), body.get("username"), body.get("password"), auth.API)
    return wire.login(result)


@bp.post("/auth/refresh")
@limiter.limit(rate_limits.REFRESHES)
def refresh() -> Any:
    """Spend a refresh token for a new pair (a reused token ends its session)."""
    result = auth.refresh(current_game(), json_body().get("refresh_token"))
    return wire.login(result)


@bp.post("/auth/logout")
def logout() -> Any:
    """End this session: its tokens or its cookie, and its open sockets."""
    auth.logout(current_game(), caller())
    logout_user()
    session.clear()
    return {"logged_out": True}


@bp.post("/auth/password")
@limiter.limit(rate_limits.ACCOUNT_WRITES)
def change_password() -> Any:
    """Change the password; every session ends and a new token pair is returned."""
    who = caller()
    body = json_body()
    result = auth.change_password(
        current_game(), who, body.get("current_password"), body.get("new_password"), auth.API
    )
    logout_user()
    session.clear()
    return wire.login(result)
