"""A player's public profile page, /players/<name>: rendered here from profiles.profile.

The figures are written into the page, so it reads the same without scripts; static/js/profile.js
only draws the P&L curve from the points the page carries and puts times in the reader's zone.
The page spends the same per-client read budget as the API (rate_limits.READS, one counter for
both), since it costs what GET /api/v1/players/<name> costs.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask import render_template, request
from flask_login import current_user

from .. import money, rate_limits, wire
from ..clock import iso
from ..errors import UnknownPlayer
from ..extensions import limiter
from ..game import current_game
from ..profiles import Profile, profile
from .blueprint import bp

MINUS = "\N{MINUS SIGN}"
_CENT = Decimal("0.01")


def _client_key() -> str:
    """The API's read key (api/limits.py): the signed-in player, else the address."""
    if current_user.is_authenticated:
        return f"player:{current_user.principal.player_id}"
    return f"addr:{request.remote_addr or 'unknown'}"


_reads = limiter.shared_limit(
    lambda: rate_limits.READS, scope=rate_limits.READS_SCOPE, key_func=_client_key
)


def _dollars(atoms: int, places: Decimal = _CENT) -> str:
    """Grouped dollars rounded half up for display, as the front-end's Intl formats them."""
    exact = Decimal(abs(atoms)) / money.USD_SCALE
    return f"{exact.quantize(places, rounding=ROUND_HALF_UP):,}"


def usd(atoms: int) -> str:
    """Dollars and cents, grouped, a minus sign (U+2212) below zero."""
    return f"{MINUS if atoms < 0 else ''}${_dollars(atoms)}"


def signed_usd(atoms: int) -> str:
    """A signed change; what shows as $0.00 carries no sign (format.js signedUsd)."""
    shown = _dollars(atoms)
    if shown == "0.00":
        return "$0.00"
    return f"{'+' if atoms > 0 else MINUS}${shown}"


def tone(atoms: int) -> str:
    """The up/down class of an amount as it shows."""
    if _dollars(atoms) == "0.00":
        return ""
    return "up" if atoms > 0 else "down"


def price(atoms: int) -> str:
    """2 decimals from $1 up, 4 below (format.js price)."""
    exact = Decimal(atoms) / money.PRICE_SCALE
    places = _CENT if atoms >= money.PRICE_SCALE else Decimal("0.0001")
    return f"${exact.quantize(places, rounding=ROUND_HALF_UP):,}"


def qty(atoms: int) -> str:
    """Every real decimal, trailing zeros trimmed, never rounded; the units grouped."""
    units, _, frac = money.qty(atoms).partition(".")
    frac = frac.rstrip("0")
    return f"{int(units):,}" + (f".{frac}" if frac else "")


def percent(text: str) -> tuple[str, str]:
    """A wire percent ("-1.23") as shown, with a plus or a minus sign, and its tone."""
    if text.lstrip("-") == "0.00":
        return "0.00%", ""
    negative = text.startswith("-")
    return f"{MINUS if negative else '+'}{text.lstrip('-')}%", "down" if negative else "up"


def _view(p: Profile) -> dict[str, Any]:
    body = wire.profile(p)
    ret, ret_tone = percent(body["return_pct"])
    return {
        "p": p,
        "ret": ret,
        "ret_tone": ret_tone,
        "win_rate": f"{body['win_rate_pct']}%" if body["win_rate_pct"] is not None else None,
        # the chart's points: decimal strings, read by profile.js as numbers for drawing only
        "curve": body["curve"],
    }


@bp.get("/players/<name>")
@_reads
def player_profile(name: str) -> Any:
    """A player's public profile: standing, P&L curve, settled positions, latest trades."""
    try:
        found = profile(current_game(), name)
    except UnknownPlayer:
        return render_template(
            "error.html",
            status=404,
            title="Player not found",
            message="No player is shown under this name: they may have changed it, or deleted"
            " their account.",
        ), 404
    return render_template("profile.html", **_view(found))


# the page's money and quantity formats, for its template
for _format in (usd, signed_usd, tone, price, qty, iso):
    bp.add_app_template_filter(_format)
