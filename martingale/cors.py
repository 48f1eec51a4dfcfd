"""Cross-origin access to the REST API: exactly the allowed origins, and never with credentials.

A wrapped app's pages are served from the app's own origin (Capacitor: ``capacitor://localhost`` on
iOS, ``https://localhost`` on Android), so it reaches the game cross-origin; so can a deployment's
extra origins (``MARTINGALE_CORS_ORIGINS``). The same set decides which Socket.IO handshakes are
accepted (realtime/). The rules:

- Only /api paths answer cross-origin; pages, static files and /socket.io/ never name an origin.
- An allowed origin gets ``Access-Control-Allow-Origin: <that origin>`` and the headers a client
  reads (rate limits, request id); any other origin gets no CORS header at all, so the browser
  withholds the reply, and its preflight is refused (403 ``origin_not_allowed``).
- No ``Access-Control-Allow-Credentials``: a cross-origin caller authenticates with a bearer token,
  and the browser neither sends the session cookie nor lets a page read a reply it sent one with.
- ``Vary: Origin`` on every /api reply, as the reply depends on it for any shared cache.

Written here rather than with flask-cors: the rules above fit in this module, and they must be
the same set the socket handshake uses.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, Response, request

from .errors import OriginNotAllowed

API_PREFIX = "/api/"
CAPACITOR_ORIGINS = ("capacitor://localhost", "https://localhost")
METHODS = ("GET", "POST", "PATCH", "DELETE")
# what a cross-origin client sends: a bearer token, JSON, a trade's retry key, a log correlation id
REQUEST_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID")
EXPOSED_HEADERS = (
    "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After",
    "X-Request-ID", "Idempotent-Replayed",
)  # fmt: skip
MAX_AGE_S = 3600  # browsers cap it lower (Chromium: 2 hours); a preflight an hour is plenty
_ALLOWED_HEADERS = frozenset(h.lower() for h in REQUEST_HEADERS)


def allowed_origins(extra: Iterable[str]) -> frozenset[str]:
    """The Capacitor origins and the configured extras: the one set REST and sockets accept."""
    return frozenset(CAPACITOR_ORIGINS) | frozenset(extra)


def init_cors(app: Flask) -> None:
    origins = allowed_origins(app.config.get("MARTINGALE_CORS_ORIGINS") or ())

    @app.before_request
    def preflight() -> Response | None:
        if request.method != "OPTIONS" or not request.path.startswith(API_PREFIX):
            return None
        wanted = request.headers.get("Access-Control-Request-Method")
        if wanted is None:
            return None  # a plain OPTIONS, not a preflight: Flask answers it (Allow)
        origin = request.headers.get("Origin")
        headers = {
            h.strip().lower()
            for h in request.headers.get("Access-Control-Request-Headers", "").split(",")
            if h.strip()
        }
        if origin not in origins or wanted not in METHODS or not headers <= _ALLOWED_HEADERS:
            raise OriginNotAllowed(
                "this origin, method or header may not call the API cross-origin"
            )
        reply = Response(status=204)
        reply.headers["Access-Control-Allow-Methods"] = ", ".join(METHODS)
        reply.headers["Access-Control-Allow-Headers"] = ", ".join(REQUEST_HEADERS)
        reply.headers["Access-Control-Max-Age"] = str(MAX_AGE_S)
        return reply

    @app.after_request
    def cross_origin(response: Response) -> Response:
        if not request.path.startswith(API_PREFIX):
            return response
        response.vary.add("Origin")
        origin = request.headers.get("Origin")
        if origin in origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)
        return response
