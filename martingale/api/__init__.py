"""REST API v1: JSON only, errors as {"error": {"code", "message"}}; handlers stay thin."""

# importing the route modules registers their routes on the blueprint
from . import account, auth_routes, docs, market
from .blueprint import bp

__all__ = ["account", "auth_routes", "bp", "docs", "market"]
