"""The one benchmark command: the Procfile topology, same-run references, every figure, reconcile.

    python bench/run.py [--smoke] [--workers N] [--postgres-url URL] [--only trades,fanout,reads,fuzz]

1. Installs what is missing (Debian packages): wrk, pgbench (postgresql-client), redis-server.
2. Starts the Procfile topology on this machine: a fresh PostgreSQL database (created on the server
   at --postgres-url, dropped at the end), a private redis-server on a free port (REDIS_URL), then
   the Procfile's own lines, run through the shell as written: ``release`` (migrations), ``engine``
   and ``web`` with WEB_CONCURRENCY=N (default: the machine's cores).
3. References in the same run: pgbench TPC-B (builtin script) at scale 8 with 8 clients on a
   database of its own, and the app's hello-world route (GET /healthz) with wrk -t2 -c64.
4. Runs bench/trades.py, bench/fanout.py, bench/reads.py and bench/fuzz.py if present, each as
   ``python bench/<name>.py --url URL --database-url URL [--smoke]``, relaying their
   ``figure:`` lines and the server CPU time they cost.
5. Prints every figure beside its reference, says where the load generator ran, and ends with
   ``flask reconcile`` on the benchmark's database. Exit 1 if any script or reconcile failed.

``--smoke``: seconds per step, correctness only (CI); no figure is a target there.
The web server runs with its rate limits on, as in production, for the references, bench/trades.py
(which creates its players straight in the books, so the per-address registration budget is not in
the way, and spreads its trades over players inside their budgets) and bench/fanout.py; it is
restarted with rate limits off for bench/reads.py, whose load generator saturates the leaderboard
from one address (reads.py measures the GET budgets on a server of its own), and stays so for
bench/fuzz.py, whose generated requests also come from one address. A cheap password
hash (players are created in bulk) and no access log; everything else is the Procfile's
configuration.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
SCRIPTS = ("trades", "fanout", "reads", "fuzz")
FIGURE = re.compile(r"^figure: (?P<name>\S+) = (?P<rest>.*)$")
TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def say(text: str) -> None:
    print(text, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- tools ----------------------------------------------------------------------------------------
def find_tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    return None


def ensure_tools() -> dict[str, str]:
    """wrk, pgbench, psql and redis-server, installed from Debian's packages when missing."""
    packages = {"wrk": "wrk", "pgbench": "postgresql-client", "psql": "postgresql-client",
                "redis-server": "redis-server"}  # fmt: skip
    missing = sorted({packages[t] for t in packages if find_tool(t) is None})
    if missing:
        say(f"installing {' '.join(missing)} (apt-get)")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env)
    tools = {t: find_tool(t) for t in packages}
    absent = [t for t, path in tools.items() if path is None]
    if absent:
        raise SystemExit(f"bench: cannot find {', '.join(absent)} even after installing")
    return {t: str(p) for t, p in tools.items()}


