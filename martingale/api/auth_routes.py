"""Accounts over the API: register, log in, refresh, log out, change password."""

from __future__ import annotations

from typing import Any

from flask import session
from flask_login import logout_user

from .. import auth, errors, rate_limits, wire
from ..contract import replies as r
from ..contract.operations import (
    ACCOUNT_WRITES,
    PASSWORD_CHECKS,
    REFRESHES,
    Auth,
    Reply,
    operation,
    refusal,
)
from ..contract.requests import LoginRequest, PasswordChangeRequest, RefreshRequest, RegisterRequest
from ..extensions import limiter
from ..game import current_game
from .access import body, caller
from .blueprint import bp


@bp.post("/auth/register")
@operation("register", "auth", {
    201: Reply(r.Login, "Registered and logged in."),
    409: refusal(
        "The username is taken (case-insensitively) or looks like another player's display name"
        " (username_taken); the display name looks like another player's display name or"
        " username (display_name_taken).",
        errors.UsernameTaken, errors.DisplayNameTaken,
    ),
    422: refusal(
        "Bad username, password or display name; or a display name that looks like the"
        " username.",
        errors.InvalidUsername, errors.InvalidPassword, errors.InvalidDisplayName,
        errors.DisplayNameIsUsername,
    ),
}, body=RegisterRequest, limit=ACCOUNT_WRITES)  # fmt: skip
@limiter.limit(rate_limits.ACCOUNT_WRITES)
def register() -> Any:
    """Create an account with the starting cash; returns a token pair."""
    form = body(RegisterRequest)
    result = auth.register(
        current_game(), form.username, form.password, auth.API, display_name=form.display_name
    )
    return wire.login(result), 201


@bp.post("/auth/login")
@operation("login", "auth", {
    200: Reply(r.Login, "A new session's token pair."),
    401: refusal("Unknown username or wrong password (the same reply for both).",
                 errors.InvalidCredentials),
}, body=LoginRequest, limit=PASSWORD_CHECKS)  # fmt: skip
@limiter.limit(rate_limits.ACCOUNT_WRITES)
def login() -> Any:
    """Exchange a username and password for a token pair."""
    form = body(LoginRequest)
    return wire.login(auth.login(current_game(), form.username, form.password, auth.API))


@bp.post("/auth/refresh")
@operation("refresh", "auth", {
    200: Reply(r.Login, "The rotated pair, same session."),
    401: refusal(
        "Unknown, spent or expired refresh token, or its session has ended. Presenting a spent"
        " token also revokes its whole session.",
        errors.InvalidToken,
    ),
}, body=RefreshRequest, limit=REFRESHES)  # fmt: skip
@limiter.limit(rate_limits.REFRESHES)
def refresh() -> Any:
    """Spend a refresh token for a new pair (a reused token ends its session)."""
    return wire.login(auth.refresh(current_game(), body(RefreshRequest).refresh_token))


@bp.post("/auth/logout")
@operation("logout", "auth", {200: Reply(r.LoggedOut, "Logged out.")}, auth=Auth.REQUIRED)
def logout() -> Any:
    """End this session: its tokens or its cookie, and its open sockets."""
    auth.logout(current_game(), caller())
    logout_user()
    session.clear()
    return {"logged_out": True}


@bp.post("/auth/password")
@operation("changePassword", "auth", {
    200: Reply(r.Login, "The new session's token pair."),
    403: refusal(
        "The current password is wrong, or the new one equals it (wrong_password); or a cookie"
        " write without CSRF token (csrf_failed).",
        errors.WrongPassword, also=("csrf_failed",),
    ),
    422: refusal("The new password is not acceptable.", errors.InvalidPassword),
}, auth=Auth.REQUIRED, body=PasswordChangeRequest, limit=PASSWORD_CHECKS)  # fmt: skip
@limiter.limit(rate_limits.ACCOUNT_WRITES)
def change_password() -> Any:
    """Change the password; every session ends and a new token pair is returned."""
    who = caller()
    form = body(PasswordChangeRequest)
    result = auth.change_password(
        current_game(), who, form.current_password, form.new_password, auth.API
    )
    logout_user()
    session.clear()
    return wire.login(result)
