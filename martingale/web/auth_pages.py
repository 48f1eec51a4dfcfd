"""Account pages: register, log in, log out (POST), display name, change password, delete the
account. Cookie sessions only.

Each form is a Flask-WTF form (CSRF included); the work is done by the same auth services the API
uses, and their refusals become field errors.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from .. import account_deletion, accounts, auth, rate_limits
from ..errors import (
    DisplayNameIsUsername,
    DisplayNameTaken,
    InvalidCredentials,
    InvalidDisplayName,
    InvalidPassword,
    InvalidToken,
    InvalidUsername,
    TooManyAttempts,
    UsernameTaken,
    WrongPassword,
)
from ..extensions import limiter
from ..game import current_game
from ..security import WebUser
from .blueprint import bp


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(3, 20)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=128)])


class RegisterForm(FlaskForm):
    username = StringField(
        "Username", validators=[DataRequired(), Length(3, 20)],
        description="3 to 20 letters, digits or underscores. Private: only you see it.",
    )  # fmt: skip
    display_name = StringField(
        "Display name (optional)", validators=[Optional()],
        description="What other players see on the leaderboard and the tape: 3 to 24 letters,"
        " digits, spaces, _ - or . Leave it empty for a random one; you can change it later.",
    )  # fmt: skip
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(8, 128)],
        description="At least 8 characters and hard to guess: a few uncommon words work well.",
    )  # fmt: skip
    password2 = PasswordField(
        "Repeat password", validators=[DataRequired(), EqualTo("password", "Passwords differ.")]
    )


class DisplayNameForm(FlaskForm):
    display_name = StringField(
        "Display name", validators=[DataRequired()],
        description="What other players see on the leaderboard and the tape: 3 to 24 letters,"
        " digits, spaces, _ - or . It must not look like your username.",
    )  # fmt: skip


_NAME_REFUSALS = (InvalidDisplayName, DisplayNameIsUsername, DisplayNameTaken)


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    new_password = PasswordField("New password", validators=[DataRequired(), Length(8, 128)])
    confirm_password = PasswordField(
        "Repeat new password",
        validators=[DataRequired(), EqualTo("new_password", "Passwords differ.")],
    )


class DeleteAccountForm(FlaskForm):
    password = PasswordField("Your password", validators=[DataRequired()])
    confirm = BooleanField(
        "I understand: my account goes for good, and my username and play money with it.",
        validators=[DataRequired("Tick the box to confirm.")],
    )


def _sign_in(result: auth.Login) -> Any:
    session.clear()  # a fresh session id on every login: no fixation
    session.permanent = True  # PERMANENT_SESSION_LIFETIME applies; the session row expires too
    login_user(WebUser(result.principal))
    return redirect(url_for("web.index"))


def _locked(page: str, exc: TooManyAttempts) -> Any:
    """The form again, answered 429 with Retry-After, as the API answers a locked account."""
    return page, 429, {"Retry-After": str(exc.retry_after)} if exc.retry_after else {}


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(rate_limits.ACCOUNT_WRITES, methods=["POST"])
def register() -> Any:
    """Create an account (with the starting cash) and sign in."""
    if current_user.is_authenticated:
        return redirect(url_for("web.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            result = auth.register(
                current_game(), form.username.data, form.password.data, auth.WEB,
                display_name=form.display_name.data or None,
            )  # fmt: skip
        except (InvalidUsername, UsernameTaken) as exc:
            form.username.errors = [exc.message]
        except _NAME_REFUSALS as exc:
            form.display_name.errors = [exc.message]
        except InvalidPassword as exc:
            form.password.errors = [exc.message]
        else:
            return _sign_in(result)
    return render_template("auth/register.html", form=form), 200 if not form.errors else 422


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(rate_limits.ACCOUNT_WRITES, methods=["POST"])
def login() -> Any:
    """Sign in with a username and password."""
    if current_user.is_authenticated:
        return redirect(url_for("web.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            result = auth.login(current_game(), form.username.data, form.password.data, auth.WEB)
        except InvalidCredentials as exc:
            form.password.errors = [exc.message]
        except TooManyAttempts as exc:
            form.password.errors = [exc.message]
            return _locked(render_template("auth/login.html", form=form), exc)
        else:
            return _sign_in(result)
    return render_template("auth/login.html", form=form), 200 if not form.errors else 401


@bp.post("/logout")
@login_required
def logout() -> Any:
    """End this browser's session (and its sockets)."""
    auth.logout(current_game(), current_user.principal)
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("web.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
@limiter.limit(rate_limits.ACCOUNT_WRITES, methods=["POST"])
def account() -> Any:
    """The player's own names: the username (theirs alone) and the display name (everyone's)."""
    game, who = current_game(), current_user.principal
    form = DisplayNameForm()
    if form.validate_on_submit():
        try:
            accounts.change_display_name(game, who.player_id, form.display_name.data)
        except _NAME_REFUSALS as exc:
            form.display_name.errors = [exc.message]
        else:
            flash("Your display name has been changed.", "success")
            return redirect(url_for("web.account"))
    mine = accounts.account(game, who.player_id)
    if not form.is_submitted():
        form.display_name.data = mine.display_name
    status = 200 if not form.errors else 422
    return render_template("auth/account.html", form=form, account=mine), status


@bp.route("/change-password", methods=["GET", "POST"])
@login_required
@limiter.limit(rate_limits.ACCOUNT_WRITES, methods=["POST"])
def change_password() -> Any:
    """Change the password; every other session of this account ends."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            result = auth.change_password(
                current_game(), current_user.principal, form.current_password.data,
                form.new_password.data, auth.WEB,
            )  # fmt: skip
        except WrongPassword as exc:
            form.current_password.errors = [exc.message]
        except TooManyAttempts as exc:
            form.current_password.errors = [exc.message]
            return _locked(render_template("auth/change_password.html", form=form), exc)
        except InvalidPassword as exc:
            form.new_password.errors = [exc.message]
        else:
            _sign_in(result)
            flash("Your password has been changed. Other sessions were logged out.", "success")
            return redirect(url_for("web.index"))
    return render_template("auth/change_password.html", form=form), 200 if not form.errors else 422


@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
@limiter.limit(rate_limits.ACCOUNT_WRITES, methods=["POST"])
def delete_account() -> Any:
    """Confirm with the password, then delete the account and log out."""
    form = DeleteAccountForm()
    page = "auth/delete_account.html"
    if form.validate_on_submit():
        try:
            account_deletion.delete_account(
                current_game(), current_user.principal, form.password.data, auth.WEB
            )
        except WrongPassword as exc:
            form.password.errors = [exc.message]
            return render_template(page, form=form), 403
        except TooManyAttempts as exc:
            form.password.errors = [exc.message]
            return _locked(render_template(page, form=form), exc)
        except InvalidToken:  # deleted or logged out meanwhile, elsewhere
            logout_user()
            session.clear()
            return redirect(url_for("web.login"))
        logout_user()
        session.clear()
        flash(
            "Your account has been deleted and you are logged out. Thank you for playing.", "info"
        )
        return redirect(url_for("web.login"))
    return render_template(page, form=form), 200 if not form.errors else 422
