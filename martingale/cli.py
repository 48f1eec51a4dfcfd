"""Flask CLI commands: serve, engine, reconcile, verify, simulate, backup, restore (plus
Flask-Migrate's ``db``)."""

from __future__ import annotations

import logging
import os
import sys
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from werkzeug.serving import run_simple

from . import audit, realtime
from .api.docs import SPEC
from .backup import BackupError, backup, restore
from .contract.document import build, render
from .engine import MarketEngine
from .errors import MartingaleError
from .game import current_game
from .logs import configure_logging
from .maintenance import (
    EngineRunning,
    live_assets,
    refill,
    set_trading,
    settle_due,
    trading_state,
)
from .models import AUTH_EVENT_KINDS
from .money import price as fmt_price
from .money import qty as fmt_quantity
from .proofs import verify_asset
from .reconcile import format_report, reconcile
from .retention import compact_ticks
from .web.shell import ShellError, build_shell


def register(app: Flask) -> None:
    for command in (
        serve,
        engine_command,
        reconcile_command,
        verify_command,
        simulate_command,
        backup_command,
        restore_command,
        compact_ticks_command,
        assets_command,
        settle_due_command,
        refill_pool_command,
        auth_events_command,
        trading_command,
        openapi_command,
        mobile_shell_command,
    ):
        app.cli.add_command(command)


def _this_app() -> Flask:
    """The app behind ``current_app``: what outlives this command's context (a server's threads)."""
    # the proxy's own accessor, which Flask types current_app without
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app


def _log_to_stderr() -> None:
    """Commands that act as the engine report what it does (JSON lines, logs.py); read-only ones
    keep their output clean."""
    configure_logging()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=lambda: int(os.environ.get("PORT", "5000")))
@with_appcontext
def serve(host: str, port: int) -> None:
    """Upgrade the database, start the engine and serve the game (development server)."""
    _log_to_stderr()
    upgrade()
    app = _this_app()
    engine = MarketEngine(current_game())
    if app.config["MARTINGALE_ENGINE"]:
        engine.start()
    click.echo(f"Martingale on http://{host}:{port}/")
    try:
        run_simple(host, port, app, threaded=True)
    finally:
        engine.stop()


@click.command("engine")
@with_appcontext
def engine_command() -> None:
    """Run only the market engine (stands by while another engine holds the lock).

    Its pushes reach the web workers' sockets through the message queue (REDIS_URL), published by
    a write-only manager: this process serves no socket and never subscribes.
    """
    _log_to_stderr()
    app = _this_app()
    if not realtime.emit_only(app):
        logging.getLogger(__name__).warning(
            "no message queue (REDIS_URL): this engine's ticks reach no socket of another process"
        )
    engine = MarketEngine(current_game())
    try:
        engine.run()
    except KeyboardInterrupt:
        engine.stop()


