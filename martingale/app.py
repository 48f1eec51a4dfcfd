"""The application factory. Importing this module starts nothing: no thread, engine or socket."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.engine import make_url
from werkzeug.middleware.proxy_fix import ProxyFix

from . import (
    api,
    auth,
    cli,
    cors,
    error_reporting,
    http_errors,
    logs,
    metrics,
    realtime,
    security,
    security_headers,
    web,
)
from .clock import SystemClock
from .config import ConfigError, load_config
from .extensions import db, migrate
from .game import EXTENSION, Game, GameSettings
from .transaction_utils import configure_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from ``config`` (default: the environment). Threads start elsewhere."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(load_config() if config is None else config)
    if app.config.get("TESTING"):
        _refuse_non_test_database(app.config["SQLALCHEMY_DATABASE_URI"])
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    # Flask-SQLAlchemy provides the model base and the engine, and Flask-Migrate runs Alembic;
    # services open their own sessions on the engine (transaction_utils), never db.session
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    with app.app_context():
        database = db.engine
    configure_engine(database, app.config.get("MARTINGALE_SQLITE_SYNCHRONOUS", "FULL"))
    app.extensions[EXTENSION] = Game(
        database=database,
        settings=GameSettings.from_config(app.config),
        clock=app.config.get("MARTINGALE_CLOCK") or SystemClock(),
    )
    # made now, so the first login of an unknown user is not the one slower refusal
    auth.dummy_hash(app.extensions[EXTENSION].settings.password_hash_method)
    error_reporting.init_error_reporting(app)
    logs.init_request_log(app)
    metrics.init_metrics(app)
    security.init_security(app)
    cors.init_cors(app)
    http_errors.init_error_handlers(app)
    security_headers.init_security_headers(app)
    app.register_blueprint(web.bp)
    app.register_blueprint(api.bp)
    realtime.init_realtime(app)
    hops = int(app.config.get("MARTINGALE_TRUSTED_PROXIES", 0))
    if hops:
        # outermost, so the limiter, the routes and the socket handshake all see the client's
        # address and scheme as the trusted proxies reported them (the rightmost ``hops`` entries)
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_port=hops
        )
    cli.register(app)
    return app


def _refuse_non_test_database(uri: str) -> None:
    """Tests may only ever reach a throwaway database."""
    url = make_url(uri)
    if url.get_backend_name() == "sqlite":
        ok = url.database is not None and url.database.startswith(tempfile.gettempdir())
    else:
        ok = (url.database or "").startswith("martingale_test")
    if not ok:
        raise ConfigError(f"TESTING refuses database {url.render_as_string(hide_password=True)}")
