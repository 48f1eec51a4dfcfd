"""The OpenAPI 3.1 document of this API: contract/document.py's output, committed (a test fails
when it differs from what the code generates) and served as written."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from ..contract import replies as r
from ..contract.operations import Reply, operation
from .blueprint import bp

SPEC = Path(__file__).with_name("openapi.json")


@cache
def document() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(SPEC.read_text())
    return doc


@bp.get("/openapi.json")
@operation("openapi", "operations", {200: Reply(r.OpenApiDocument, "This document.")})
def openapi() -> Any:
    """This API, described in OpenAPI 3.1."""
    return document()
