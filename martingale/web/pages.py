"""Pages and probes. Thin: read through services, render."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, render_template
from flask_login import login_required
from sqlalchemy.exc import SQLAlchemyError

from ..contract import replies as r
from ..contract.operations import Reply, operation
from ..engine import is_ticking
from ..game import current_game
from .blueprint import bp


@bp.get("/healthz")
@operation("healthz", "operations", {200: Reply(r.Health, "Alive.")})
def healthz() -> Any:
    """The process is alive."""
    return jsonify(status="ok")


@bp.get("/readyz")
@operation("readyz", "operations", {
    200: Reply(r.Ready, "Ready."),
    503: Reply((r.EngineStale, r.Unavailable), "Not ready."),
})  # fmt: skip
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


@bp.get("/about")
def about() -> Any:
    """The rules, how expiry and settlement work, and how anyone can verify a settled price path."""
    config = current_app.config
    return render_template(
        "about.html",
        pool=config["MARTINGALE_POOL_SIZE"],
        lifetime_min=int(config["MARTINGALE_LIFETIME_MIN_SECONDS"]) // 60,
        lifetime_max=int(config["MARTINGALE_LIFETIME_MAX_SECONDS"]) // 60,
    )


@bp.get("/privacy")
def privacy() -> Any:
    """What the game keeps about a player, why, for how long, and how to delete it."""
    return render_template("legal/privacy.html")


@bp.get("/terms")
def terms() -> Any:
    """The rules of use: play money, no prizes, no advice, fair play."""
    return render_template("legal/terms.html")
