"""Which Socket.IO handshakes are accepted, and which of them may authenticate by cookie."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .. import cors


def allowed_origins(extra: Iterable[str]) -> Callable[[str, Mapping[str, Any]], bool]:
    """The handshake's Origin check: the game's own origin, and the REST API's cross-origin set
    (cors.py: the Capacitor origins and MARTINGALE_CORS_ORIGINS) beside it.

    A browser attaches the session cookie to a WebSocket opened by a page of a same-site origin
    (a sibling subdomain), so a socket from any other origin could trade as the signed-in player:
    its handshake is refused (400). Given a list, python-engineio would allow that list alone and
    refuse the game's own pages; the extra origins are meant for a mobile webview, in addition,
    and a socket from one of them ignores the cookie (``own_origin``).
    """
    extras = cors.allowed_origins(extra)

    def allowed(origin: str, environ: Mapping[str, Any]) -> bool:
        return origin in extras or origin in _own_origins(environ)

    return allowed


def own_origin(environ: Mapping[str, Any]) -> bool:
    """Whether a handshake came from the game's own pages (or from no page: no Origin at all).

    Only then may its cookie authenticate it: browsers attach cookies to WebSockets whatever the
    page's origin, and cross-origin callers use bearer tokens (cors.py).
    """
    origin = environ.get("HTTP_ORIGIN")
    return origin is None or origin in _own_origins(environ)


def _own_origins(environ: Mapping[str, Any]) -> set[str]:
    """The origin the request was addressed to, as python-engineio's same-origin default reads it.

    Behind a proxy that terminates TLS the browser's origin is the forwarded one; a page cannot set
    these headers on a WebSocket handshake, so they cannot widen the check for a cross-site page.
    """
    host = environ.get("HTTP_HOST")
    if not host:
        return set()
    scheme = environ.get("wsgi.url_scheme", "http")
    found = {f"{scheme}://{host}"}
    if "HTTP_X_FORWARDED_PROTO" in environ or "HTTP_X_FORWARDED_HOST" in environ:
        proto = environ.get("HTTP_X_FORWARDED_PROTO", scheme).split(",")[0].strip()
        forwarded = environ.get("HTTP_X_FORWARDED_HOST", host).split(",")[0].strip()
        found.add(f"{proto}://{forwarded}")
    return found
