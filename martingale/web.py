"""Pages and probes. Thin: read through services, render."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template

from . import market, money
from .app import current_game

bp = Blueprint("web", __name__)


@bp.app_template_filter("price")
def price_filter(atoms: int) -> str:
    return money.price(atoms)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    """The process is alive."""
    return jsonify(status="ok")


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    """The live market board."""
    return render_template("index.html", quotes=market.live_quotes(current_game()))
