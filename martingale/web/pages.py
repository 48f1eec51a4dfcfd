"""Pages and probes. Thin: read through services, render."""

from __future__ import annotations

from flask import jsonify, render_template
from flask_login import login_required
from sqlalchemy.exc import SQLAlchemyError

from .. import market, money
from ..app import current_game
from ..models import EngineBeat
from ..transaction_utils import read
from . import bp


@bp.app_template_filter("price")
def price_filter(atoms: int) -> str:
    return money.price(atoms)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    """The process is alive."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():  # type: ignore[no-untyped-def]
    """The database answers and the engine ticked within the last three ticks."""
    game = current_game()
    try:
        beat = read(game.engine, lambda s: s.get(EngineBeat, 1))
    except SQLAlchemyError:
        return jsonify(status="unavailable", database=False), 503
    now = game.clock.now()
    fresh = (
        beat is not None and (now - beat.beat_at).total_seconds() <= 3 * game.settings.tick_us / 1e6
    )
    return jsonify(status="ok" if fresh else "engine_stale", database=True, engine=fresh), (
        200 if fresh else 503
    )


@bp.get("/")
@login_required
def index():  # type: ignore[no-untyped-def]
    """The trading dashboard (desktop and phone layouts); live data arrives over Socket.IO."""
    return render_template("index.html", quotes=market.live_quotes(current_game()))
