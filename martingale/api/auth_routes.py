"""Accounts over the API: register, log in, refresh, log out, change password."""

from __future__ import annotations

from typing import Any

from flask import session
from flask_login import logout_user

from .. import auth
from ..app import current_game
from ..extensions import limiter
from . import bp, serialize
from .access import json_body, principal

AUTH_LIMIT = "10 per minute"


@bp.post("/auth/register")
@limiter.limit(AUTH_LIMIT)
def register() -> Any:
    """Create an account with the starting cash; returns a token pair."""
    body = json_body()
    result = auth.register(current_game(), body.get("username"), body.get("password"), auth.API)
    return serialize.login(result), 201


@bp.post("/auth/login")
@limiter.limit(AUTH_LIMIT)
def login() -> Any:
    """Exchange a username and password for a token pair."""
    body = json_body()
    result = auth.login(current_game(), body.get("username"), body.get("password"), auth.API)
    return serialize.login(result)


@bp.post("/auth/refresh")
@limiter.limit("30 per minute")
def refresh() -> Any:
    """Spend a refresh token for a new pair (a reused token ends its session)."""
    result = auth.refresh(current_game(), json_body().get("refresh_token"))
    return serialize.login(result)


@bp.post("/auth/logout")
def logout() -> Any:
    """End this session: its tokens or its cookie, and its open sockets."""
    who = principal()
    auth.logout(current_game(), who)
    logout_user()
    session.clear()
    return {"logged_out": True}


@bp.post("/auth/password")
@limiter.limit(AUTH_LIMIT)
def change_password() -> Any:
    """Change the password; every session ends and a new token pair is returned."""
    who = principal()
    body = json_body()
    result = auth.change_password(
        current_game(), who, body.get("current_password"), body.get("new_password"), auth.API
    )
    logout_user()
    session.clear()
    return serialize.login(result)