# -- processes ------------------------------------------------------------------------------------
@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def cpu_seconds(self) -> float:
        """User + system CPU of every live process in this one's process group."""
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.popen.pid:  # process group
                total += int(fields[11]) + int(fields[12])
        return total / TICKS_PER_S

    def children(self) -> list[int]:
        """Processes in this one's group whose parent is not the shell: gunicorn's workers."""
        group = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.popen.pid:
                group[int(stat.parent.name)] = int(fields[1])
        parents = set(group.values())
        return sorted(
            pid for pid, parent in group.items() if parent in group and pid not in parents
        )

    def group(self) -> list[int]:
        """The live processes of this one's process group (the shell may be gone before them)."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.popen.pid and fields[0] != "Z":
                pids.append(int(stat.parent.name))
        return pids

    def stop(self) -> None:
        """TERM the whole group and wait until every process of it has exited (a gunicorn master
        outlives the shell that started it: a server started again must not meet it)."""
        if self.popen.poll() is None or self.group():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while self.group() and time.monotonic() < deadline:
                time.sleep(0.1)
            if self.group():
                os.killpg(self.popen.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(10)

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Topology:
    logs: Path
    env: dict[str, str]
    procs: list[Proc] = field(default_factory=list)

    def start(self, name: str, command: str, **extra: str) -> Proc:
        env = {**os.environ, **self.env, **extra}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        log = self.logs / f"{name}.log"
        if log.exists():  # started again: keep the first one's log
            log = self.logs / f"{name}-{len(self.procs)}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(["/bin/sh", "-c", command], cwd=ROOT, env=env, stdout=out,
                                     stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()


def procfile() -> dict[str, str]:
    lines = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        key, sep, command = line.partition(":")
        if sep and key.strip() and not key.startswith("#"):
            lines[key.strip()] = command.strip()
    return lines


def wait_http(url: str, seconds: float, proc: Proc) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise SystemExit(f"bench: {proc.name} exited:\n{proc.tail()}")
        try:
            with urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"bench: {url} not ready in {seconds} s:\n{proc.tail()}")


# -- PostgreSQL -----------------------------------------------------------------------------------
def psql(tools: dict[str, str], url: str, sql: str) -> None:
    subprocess.run([tools["psql"], "-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                   check=True, capture_output=True)  # fmt: skip


def with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


# -- references -----------------------------------------------------------------------------------
def pgbench(tools: dict[str, str], url: str, smoke: bool) -> tuple[str, str]:
    scale, clients, seconds = (1, 2, 2) if smoke else (8, 8, 15)
    subprocess.run([tools["pgbench"], "-i", "-q", "-s", str(scale), url], check=True,
                   capture_output=True)  # fmt: skip
    out = subprocess.run(
        [tools["pgbench"], "-c", str(clients), "-j", "2", "-T", str(seconds), url],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    tps = re.search(r"tps = ([\d.]+)", out)
    latency = re.search(r"latency average = ([\d.]+) ms", out)
    how = f"pgbench TPC-B builtin, scale {scale}, {clients} clients, -j 2, {seconds} s"
    value = f"{float(tps.group(1)):,.0f} tps" if tps else "?"
    if latency:
        value += f", latency avg {latency.group(1)} ms"
    return value, how


def wrk(tools: dict[str, str], url: str, smoke: bool) -> tuple[str, str]:
    connections, seconds = (8, 2) if smoke else (64, 10)
    out = subprocess.run(
        [tools["wrk"], "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", f"{url}/healthz"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    value = f"{float(rate.group(1)):,.0f} req/s" if rate else "?"
    if p99:
        value += f", p99 {p99.group(1)}"
    if errors:
        value += f", {errors.group(1)} non-2xx"
    return value, f"wrk -t2 -c{connections} -d{seconds}s GET /healthz (the app's hello-world route)"


# -- the run --------------------------------------------------------------------------------------
def run_script(
    name: str, url: str, database_url: str, smoke: bool, servers: list[Proc], secret_key: str
) -> tuple[int | None, list[str]]:
    path = BENCH / f"{name}.py"
    if not path.exists():
        say(f"\n== bench/{name}.py: not present")
        return None, []
    say(f"\n== bench/{name}.py")
    command = [sys.executable, str(path), "--url", url, "--database-url", database_url]
    if smoke:
        command.append("--smoke")
    if name == "trades":  # this run measured the references already, beside every script
        command.append("--no-references")
    if name == "fanout":  # the workers: the gunicorn master's children
        workers = [str(pid) for p in servers if p.name == "web" for pid in p.children()]
        command += ["--server-pids", ",".join(workers)]
    before = [p.cpu_seconds() for p in servers]
    started = time.monotonic()
    # the server's key: bench/trades.py signs its players' access tokens with it
    env = dict(os.environ, SECRET_KEY=secret_key)
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    figures = []
    assert proc.stdout is not None
    for line in proc.stdout:
        print(f"  {line}", end="", flush=True)
        if FIGURE.match(line.strip()):
            figures.append(line.strip())
    code = proc.wait()
    wall = time.monotonic() - started
    spent = ", ".join(
        f"{p.name} {p.cpu_seconds() - b:.1f} s" for p, b in zip(servers, before, strict=True)
    )
    say(f"  server CPU during bench/{name}.py ({wall:.0f} s wall): {spent}")
    say(f"  bench/{name}.py exit {code}")
    return code, figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a short correctness-only run (CI)")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "MARTINGALE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL server where fresh databases may be created and dropped",
    )
    parser.add_argument("--only", default=",".join(SCRIPTS), help="which bench scripts to run")
    parser.add_argument("--skip-references", action="store_true")
    parser.add_argument(
        "--rate-limits",
        choices=["on", "off"],
        default="on",
        help="the web server's rate limits (off: only to compare, never a figure)",
    )
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args()
    only = [s for s in args.only.split(",") if s]

    tools = ensure_tools()
    tag = secrets.token_hex(4)
    game_db, ref_db = f"martingale_bench_{tag}", f"martingale_pgbench_{tag}"
    admin = args.postgres_url
    try:
        psql(tools, admin, f'CREATE DATABASE "{game_db}"')
        psql(tools, admin, f'CREATE DATABASE "{ref_db}"')
    except subprocess.CalledProcessError as exc:
        raise SystemExit(
            f"bench: cannot create databases at {admin}: {exc.stderr.decode()}"
        ) from None
    database_url = with_database(admin, game_db)
    logs = Path(tempfile.mkdtemp(prefix="martingale-bench-"))
    redis_port, web_port = free_port(), free_port()
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "RATELIMIT_ENABLED": "true" if args.rate_limits == "on" else "false",
        "MARTINGALE_PASSWORD_HASH": "scrypt:1024:8:1",
        "MARTINGALE_ACCESS_LOG": "",
        "HOST": "127.0.0.1",
    }
    topology = Topology(logs, env)
    results: list[tuple[str, str, str]] = []  # (figure line, reference, where)
    failed: list[str] = []
    cores = len(os.sched_getaffinity(0))
    where = (
        f"load generator on this machine (127.0.0.1), sharing its {cores} cores with the servers"
    )
    try:
        redis = topology.start("redis", shlex.join([tools["redis-server"], "--port", str(redis_port),
                               "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]))  # fmt: skip
        lines = procfile()
        say(f"bench: Procfile topology, {args.workers} web workers; database {game_db}; "
            f"Redis 127.0.0.1:{redis_port}; logs in {logs}")  # fmt: skip
        say(f"  machine: {cores} cores, load average {os.getloadavg()[0]:.2f} before the run "
            "(other work on the box shows in the references below)")  # fmt: skip
        release = topology.start("release", lines["release"])
        if release.popen.wait(300) != 0:
            raise SystemExit(f"bench: release failed:\n{release.tail()}")
        say(f"  release: {lines['release']}")
        engine = topology.start("engine", lines["engine"])
        say(f"  engine:  {lines['engine']}")
        web = topology.start(
            "web", lines["web"], PORT=str(web_port), WEB_CONCURRENCY=str(args.workers)
        )
        say(f"  web:     {lines['web']}  (PORT={web_port} WEB_CONCURRENCY={args.workers}, "
            f"rate limits {args.rate_limits})")  # fmt: skip
        url = f"http://127.0.0.1:{web_port}"
        wait_http(f"{url}/readyz", 90, web)
        assert redis.popen.poll() is None and engine.popen.poll() is None

        references: dict[str, tuple[str, str]] = {}
        if not args.skip_references:
            say("\n== references (same run)")
            references["pgbench"] = pgbench(tools, with_database(admin, ref_db), args.smoke)
            say(f"  PostgreSQL: {references['pgbench'][0]}  ({references['pgbench'][1]})")
            references["hello"] = wrk(tools, url, args.smoke)
            say(f"  hello-world: {references['hello'][0]}  ({references['hello'][1]}, "
                f"{args.workers} workers)")  # fmt: skip

        limited = args.rate_limits == "on"
        for name in SCRIPTS:
            if name not in only:
                continue
            if name in ("reads", "fuzz") and limited:  # load from one address: the same server,
                web.stop()  # limits off
                topology.procs.remove(web)
                web = topology.start("web", lines["web"], PORT=str(web_port),
                                     WEB_CONCURRENCY=str(args.workers), RATELIMIT_ENABLED="false")  # fmt: skip
                say(f"\n== web restarted with RATELIMIT_ENABLED=false for bench/{name}.py")
                wait_http(f"{url}/readyz", 90, web)
                limited = False
            code, figures = run_script(
                name, url, database_url, args.smoke, [web, engine], env["SECRET_KEY"]
            )
            if code is None:
                results.append((f"bench/{name}.py: not present", "", ""))
                continue
            if code != 0:
                failed.append(f"bench/{name}.py exit {code}")
            results.extend((line, name, where) for line in figures)

        say("\n== reconcile")
        rec = subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", "martingale", "reconcile"],
                             cwd=ROOT, env=dict(os.environ, **env), capture_output=True, text=True)  # fmt: skip
        say(rec.stdout.rstrip() + rec.stderr.rstrip())
        if rec.returncode != 0:
            failed.append("reconcile")

        say(
            "\n== summary"
            + (" (smoke: correctness only, figures are not targets)" if args.smoke else "")
        )
        for name, (value, how) in references.items():
            say(f"reference: {name} = {value}  [{how}]")
        for line, _script, _place in results:
            say(line)
        say(f"topology: Procfile release/engine/web, {args.workers} gevent workers, PostgreSQL "
            f"database {game_db}, private Redis; {where}")  # fmt: skip
    finally:
        topology.stop()
        for db in (game_db, ref_db):
            try:
                psql(tools, admin, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            except subprocess.CalledProcessError:
                say(f"bench: could not drop {db}")
        if not args.keep_logs and not failed:
            shutil.rmtree(logs, ignore_errors=True)
    if failed:
        say(f"bench: FAILED: {', '.join(failed)} (logs in {logs})")
        return 1
    say("bench: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
