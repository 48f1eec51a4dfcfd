"""The security headers every response carries, set in one after_request hook.

The Content-Security-Policy allows only the site's own scripts, styles and connections: the
templates have no inline script, style attribute or event handler (a test keeps it so), the
vendored libraries are served from /static, and the socket is same-origin; so are the service
worker (/sw.js), the web app manifest and the icons (web/pwa.py). ``connect-src`` names
the WebSocket URLs of the request's host as well as 'self' because browsers before CSP level 3 do
not let 'self' match ws:/wss:; a Host header that is not a plain host[:port] is left out, so a
client cannot write directives into its own policy. HSTS only in production: a development server
on http must not make the browser refuse it later.
"""

from __future__ import annotations

import re

from flask import Flask, Response, request

_HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")
_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src {connect}; worker-src 'self'; manifest-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_FIXED = {
    "X-Frame-Options": "DENY",  # frame-ancestors' twin for browsers without CSP 2
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": (
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), "
        "magnetometer=(), gyroscope=(), accelerometer=()"
    ),
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"


def content_security_policy(host: str) -> str:
    connect = "'self'"
    if _HOST.fullmatch(host):
        connect += f" ws://{host} wss://{host}"
    return _POLICY.format(connect=connect)


def init_security_headers(app: Flask) -> None:
    production = app.config.get("MARTINGALE_ENV") == "production"

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = content_security_policy(request.host)
        response.headers.update(_FIXED)
        if production:
            response.headers["Strict-Transport-Security"] = HSTS
        return response
