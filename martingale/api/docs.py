"""The OpenAPI 3 document of this API, served as written (tests check it against the routes)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from .blueprint import bp

SPEC = Path(__file__).with_name("openapi.json")


@cache
def document() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(SPEC.read_text())
    return doc


@bp.get("/openapi.json")
def openapi() -> Any:
    """This API, described in OpenAPI 3."""
    return document()
