"""REST API v1: JSON only, errors as {"error": {"code", "message"}}; handlers stay thin."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import account, auth_routes, docs, market  # noqa: E402,F401  (routes register on bp)
