"""gunicorn settings for the Procfile's web line and `make run`.

Workers: WEB_CONCURRENCY, default the machine's cores (`make run` asks for 1). Several workers need
the message queue (REDIS_URL), so that an emit from any process reaches every worker's sockets, and
clients that connect by WebSocket only, so that no request of a Socket.IO session lands on a worker
that does not hold it (docs/decisions/0006). The market engine runs inside the web process only
when MARTINGALE_ENGINE is on and there is one worker (`make run`); the Procfile turns it off on its
web line and runs it as its own process (`engine:`). This file reads the environment itself and
imports nothing from the app: the gevent worker must monkey-patch before the app's imports run.
The worker class follows MARTINGALE_ASYNC_MODE (docs/decisions/0004-async-mode.md).
"""

import os
import sys
from types import SimpleNamespace

from gunicorn.glogging import Logger

_OFF = ("off", "0", "false", "no")

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '5000')}"  # noqa: S104
workers = int(os.environ.get("WEB_CONCURRENCY") or len(os.sched_getaffinity(0)))
_mode = os.environ.setdefault("MARTINGALE_ASYNC_MODE", "gevent")
worker_class = "gevent" if _mode == "gevent" else "gthread"
threads = 1 if _mode == "gevent" else 64
worker_connections = 10000  # open sockets per gevent worker: listeners stay connected
timeout = 60
graceful_timeout = 20
accesslog = os.environ.get("MARTINGALE_ACCESS_LOG", "-") or None

# what gunicorn's basic access-log atoms read from the environ (the rest is per header or variable)
_ENVIRON_ATOMS = ("REMOTE_ADDR", "REQUEST_METHOD", "RAW_URI", "SERVER_PROTOCOL", "PATH_INFO",
                  "QUERY_STRING", "HTTP_REFERER", "HTTP_USER_AGENT", "HTTP_AUTHORIZATION")  # fmt: skip


class AccessLogger(Logger):
    """gunicorn's logger, the same lines, without the atoms its access-log format does not name.

    gunicorn builds an atom for every request header, response header and environ variable of
    every request (each then escaped), about 8% of a trade's CPU; a format without ``{...}`` atoms
    (the default) reads none of them, so gunicorn's own ``atoms`` is handed only what it reads.
    """

    def atoms(self, resp, req, environ, request_time):
        if "{" in self.cfg.access_log_format:
            return super().atoms(resp, req, environ, request_time)
        slim = {key: environ[key] for key in _ENVIRON_ATOMS if key in environ}
        reply = SimpleNamespace(status=resp.status, sent=getattr(resp, "sent", None), headers=())
        return super().atoms(reply, (), slim, request_time)


logger_class = AccessLogger

_queue = os.environ.get("MARTINGALE_MESSAGE_QUEUE") or os.environ.get("REDIS_URL")
_engine_inside = os.environ.get("MARTINGALE_ENGINE", "on").lower() not in _OFF
if workers > 1 and not _queue:
    raise SystemExit(
        f"gunicorn.conf.py: {workers} workers need REDIS_URL (or MARTINGALE_MESSAGE_QUEUE), "
        "or set WEB_CONCURRENCY=1"
    )
if not _engine_inside and not _queue:
    print(  # gunicorn has no logger yet while it reads its config
        "gunicorn.conf.py: MARTINGALE_ENGINE=off and no REDIS_URL: the engine's ticks cannot reach "
        "this server's sockets",
        file=sys.stderr,
    )
if workers > 1 and _engine_inside:
    raise SystemExit(
        "gunicorn.conf.py: the engine runs inside the web process only with one worker; "
        "set MARTINGALE_ENGINE=off and run `flask --app martingale engine` (the Procfile's engine:)"
    )


def post_worker_init(worker):
    """Freeze the loaded app out of the garbage collector's sight; with one worker and
    MARTINGALE_ENGINE on, start the market engine in it, after the fork."""
    import gc

    # Everything imported and built so far (modules, the app, SQLAlchemy's metadata) lives as long
    # as the worker; left in the oldest generation it made each full collection walk a few hundred
    # thousand objects: 90-240 ms pauses of every request in flight (traced under load, about one
    # a quarter minute at 64 connections). Frozen, a full collection walks only what requests made.
    gc.collect()
    gc.freeze()

    from martingale.engine import MarketEngine
    from martingale.game import game_of

    app = worker.wsgi
    if app.config["MARTINGALE_ENGINE"]:
        engine = MarketEngine(game_of(app))
        app.extensions["martingale_engine"] = engine
        engine.start()
