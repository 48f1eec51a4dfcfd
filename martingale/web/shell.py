"""The phone apps' bundled shell: the dashboard and proof pages rendered once, with the static files,
into a folder the Capacitor project ships (mobile/www; docs/decisions/0012-native-wrappers.md).

The shell is the same front-end as the site. What differs is said by the pages themselves: a
``martingale-server`` meta tag names the hosted game, which the scripts then call with bearer
tokens (static/js/shell.js, tokens.js), and a Content-Security-Policy meta tag stands in for the
header the site's responses carry, since the app's own web server sends none. No player data,
username or CSRF token is rendered: the shell is built once, for everybody.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, render_template

PAGES = {"index.html": "index.html", "proof.html": "proof.html"}


class ShellError(ValueError):
    """The build settings cannot make a working shell."""


def server_origin(url: str) -> str:
    """The hosted game's origin: https, or http for a server on the developer's own machine."""
    parts = urlsplit(url.strip())
    local = parts.hostname in ("localhost", "127.0.0.1", "10.0.2.2")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ShellError(f"the server URL must be http(s)://host[:port], got {url!r}")
    if parts.scheme == "http" and not local:
        raise ShellError("a server other than this machine must be reached over https")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ShellError(f"the server URL must be an origin, with no path or query: {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def shell_policy(origin: str) -> str:
    """The site's policy, with the hosted game's origin as the one place to connect to."""
    socket = origin.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        f"font-src 'self'; connect-src 'self' {origin} {socket}; object-src 'none'; "
        "base-uri 'none'; form-action 'self'"
    )


def build_shell(app: Flask, out: Path, server_url: str) -> list[Path]:
    """Write the shell into ``out`` (replacing what is there); returns the pages written."""
    origin = server_origin(server_url)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(Path(app.static_folder or ""), out / "static")
    shell = {"server": origin, "policy": shell_policy(origin)}
    written = []
    with app.test_request_context("/"):
        for name, template in PAGES.items():
            page = out / name
            page.write_text(render_template(template, shell=shell), encoding="utf-8")
            written.append(page)
    return written
