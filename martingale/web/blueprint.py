"""The pages' blueprint, apart from the package so page modules and the package import one way."""

from flask import Blueprint

bp = Blueprint("web", __name__)