@click.command("reconcile")
@with_appcontext
def reconcile_command() -> None:
    """Check every invariant of the books; exit 1 with a report if any fails."""
    checks = reconcile(current_game().database)
    click.echo(format_report(checks))
    if not all(c.ok for c in checks):
        sys.exit(1)


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Copy the books into PATH (PostgreSQL: pg_dump custom format; SQLite: online backup)."""
    try:
        copy = backup(current_game().database, path)
    except BackupError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"backup {copy.path}: {copy.bytes:,} bytes in {copy.seconds:.2f} s")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Drop the books already in the target database.")
@with_appcontext
def restore_command(path: Path, replace: bool) -> None:
    """Load the backup PATH into DATABASE_URL (stop web and engine first), then reconcile."""
    try:
        copy, checks = restore(current_game().database, path, replace=replace)
    except BackupError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"restored {copy.path} ({copy.bytes:,} bytes) in {copy.seconds:.2f} s")
    click.echo(format_report(checks))
    if not all(c.ok for c in checks):
        sys.exit(1)


@click.command("compact-ticks")
@click.option(
    "--older-than-days",
    type=click.FloatRange(min=0),
    default=None,
    help="Settled this long ago or more (default: MARTINGALE_TICK_RETENTION_DAYS).",
)
@with_appcontext
def compact_ticks_command(older_than_days: float | None) -> None:
    """Drop stored ticks of long-settled assets (their history is recomputed from the seed)."""
    days = older_than_days
    if days is None:
        days = float(current_app.config["MARTINGALE_TICK_RETENTION_DAYS"])
    done = compact_ticks(current_game(), timedelta(days=days))
    click.echo(f"compacted {done.assets} settled assets: {done.ticks_dropped:,} ticks dropped")


@click.command("assets")
@with_appcontext
def assets_command() -> None:
    """List the live assets: price, expiry, holders and units held (open interest)."""
    now = current_game().clock.now()
    rows = live_assets(current_game())
    click.echo(
        f"{'id':>8} symbol {'price':>16} {'expires in':>10} {'holders':>7} {'units held':>18}"
    )
    for row in rows:
        left = (row.expires_at - now).total_seconds()
        expiry = "DUE" if row.due else f"{left:.0f} s"
        click.echo(f"{row.id:>8} {row.symbol:<6} {fmt_price(row.price):>16} {expiry:>10} "
                   f"{row.holders:>7} {fmt_quantity(row.open_units):>18}")  # fmt: skip
    due = sum(r.due for r in rows)
    click.echo(f"{len(rows)} live assets, {due} due for settlement")


@click.command("settle-due")
@with_appcontext
def settle_due_command() -> None:
    """Settle every due asset and refill the pool, as the engine (only while no engine leads)."""
    _log_to_stderr()
    realtime.emit_only(_this_app())  # the settlements' pushes reach the web workers' sockets
    try:
        report = settle_due(current_game())
    except EngineRunning as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    for s in report.settled:
        click.echo(f"settled {s.symbol} at tick {s.final_tick} for {fmt_price(s.final_price)}: "
                   f"{s.holders} holders")  # fmt: skip
    click.echo(f"{len(report.settled)} assets settled, {len(report.born)} born")


@click.command("refill-pool")
@with_appcontext
def refill_pool_command() -> None:
    """Fill the pool of live assets up to MARTINGALE_POOL_SIZE (only while no engine leads)."""
    _log_to_stderr()
    realtime.emit_only(_this_app())
    try:
        born = refill(current_game())
    except EngineRunning as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"{len(born)} assets born: {' '.join(a.symbol for a in born) or '(pool full)'}")


@click.command("auth-events")
@click.option("--user", default=None, help="Only this player's events (login name).")
@click.option("--kind", type=click.Choice(AUTH_EVENT_KINDS), default=None)
@click.option("--hours", type=click.FloatRange(min=0), default=24, show_default=True)
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@with_appcontext
def auth_events_command(user: str | None, kind: str | None, hours: float, limit: int) -> None:
    """Logins, failures, locks, logouts, password changes and stolen refresh tokens, newest first."""
    rows = audit.recent(current_game(), username=user, kind=kind, hours=hours, limit=limit)
    for e, name in rows:
        click.echo(f"{audit.at_text(e.at)} {e.kind:<16} {name or '-':<20} {e.channel or '-':<4} "
                   f"{e.remote or '-':<15} {e.request_id or '-'}")  # fmt: skip
    click.echo(f"{len(rows)} events")


@click.command("trading")
@click.argument("action", type=click.Choice(["status", "pause", "resume"]))
@click.option("--reason", default=None, help="Why (kept with the switch; shown to operators).")
@with_appcontext
def trading_command(action: str, reason: str | None) -> None:
    """The kill switch: pause refuses every trade (409 trading_halted) while prices keep ticking."""
    game = current_game()
    if action != "status":
        realtime.emit_only(_this_app())  # connected players hear the market's new status
        set_trading(game, halted=action == "pause", reason=reason)
    state = trading_state(game)
    since = state.changed_at.isoformat(timespec="seconds") if state.changed_at else "always"
    if state.halted:
        click.echo(f"trading HALTED since {since}: {state.reason or 'no reason given'}")
    else:
        click.echo(f"trading open (since {since})")


@click.command("verify")
@click.argument("ref")
@with_appcontext
def verify_command(ref: str) -> None:
    """Recompute a settled asset's path from its revealed seed (REF: symbol or id)."""
    try:
        asset, verdict = verify_asset(current_game(), ref)
    except MartingaleError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(2)
    click.echo(f"asset {asset.id} {asset.symbol}: commitment {asset.seed_commitment}")
    click.echo(f"seed {asset.seed.hex()}; {verdict.ticks_checked} ticks checked")
    click.echo(f"settled at tick {asset.final_tick} for {fmt_price(asset.final_price or 0)}")
    for problem in verdict.problems:
        click.echo(f"FAIL {problem}")
    click.echo("verified" if verdict.ok else "REJECTED")
    sys.exit(0 if verdict.ok else 1)


@click.command("simulate")
@click.option("--players", type=int, default=50, show_default=True)
@click.option("--minutes", type=int, default=60, show_default=True)
@click.option("--seed", type=int, default=None, help="Seed for the bots' choices (not the prices).")
@click.option(
    "--database-url",
    default=None,
    help="Run against this database instead of a new temporary SQLite file.",
)
def simulate_command(
    players: int, minutes: int, seed: int | None, database_url: str | None
) -> None:
    """Bots trade through the real services on an injected clock; then reconcile."""
    # imported here: the simulator builds its own app, so it imports the package this one is in
    from .simulate import simulate

    report = simulate(players=players, minutes=minutes, seed=seed, database_url=database_url)
    click.echo(report.summary())
    sys.exit(0 if report.reconciled else 1)


@click.command("openapi")
@click.option("--check", is_flag=True, help="Exit 1 if api/openapi.json differs; write nothing.")
def openapi_command(check: bool) -> None:
    """Write the OpenAPI document the routes and their schemas generate to api/openapi.json."""
    text = render(build(current_app))
    if check:
        sys.exit(0 if SPEC.read_text() == text else 1)
    SPEC.write_text(text)
    click.echo(f"wrote {SPEC}")


@click.command("mobile-shell")
@click.option(
    "--server-url",
    envvar="MARTINGALE_SERVER_URL",
    required=True,
    help="The hosted game the apps talk to (env MARTINGALE_SERVER_URL), e.g. https://play.example",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("mobile/www"),
    show_default=True,
)
@with_appcontext
def mobile_shell_command(server_url: str, out: Path) -> None:
    """Render the phone apps' bundled shell (pages and static files) into OUT for `npx cap sync`."""
    try:
        pages = build_shell(_this_app(), out, server_url)
    except ShellError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"wrote {', '.join(str(p) for p in pages)} and {out / 'static'}/")
