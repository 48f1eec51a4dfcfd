"""Prometheus metrics, served at /metrics to whoever holds MARTINGALE_METRICS_TOKEN.

With several gunicorn workers every process keeps its own counters; prometheus_client's
multiprocess mode (PROMETHEUS_MULTIPROC_DIR, which gunicorn.conf.py sets up) writes them to files
that any worker's /metrics adds up, so a scrape sees the whole server whichever worker answers. An
engine on the same host joins in by sharing the directory; on its own host (a Heroku dyno) its
figures are in its log lines (logs.py: the per-minute "steps" summary, each settlement).

The metrics are made once per process, on first use, never on import.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable
from functools import cache
from typing import Any

from flask import Flask, Response, abort, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess

# latency buckets: a trade is a few ms when calm, tens under load; a second is an outage
_LATENCY = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.trades = Counter(
            "martingale_trades", "Trades answered, by channel (rest, socket) and outcome "
            "(filled, replayed, or the refusal's error code)", ["channel", "outcome"])  # fmt: skip
        self.trade_seconds = Histogram(
            "martingale_trade_seconds", "Time to answer a trade, by channel", ["channel"],
            buckets=_LATENCY)  # fmt: skip
        self.rate_limited = Counter(
            "martingale_rate_limited", "Requests refused by a rate limit, by route", ["route"]
        )
        self.sockets = Gauge(
            "martingale_sockets_connected", "Open Socket.IO connections",
            multiprocess_mode="livesum")  # fmt: skip
        self.engine_step_seconds = Histogram(
            "martingale_engine_step_seconds", "One engine step: ticks, settlements, refill",
            buckets=_LATENCY)  # fmt: skip
        self.tick_lag_seconds = Histogram(
            "martingale_tick_lag_seconds", "From a tick's due time to its prices being published",
            buckets=_LATENCY)  # fmt: skip
        self.settlements = Counter("martingale_settlements", "Assets settled")
        self.settled_holdings = Counter("martingale_settled_holdings", "Holdings settled")
        self.settlement_seconds = Histogram(
            "martingale_settlement_seconds", "One asset's settlement transaction",
            buckets=_LATENCY)  # fmt: skip


@cache
def metrics() -> Metrics:
    return Metrics()


def trade_outcome(status: int, body: Any) -> str:
    if status == 201:
        return "filled"
    if status == 200:
        return "replayed"
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("code")) if isinstance(error, dict) else str(status)


def socket_trade(handler: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Count and time a Socket.IO trade handler by what its acknowledgement says."""

    def timed(*args: Any) -> dict[str, Any]:
        started = time.perf_counter()
        reply = handler(*args)
        m = metrics()
        m.trade_seconds.labels("socket").observe(time.perf_counter() - started)
        if "error" in reply:
            outcome = trade_outcome(0, reply)
        else:
            outcome = "replayed" if reply.get("replayed") else "filled"
        m.trades.labels("socket", outcome).inc()
        return reply

    return timed


def counted_connection(
    connect: Callable[..., bool], disconnect: Callable[..., None]
) -> tuple[Callable[..., bool], Callable[..., None]]:
    """Keep the open-socket gauge: up when a connect is accepted, down when it goes."""

    def on_connect(*args: Any) -> bool:
        accepted = connect(*args)
        if accepted is not False:
            metrics().sockets.inc()
        return accepted

    def on_disconnect(*args: Any) -> None:
        metrics().sockets.dec()
        disconnect(*args)

    return on_connect, on_disconnect


def init_metrics(app: Flask) -> None:
    """Count trades and rate-limit refusals of HTTP requests; serve /metrics behind a token."""
    token = str(app.config.get("MARTINGALE_METRICS_TOKEN") or "")

    @app.after_request
    def _count(response: Response) -> Response:
        if request.endpoint == "api.place_trade":
            m = metrics()
            started = g.get("request_started")
            if started is not None:
                m.trade_seconds.labels("rest").observe(time.perf_counter() - started)
            body = response.get_json(silent=True) if response.status_code >= 400 else None
            m.trades.labels("rest", trade_outcome(response.status_code, body)).inc()
        if response.status_code == 429:
            metrics().rate_limited.labels(request.endpoint or "unknown").inc()
        return response

    @app.get("/metrics")
    def serve_metrics() -> Response:
        offered = request.headers.get("Authorization", "")
        # no token configured: the endpoint does not exist; a wrong one: the same answer, so a
        # prober learns nothing
        if not token or not hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
            abort(404)
        metrics()  # this process's own series exist even before its first trade
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            # the library's own constructor, left untyped upstream
            prometheus_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
        return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
