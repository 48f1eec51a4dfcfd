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

import json
import logging
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

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
# the app writes one JSON line per request itself, with its request id (martingale/logs.py)
accesslog = None


class _NoAccessLine(Logger):
    """gunicorn's Logger.access builds an atom per header and environ variable whenever any log
    config is set (ours is), then drops the line at the CRITICAL level below: 5% of a trade's web
    CPU in py-spy, for nothing (docs/decisions/0007, fifth look)."""

    def access(self, resp, req, environ, request_time):
        return


logger_class = _NoAccessLine


class _JsonLines(logging.Formatter):
    """gunicorn's own lines in the app's JSON shape (martingale/logs.py cannot be imported here)."""

    def format(self, record):
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        line = {"ts": ts, "level": record.levelname.lower(), "logger": record.name,
                "msg": record.getMessage()}  # fmt: skip
        if record.exc_info:  # "Exception in worker process" says nothing without it
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, separators=(",", ":"))


if os.environ.get("MARTINGALE_LOG_FORMAT", "json").lower() != "text":
    logconfig_dict = {
        "formatters": {"generic": {"()": _JsonLines}},
        # the root logger belongs to the app (logs.configure_logging in each worker); gunicorn's
        # access lines would repeat the app's own request lines
        "root": {"level": "INFO", "handlers": []},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        },
    }

# prometheus_client's multiprocess mode: each worker writes its metrics to files in this directory
# and any worker's /metrics sums them. Set before a worker imports the library (after the fork).
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="martingale-metrics-"))


def on_starting(server):
    """A directory kept from an earlier run holds dead processes' series: start without them (a
    live engine sharing the directory keeps its own)."""
    for stale in Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).glob("*_*.db"):
        pid = stale.stem.rsplit("_", 1)[1]
        if not pid.isdigit() or not Path(f"/proc/{pid}").exists():
            stale.unlink()


def child_exit(server, worker):
    """A dead worker's gauges leave the sum (its counters stay: they happened)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


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
    """JSON logs in the worker; the loaded app frozen out of the garbage collector's sight; with
    one worker and MARTINGALE_ENGINE on, the market engine too, started after the fork."""
    import gc

    # Everything imported and built so far (modules, the app, SQLAlchemy's metadata) lives as long
    # as the worker; left in the oldest generation it made each full collection walk a few hundred
    # thousand objects: 90-240 ms pauses of every request in flight (traced under load, about one
    # a quarter minute at 64 connections). Frozen, a full collection walks only what requests made.
    gc.collect()
    gc.freeze()

    from martingale.engine import MarketEngine
    from martingale.game import game_of
    from martingale.logs import configure_logging

    configure_logging()

    app = worker.wsgi
    if app.config["MARTINGALE_ENGINE"]:
        engine = MarketEngine(game_of(app))
        app.extensions["martingale_engine"] = engine
        engine.start()


def _loop():
    from gevent import get_hub

    return get_hub().loop


def pre_request(worker, req):
    if worker_class == "gevent":
        req.loop_iteration = _loop().iteration


def post_request(worker, req, environ, resp):
    """Fair turns for keep-alive connections under gevent. A request that never waited on I/O (a
    health check, a 404, a page from memory) leaves the event loop where it was, and when that
    connection's next request is already buffered the worker serves it too without ever polling
    the others: one client pipelining cheap requests held a worker while every other connection
    waited (wrk, 64 connections on /healthz: p50 0.7 ms, p99 1.4 s, max 2.0 s). Such a request now
    waits for the loop to run everything else that is ready first (gevent.idle); a request that
    waited on I/O (a trade: PostgreSQL, Redis) already gave the others their turn and goes on."""
    if worker_class == "gevent" and getattr(req, "loop_iteration", None) == _loop().iteration:
        import gevent

        gevent.idle()
