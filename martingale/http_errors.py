"""The one place errors become HTTP replies.

Domain refusals keep their own code and status; CSRF failures, Flask-Limiter's refusals and
Werkzeug's HTTP errors get a stable code of their own; anything else is a bug, logged with its
traceback and answered with a bare ``internal_error``. API paths (and clients that ask for JSON)
always get the ``{"error": {"code", "message"}}`` body; pages keep Werkzeug's HTML error pages.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from . import wire
from .errors import MartingaleError, PayloadTooLarge

log = logging.getLogger(__name__)
_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "unprocessable", 429: "rate_limited",
}  # fmt: skip


def error_response(code: str, message: str, status: int, **headers: str) -> Response:
    return _reply(wire.error_body(code, message), status, headers)


def _reply(body: dict[str, Any], status: int, headers: dict[str, str]) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers)
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def init_error_handlers(app: Flask) -> None:
    @app.errorhandler(MartingaleError)
    def on_domain_error(exc: MartingaleError) -> Response:
        return error_response(exc.code, exc.message, exc.status)

    @app.errorhandler(PayloadTooLarge)
    @app.errorhandler(RequestEntityTooLarge)
    def on_too_large(exc: Exception) -> Any:
        # one answer whether the length was declared (refused unread) or a chunked body reached
        # the limit while Werkzeug read it
        limit = request.max_content_length or 0
        refusal = exc if isinstance(exc, PayloadTooLarge) else PayloadTooLarge.over(limit)
        if _wants_json():
            return error_response(refusal.code, refusal.message, refusal.status)
        size = f"{limit // 1024} KiB" if limit % 1024 == 0 else f"{limit} bytes"
        return render_template("too_large.html", limit=size), refusal.status

    @app.errorhandler(CSRFError)
    def on_csrf(exc: CSRFError) -> Response:
        return error_response("csrf_failed", "missing or invalid CSRF token", 403)

    @app.errorhandler(RateLimitExceeded)
    def on_rate_limit(exc: RateLimitExceeded) -> Response:
        return error_response("rate_limited", f"too many requests: {exc.description}", 429)

    @app.errorhandler(HTTPException)
    def on_http(exc: HTTPException) -> Any:
        if not _wants_json():
            return exc
        status = exc.code or 500
        keep = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}  # 405 must name them
        return error_response(_HTTP_CODES.get(status, "http_error"), exc.name, status, **keep)

    @app.errorhandler(Exception)
    def on_unexpected(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _reply(wire.INTERNAL_ERROR, 500, {})
