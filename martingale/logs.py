"""Structured logs: one JSON object per line on stderr, for gunicorn workers, the engine and the CLI.

A log line carries the request id (taken from X-Request-ID when it looks like one, else made, and
sent back in the reply's X-Request-ID) and the player id where the request knows it, so an
operator follows one request or one player across workers. Extra fields go in ``extra={"fields":
{...}}``. Configured once per process by ``configure_logging``, never on import: tests and
libraries keep their own logging.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any, TextIO

from flask import Flask, Response, g, has_request_context, request

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
_HANDLER_NAME = "martingale"
access_log = logging.getLogger("martingale.access")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in ("request_id", "player_id"):
            value = getattr(record, key, None)
            if value is not None:
                line[key] = value
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, separators=(",", ":"))


class RequestContext(logging.Filter):
    """Stamps each record with the current request's id and player, when there is a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = g.get("request_id")
            record.player_id = player_of_request()
        return True


def player_of_request() -> int | None:
    if g.get("player_id") is not None:
        return int(g.player_id)
    principal = g.get("principal")
    return None if principal is None else int(principal.player_id)


def configure_logging(
    fmt: str | None = None, level: str | None = None, stream: TextIO | None = None
) -> None:
    """Route every logger through one stderr handler: JSON lines (MARTINGALE_LOG_FORMAT=json, the
    default) or plain text (``text``), at MARTINGALE_LOG_LEVEL (default INFO). Idempotent."""
    fmt = (fmt or os.environ.get("MARTINGALE_LOG_FORMAT") or "json").lower()
    level = (level or os.environ.get("MARTINGALE_LOG_LEVEL") or "INFO").upper()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(RequestContext())
    if fmt == "text":
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s")
        )
        handler.addFilter(_default_request_id)
    else:
        handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)


def _default_request_id(record: logging.LogRecord) -> bool:
    if getattr(record, "request_id", None) is None:
        record.request_id = "-"
    return True


def init_request_log(app: Flask) -> None:
    """Give every request an id, send it back, and log one line per request when it ends."""
    enabled = bool(app.config.get("MARTINGALE_ACCESS_LOG", "-"))

    @app.before_request
    def _request_id() -> None:
        offered = request.headers.get("X-Request-ID", "")
        g.request_id = offered if _REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_request(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id is not None:
            response.headers["X-Request-ID"] = request_id
        if enabled and access_log.isEnabledFor(logging.INFO):
            started = g.get("request_started", time.perf_counter())
            fields: dict[str, Any] = {
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "ms": round((time.perf_counter() - started) * 1000, 2),
                "remote": request.remote_addr,
            }
            if g.get("trade_id") is not None:
                fields["trade_id"] = g.trade_id
            access_log.info("request", extra={"fields": fields})
        return response
