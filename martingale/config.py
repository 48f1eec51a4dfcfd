"""Configuration from environment variables.

Every setting has a documented environment name and default (README, "Configuration"). The result is
a plain dict of Flask config keys, so tests build their own dict before any engine exists and never
see the developer's environment unless they ask for it.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

DEFAULTS: dict[str, str] = {
    "DATABASE_URL": "sqlite:///martingale.db",
    "SECRET_KEY": "dev-only-not-secret",
    "INITIAL_CASH": "100000",
    "MARTINGALE_POOL_SIZE": "16",
    "MARTINGALE_TICK_SECONDS": "1",
    "MARTINGALE_LIFETIME_MIN_SECONDS": "300",
    "MARTINGALE_LIFETIME_MAX_SECONDS": "1800",
    "MARTINGALE_LIFETIME_MEAN_SECONDS": "600",
    "MARTINGALE_WORTHLESS_PRICE": "0.01",
    "MARTINGALE_EXCLUDED_SYMBOLS": "",
    "MARTINGALE_ENGINE": "on",
    # one JSON line per request (logs.py); empty: off
    "MARTINGALE_ACCESS_LOG": "-",
    # /metrics answers only `Authorization: Bearer <this>`; empty: no /metrics at all
    "MARTINGALE_METRICS_TOKEN": "",
    # opt-in error reports (error_reporting.py): no bodies, cookies, credentials or locals sent
    "SENTRY_DSN": "",
    # settled assets' stored ticks older than this are dropped by `flask compact-ticks`
    "MARTINGALE_TICK_RETENTION_DAYS": "7",
    "MARTINGALE_ENV": "development",
    "MARTINGALE_PASSWORD_HASH": "scrypt:32768:8:1",
    "MARTINGALE_ACCESS_TOKEN_SECONDS": "900",
    "MARTINGALE_REFRESH_TOKEN_DAYS": "30",
    "MARTINGALE_SESSION_HOURS": "12",
    "MARTINGALE_CORS_ORIGINS": "",
    # the phone apps allowed to open /asset and /proof links (web/links.py, docs/mobile.md):
    # Apple's "TEAMID.bundle.id" app ids; Android's package and its signing keys' SHA-256
    "MARTINGALE_IOS_APP_IDS": "",
    "MARTINGALE_ANDROID_PACKAGE": "",
    "MARTINGALE_ANDROID_CERT_SHA256": "",
    "MARTINGALE_ASYNC_MODE": "threading",
    # Redis, as Heroku's add-on names it: when set, it carries Socket.IO messages between processes
    # and holds the rate-limit counters, unless the two overrides below name something else
    "REDIS_URL": "",
    "MARTINGALE_MESSAGE_QUEUE": "",
    "RATELIMIT_STORAGE_URI": "",
    "RATELIMIT_ENABLED": "true",
    # proxies in front of the app whose X-Forwarded-* headers are believed (Heroku's router: 1)
    "MARTINGALE_TRUSTED_PROXIES": "0",
    # the largest request body (JSON or form) and Socket.IO message read, in bytes: every body the
    # game accepts is under 1 KiB, and what a worker reads it holds in memory
    "MARTINGALE_MAX_BODY_BYTES": "65536",
    "MARTINGALE_MAX_SOCKET_MESSAGE_BYTES": "65536",
}
DEV_SECRET = DEFAULTS["SECRET_KEY"]
# Exact names only: a near miss ("prod", "Production ") would otherwise start as development, with
# insecure cookies and the development secret, on a public server.
ENVIRONMENTS = ("development", "production")
# A production SECRET_KEY signs every cookie and access token. The rule refuses the obvious
# mistakes (a placeholder, a repeated word, a keyboard run): it cannot prove a key random, so
# generate one (README): python -c "import secrets; print(secrets.token_urlsafe(48))"
SECRET_MIN_LENGTH = 32
SECRET_MIN_DISTINCT = 12
SECRET_MIN_BITS = 128


class ConfigError(ValueError):
    """A setting is missing or malformed."""


def normalize_database_url(url: str) -> str:
    """Map Heroku-style and driverless PostgreSQL URLs onto the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _decimal(name: str, raw: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise ConfigError(f"{name} must be a decimal number, got {raw!r}") from exc
    if not value.is_finite() or value <= 0:
        raise ConfigError(f"{name} must be a positive number, got {raw!r}")
    return value


def _count(name: str, raw: str) -> int:
    if not raw.strip().isdigit():
        raise ConfigError(f"{name} must be a whole number (0 or more), got {raw!r}")
    return int(raw)


# an origin as a browser sends it: scheme://host[:port], nothing after (no path, no wildcard)
_ORIGIN = re.compile(r"[a-z][a-z0-9+.-]*://([a-z0-9.-]+|\[[0-9a-f:.]+\])(:[0-9]{1,5})?")


def _origins(name: str, raw: str) -> tuple[str, ...]:
    """Origins separated by commas (spaces tolerated), each one checked."""
    found = []
    for item in re.split(r"[,\s]+", raw.strip()):
        if item and not _ORIGIN.fullmatch(item.lower()):
            raise ConfigError(
                f"{name}: {item!r} is not an origin (scheme://host[:port], no path or wildcard)"
            )
        if item:
            found.append(item.lower())
    return tuple(found)


def secret_key_problem(key: str) -> str | None:
    """Why ``key`` is too weak to sign production sessions, or None.

    The strength estimate is the key's length times the Shannon entropy of its own character
    frequencies: "x" * 64 scores 0 bits, "ab" * 32 scores 64, a token_urlsafe(48) about 330.
    """
    if key == DEV_SECRET:
        return "is the development default"
    if len(key) < SECRET_MIN_LENGTH:
        return f"is shorter than {SECRET_MIN_LENGTH} characters"
    counts = Counter(key)
    if len(counts) < SECRET_MIN_DISTINCT:
        return f"has fewer than {SECRET_MIN_DISTINCT} distinct characters"
    bits = -sum(n * math.log2(n / len(key)) for n in counts.values())
    if bits < SECRET_MIN_BITS:
        return f"is too predictable (about {bits:.0f} bits; at least {SECRET_MIN_BITS} needed)"
    return None


def load_config(environ: Mapping[str, str] | None = None, **overrides: Any) -> dict[str, Any]:
    """Build the Flask config dict from ``environ`` (default: the process environment)."""
    env = dict(DEFAULTS)
    env.update(
        {k: v for k, v in (os.environ if environ is None else environ).items() if k in DEFAULTS}
    )
    lifetime_min = _decimal(
        "MARTINGALE_LIFETIME_MIN_SECONDS", env["MARTINGALE_LIFETIME_MIN_SECONDS"]
    )
    lifetime_max = _decimal(
        "MARTINGALE_LIFETIME_MAX_SECONDS", env["MARTINGALE_LIFETIME_MAX_SECONDS"]
    )
    if lifetime_min > lifetime_max:
        raise ConfigError("MARTINGALE_LIFETIME_MIN_SECONDS exceeds MARTINGALE_LIFETIME_MAX_SECONDS")
    if env["MARTINGALE_ENV"] not in ENVIRONMENTS:
        raise ConfigError(
            f"MARTINGALE_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env['MARTINGALE_ENV']!r}"
        )
    pool_size = int(_decimal("MARTINGALE_POOL_SIZE", env["MARTINGALE_POOL_SIZE"]))
    config: dict[str, Any] = {
        "SECRET_KEY": env["SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": normalize_database_url(env["DATABASE_URL"]),
        "INITIAL_CASH": _decimal("INITIAL_CASH", env["INITIAL_CASH"]),
        "MARTINGALE_POOL_SIZE": pool_size,
        "MARTINGALE_TICK_SECONDS": _decimal(
            "MARTINGALE_TICK_SECONDS", env["MARTINGALE_TICK_SECONDS"]
        ),
        "MARTINGALE_LIFETIME_MIN_SECONDS": lifetime_min,
        "MARTINGALE_LIFETIME_MAX_SECONDS": lifetime_max,
        "MARTINGALE_LIFETIME_MEAN_SECONDS": _decimal(
            "MARTINGALE_LIFETIME_MEAN_SECONDS", env["MARTINGALE_LIFETIME_MEAN_SECONDS"]
        ),
        "MARTINGALE_WORTHLESS_PRICE": _decimal(
            "MARTINGALE_WORTHLESS_PRICE", env["MARTINGALE_WORTHLESS_PRICE"]
        ),
        "MARTINGALE_EXCLUDED_SYMBOLS": frozenset(
            env["MARTINGALE_EXCLUDED_SYMBOLS"].upper().split()
        ),
        # "off" lets a deployment run the engine as its own process (`flask engine`).
        "MARTINGALE_ENGINE": env["MARTINGALE_ENGINE"].lower() not in ("off", "0", "false", "no"),
        "MARTINGALE_TICK_RETENTION_DAYS": _decimal(
            "MARTINGALE_TICK_RETENTION_DAYS", env["MARTINGALE_TICK_RETENTION_DAYS"]
        ),
        "MARTINGALE_ACCESS_LOG": env["MARTINGALE_ACCESS_LOG"],
        "MARTINGALE_METRICS_TOKEN": env["MARTINGALE_METRICS_TOKEN"],
        "SENTRY_DSN": env["SENTRY_DSN"],
        "TESTING": False,
        "MARTINGALE_ENV": env["MARTINGALE_ENV"],
        "MARTINGALE_PASSWORD_HASH": env["MARTINGALE_PASSWORD_HASH"],
        "MARTINGALE_ACCESS_TOKEN_SECONDS": int(
            _decimal("MARTINGALE_ACCESS_TOKEN_SECONDS", env["MARTINGALE_ACCESS_TOKEN_SECONDS"])
        ),
        "MARTINGALE_REFRESH_TOKEN_DAYS": int(
            _decimal("MARTINGALE_REFRESH_TOKEN_DAYS", env["MARTINGALE_REFRESH_TOKEN_DAYS"])
        ),
        # the cookie's lifetime, enforced server-side by the session row's expiry too
        "PERMANENT_SESSION_LIFETIME": int(
            _decimal("MARTINGALE_SESSION_HOURS", env["MARTINGALE_SESSION_HOURS"]) * 3600
        ),
        # beside cors.CAPACITOR_ORIGINS, which are always allowed
        "MARTINGALE_CORS_ORIGINS": _origins(
            "MARTINGALE_CORS_ORIGINS", env["MARTINGALE_CORS_ORIGINS"]
        ),
        "MARTINGALE_IOS_APP_IDS": tuple(env["MARTINGALE_IOS_APP_IDS"].split()),
        "MARTINGALE_ANDROID_PACKAGE": env["MARTINGALE_ANDROID_PACKAGE"].strip(),
        "MARTINGALE_ANDROID_CERT_SHA256": tuple(
            env["MARTINGALE_ANDROID_CERT_SHA256"].upper().split()
        ),
        "MARTINGALE_ASYNC_MODE": env["MARTINGALE_ASYNC_MODE"],
        "MARTINGALE_MESSAGE_QUEUE": env["MARTINGALE_MESSAGE_QUEUE"] or env["REDIS_URL"] or None,
        # one process keeps its counters in memory; several must share them (REDIS_URL)
        "RATELIMIT_STORAGE_URI": env["RATELIMIT_STORAGE_URI"] or env["REDIS_URL"] or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Redis unreachable: count in this process's memory until it is back, never fail a request
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        # a hung Redis must not hang requests: each command gives up after this long
        "RATELIMIT_STORAGE_OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 2},
        # off only for load tests that register many players from one address
        "RATELIMIT_ENABLED": env["RATELIMIT_ENABLED"].lower() not in ("off", "0", "false", "no"),
        # with none trusted, a client could name any address in X-Forwarded-For and so spend
        # someone else's budget, or escape its own
        "MARTINGALE_TRUSTED_PROXIES": _count(
            "MARTINGALE_TRUSTED_PROXIES", env["MARTINGALE_TRUSTED_PROXIES"]
        ),
        # Flask refuses a longer body (413) before reading it; security.py refuses it up front
        "MAX_CONTENT_LENGTH": int(
            _decimal("MARTINGALE_MAX_BODY_BYTES", env["MARTINGALE_MAX_BODY_BYTES"])
        ),
        "MARTINGALE_MAX_SOCKET_MESSAGE_BYTES": int(
            _decimal(
                "MARTINGALE_MAX_SOCKET_MESSAGE_BYTES", env["MARTINGALE_MAX_SOCKET_MESSAGE_BYTES"]
            )
        ),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session it belongs to
    }
    production = config["MARTINGALE_ENV"] == "production"
    config["SESSION_COOKIE_SECURE"] = production
    config.update(overrides)
    problem = secret_key_problem(str(config["SECRET_KEY"])) if production else None
    if problem:
        raise ConfigError(
            f"production needs a random SECRET_KEY; this one {problem}. Generate one with: "
            'python -c "import secrets; print(secrets.token_urlsafe(48))"'
        )
    return config
