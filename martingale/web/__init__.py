"""Pages: the trading dashboard, account forms, and the health probes. Thin: read, render."""

from flask import current_app

# importing the page modules registers their routes on the blueprint
from . import auth_pages, links, pages, profile_page, pwa
from .blueprint import bp

__all__ = ["auth_pages", "bp", "links", "pages", "profile_page", "pwa"]

# Vendored front-end libraries, served locally with Subresource Integrity (tests re-hash the files).
VENDOR = {
    "chart": {
        "src": "vendor/chart-4.6.1.umd.min.js",
        "integrity": "sha384-Emf5ZVIUiarAdhkgtqK+5/Z5qIvM6QoVrS+qAVtfyZVuD5lIHrac0me485+Antp0",
    },
    "socketio": {
        "src": "vendor/socket.io-4.8.4.min.js",
        "integrity": "sha384-fBrXvbDtHoeKWJ/hcA6M+YGueiDW+h45I7V6F2kD1S8bOkrF9rZYPLVkCR6BLR/1",
    },
}


@bp.app_context_processor
def vendor_scripts() -> dict[str, object]:
    return {"vendor": VENDOR}


@bp.app_context_processor
def game_terms() -> dict[str, object]:
    """What a newcomer is granted (INITIAL_CASH, a Decimal), grouped: "100,000" or "2,500.50"."""
    cash = current_app.config["INITIAL_CASH"]
    whole = cash == cash.to_integral_value()
    return {"initial_cash": f"{cash:,.0f}" if whole else f"{cash:,.2f}"}
