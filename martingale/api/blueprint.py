"""The API's blueprint, apart from the package so route modules and the package import one way."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
