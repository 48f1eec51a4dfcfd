"""The one place errors become HTTP replies.

Domain refusals keep their own code and status; CSRF failures, Flask-Limiter's refusals and
Werkzeug's HTTP errors get a stable code of their own; anything else is a bug, logged with its
traceback and answered with a bare ``internal_error``. API paths (and clients that ask for JSON)
always get the ``{"error": {"code", "message"}}`` body; pages get the site's own error page.
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


def retry_after(exc: MartingaleError) -> dict[str, str]:
    """The Retry-After header a refusal calls for, if any."""
    wait = getattr(exc, "retry_after", None)
    return {"Retry-After": str(wait)} if wait else {}


def _reply(body: dict[str, Any], status: int, headers: dict[str, str]) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers)
    return response


# what a page says for a status; anything else says Werkzeug's name for it
_PAGES = {
    403: ("Form refused", "The form's security token was missing or stale: reload the page."),
    404: ("Page not found", "There is no page at this address."),
    405: ("Method not allowed", "This page does not accept that kind of request."),
    429: ("Too many requests", "Please wait a moment and try again."),
    500: ("Something went wrong", "The error is ours and has been logged. Please try again."),
}
# the page of last resort: the error page itself may fail (it asks the database who is signed in)
_BARE_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>{title} · Martingale</title>"
    "<h1>{title}</h1><p>{message}</p><p><a href=/>Back to the market</a></p></html>"
)


def error_page(status: int, title: str, message: str, headers: dict[str, str]) -> Response:
    try:
        html = render_template("error.html", status=status, title=title, message=message)
    except Exception:
        log.exception("the error page failed; answering a bare one")
        html = _BARE_PAGE.format(title=title, message=message)
    return Response(html, status, headers, mimetype="text/html")


def _refusal(code: str, message: str, status: int, **headers: str) -> Response:
    """JSON for the API and for clients that ask for it, the site's error page for pages."""
    if _wants_json():
        return error_response(code, message, status, **headers)
    title, text = _PAGES.get(status, (message, ""))
    return error_page(status, title, text if status in _PAGES else "", headers)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def init_error_handlers(app: Flask) -> None:
    @app.errorhandler(MartingaleError)
    def on_domain_error(exc: MartingaleError) -> Response:
        return error_response(exc.code, exc.message, exc.status, **retry_after(exc))

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
        return _refusal("csrf_failed", "missing or invalid CSRF token", 403)

    @app.errorhandler(RateLimitExceeded)
    def on_rate_limit(exc: RateLimitExceeded) -> Response:
        return _refusal("rate_limited", f"too many requests: {exc.description}", 429)

    @app.errorhandler(HTTPException)
    def on_http(exc: HTTPException) -> Any:
        if exc.code is None or exc.code < 400:  # a redirect raised as an exception stays one
            return exc
        keep = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}  # 405 must name them
        return _refusal(_HTTP_CODES.get(exc.code, "http_error"), exc.name, exc.code, **keep)

    @app.errorhandler(Exception)
    def on_unexpected(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json():
            return _reply(wire.INTERNAL_ERROR, 500, {})
        title, message = _PAGES[500]
        return error_page(500, title, message, {})
