"""Pages and probes. Thin: read through services, render."""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template
from flask_login import login_required
from sqlalchemy.exc import SQLAlchemyError

from ..engine import is_ticking
from ..game import current_game
from .blueprint import bp


@bp.get("/healthz")
def healthz() -> Any:
    """The process is alive."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> Any:
    """The database answers and the engine ticked within the last three ticks."""
    try:
        fresh = is_ticking(current_game())
    except SQLAlchemyError:
        return jsonify(status="unavailable", database=False), 503
    return jsonify(status="ok" if fresh else "engine_stale", database=True, engine=fresh), (
        200 if fresh else 503
    )


@bp.get("/")
@login_required
def index() -> Any:
    """The trading dashboard (desktop and phone layouts); live data arrives over Socket.IO."""
    return render_template("index.html")
