"""gunicorn settings for the Procfile's web line and `make run`.

One worker: Socket.IO keeps per-connection state in the process, and gunicorn has no sticky
sessions; scale out with more single-worker instances and MARTINGALE_MESSAGE_QUEUE (Redis).
The worker class follows MARTINGALE_ASYNC_MODE (docs/decisions/0004-async-mode.md).
"""

import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '5000')}"  # noqa: S104
workers = 1
_mode = os.environ.setdefault("MARTINGALE_ASYNC_MODE", "gevent")
worker_class = "gevent" if _mode == "gevent" else "gthread"
threads = 1 if _mode == "gevent" else 64
worker_connections = 2000
timeout = 60
graceful_timeout = 20
accesslog = "-"


def post_worker_init(worker):
    """Start the market engine inside the serving process, after the fork."""
    from martingale.engine import MarketEngine
    from martingale.game import game_of

    app = worker.wsgi
    if app.config["MARTINGALE_ENGINE"]:
        engine = MarketEngine(game_of(app))
        app.extensions["martingale_engine"] = engine
        engine.start()
