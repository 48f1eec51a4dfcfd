"""The API fuzzed from its OpenAPI document by schemathesis over HTTP, then `flask reconcile`.

    python bench/fuzz.py --url http://127.0.0.1:5000 --database-url URL [--cases 10000] [--smoke]
    python bench/fuzz.py --start sqlite,postgresql [--cases 10000] [--workers 1]

The longer run of tests/api/test_schemathesis.py (which runs in process in the suite), against a
real server: gunicorn with gunicorn.conf.py, the engine ticking on the wall clock (settlements and
new assets happen during the run), rate limits off (a fuzzer's requests come from one address; the
budgets are tested on their own). It reads the document the server publishes, registers a player
over the API, then sends generated requests, valid and invalid (schemathesis' positive and negative
modes), round after round over every operation with a new seed each round, until --cases have
been sent. The cases are steered as in the suite (tests/api/fuzzing.py): now and then a live or
settled symbol, an asset id, the player's name and password, a fresh refresh token; the player's
bearer token on most cases.

Every reply must be below 500 and as documented (status, content type, body schema, headers), and
a server it started must log no error.
Printed: the cases per operation with their replies (status and error code), every distinct
failure with a curl command that repeats it, then `flask reconcile` on the database (with --url,
only when --database-url is given). Exit 1 on any failure or a reconcile that fails.

--start creates the database (as bench/trades.py: PostgreSQL martingale_bench_t, dropped first;
SQLite a temporary file), migrates it and runs the server with the Procfile's settings (on
PostgreSQL the engine as its own process); asset lifetimes are short (30-120 s) so that assets
settle while the fuzzer runs. --smoke: 200 cases, correctness only (bench/run.py --smoke runs it so).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import schemathesis  # noqa: E402
from books import reconcile  # noqa: E402  (a sibling: bench/ scripts run as files)
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.core.failures import FailureGroup  # noqa: E402

from tests.api.fuzzing import CHECKS, Tally, Targets, configure, prepare  # noqa: E402

PASSWORD = "Tulip-Harbor-93"
ERROR = re.compile(r'"level": ?"(error|critical)"')
SHORT_LIVES = {  # --start: assets settle during the run, so settled assets are fuzzed too
    "MARTINGALE_LIFETIME_MIN_SECONDS": "30",
    "MARTINGALE_LIFETIME_MAX_SECONDS": "120",
    "MARTINGALE_LIFETIME_MEAN_SECONDS": "60",
}


def say(text: str) -> None:
    print(text, flush=True)


# -- the player and what cases are steered to ---------------------------------------------------
def targets_of(url: str, http: requests.Session) -> Targets:
    username = f"fz{os.getpid()}_{int(time.time()) % 100000}"
    reply = http.post(f"{url}/api/v1/auth/register", timeout=60,
                      json={"username": username, "password": PASSWORD})  # fmt: skip
    if reply.status_code != 201:
        raise SystemExit(f"register: {reply.status_code} {reply.text[:200]} (rate limits off?)")

    def login() -> dict[str, Any]:
        r = http.post(f"{url}/api/v1/auth/login", timeout=60,
                      json={"username": username, "password": PASSWORD})  # fmt: skip
        if r.status_code != 200:
            raise SystemExit(f"login: {r.status_code} {r.text[:200]}")
        body: dict[str, Any] = r.json()
        return body

    deadline = time.monotonic() + 120
    while not (assets := http.get(f"{url}/api/v1/assets", timeout=60).json()["assets"]):
        if time.monotonic() > deadline:  # an engine of its own process fills the pool first
            raise SystemExit("no live asset after 120 s: is the engine running?")
        time.sleep(1)
    ids = [a["id"] for a in assets]
    # ids below the live ones name settled assets (proofs), or none: both are worth asking about
    return Targets(
        token=reply.json()["access_token"],
        fresh_token=lambda: str(login()["access_token"]),
        fresh_refresh_token=lambda: str(login()["refresh_token"]),
        username=username,
        password=PASSWORD,
        symbols=[a["symbol"] for a in assets],
        asset_ids=sorted({*ids, *range(1, min(ids, default=1))})[-40:],
    )


# -- the run --------------------------------------------------------------------------------------
class Run:
    def __init__(self, url: str, targets: Targets, http: requests.Session) -> None:
        self.url, self.targets, self.http = url, targets, http
        self.tally = Tally()
        self.failures: dict[tuple[str, int, str], tuple[int, str]] = {}  # -> (count, first)

    def one(self, case: Any) -> None:
        headers = prepare(case, self.targets)
        try:
            response = case.call(base_url=self.url, session=self.http, headers=headers, timeout=60)
        except requests.RequestException as exc:
            self._failed(case, 0, f"no reply: {exc!r}", case.as_curl_command(headers=headers))
            return
        try:
            body = response.json()
        except ValueError:
            body = None
        self.tally.record(case, response.status_code, body)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as group:
            titles = "; ".join(sorted({f.title for f in group.exceptions}))
            self._failed(case, response.status_code, titles, str(group))

    def _failed(self, case: Any, status: int, what: str, detail: str) -> None:
        key = (case.operation.label, status, what)
        count, first = self.failures.get(key, (0, detail))
        self.failures[key] = (count + 1, first)

    def refresh(self) -> None:
        """The live assets now first, then some of those that have settled since (the engine runs
        on the wall clock: a round takes about as long as an asset lives)."""
        assets = self.http.get(f"{self.url}/api/v1/assets", timeout=60).json()["assets"]
        live = [a["symbol"] for a in assets]
        self.targets.symbols = live + [s for s in self.targets.symbols if s not in live][:8]
        ids = {a["id"] for a in assets}
        self.targets.asset_ids = sorted(ids | set(self.targets.asset_ids))[-40:]

    def round(self, operations: list[Any], per_mode: int, round_seed: int, left: Callable[[], int]):
        self.refresh()
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                if left() <= 0:
                    return

                @seed(round_seed)
                @settings(max_examples=min(per_mode, left()), deadline=None, database=None,
                          phases=[Phase.generate], suppress_health_check=list(HealthCheck))  # fmt: skip
                @given(case=operation.as_strategy(generation_mode=mode))
                def fuzz(case: Any) -> None:
                    self.one(case)

                # no invalid request exists for an operation that takes no input
                with contextlib.suppress(Unsatisfiable):
                    fuzz()


def fuzz(url: str, cases: int, base_seed: int) -> Run:
    url = url.rstrip("/")
    http = requests.Session()
    # from_dict, not from_url: that one leaves out the operation serving the document itself
    document = http.get(f"{url}/api/v1/openapi.json", timeout=60).json()
    schema = configure(schemathesis.openapi.from_dict(document))
    operations = [result.ok() for result in schema.get_all_operations()]
    run = Run(url, targets_of(url, http), http)
    say(f"{url}: {len(operations)} operations in the document; {cases} cases to send")
    started = time.monotonic()
    per_mode = max(5, cases // (len(operations) * 2 * 3))  # about three rounds
    for n in range(1000):
        before = run.tally.total
        run.round(operations, per_mode, base_seed + n, lambda: cases - run.tally.total)
        if run.tally.total >= cases or run.tally.total == before:
            break
    wall = time.monotonic() - started
    say(f"{run.tally.report()}")
    server_errors = sum(n for status, n in run.tally.statuses.items() if status >= 500)
    statuses = dict(sorted(run.tally.statuses.items()))
    print(f"figure: fuzz_cases = {run.tally.total} (cases) [reference: {wall:.0f} s, "
          f"{run.tally.total / wall:.0f}/s; statuses {statuses}; replies >= 500: {server_errors}; "
          f"distinct failures: {len(run.failures)}]", flush=True)  # fmt: skip
    for (label, status, what), (count, first) in sorted(run.failures.items()):
        say(f"\nFAILURE {label} -> {status}: {what} ({count}x); the first:\n{first}")
    return run


def logged_errors(log: Path) -> list[str]:
    """The error lines of a server's log (JSON lines): a failure the status may not show."""
    return [line for line in log.read_text(errors="replace").splitlines() if ERROR.search(line)]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="a running server, its rate limits off")
    parser.add_argument("--database-url", help="the server's database, for reconcile")
    parser.add_argument("--start", help="sqlite, postgresql or both (comma-separated)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--cases", type=int, help="per server (10,000; smoke 200)")
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--smoke", action="store_true", help="a few seconds, correctness only")
    args = parser.parse_args()
    cases = args.cases or (200 if args.smoke else 10_000)
    if not args.url and not args.start:
        parser.error("give --url (a running server) or --start sqlite,postgresql")
    ok = True
    if args.url:
        run = fuzz(args.url, cases, args.seed)
        ok = not run.failures and run.tally.total >= cases
        if args.database_url:
            say("\n== reconcile")
            ok = reconcile(args.database_url, say) and ok
        else:
            say("no --database-url: the books were not reconciled")
    for backend in (args.start or "").split(","):
        if not backend:
            continue
        from trades import Server  # the Procfile's processes, as bench/trades.py starts them

        os.environ.update(SHORT_LIVES)
        server = Server(backend, args.workers, rate_limits=False)
        try:
            server.start()
            say(f"\n== {backend}")
            run = fuzz(server.url, cases, args.seed)
            errors = logged_errors(Path(server.tmp.name) / "server.log")
            say(f"errors in the server's log: {len(errors)}")
            for line in errors[:5]:
                say(f"  {line[:2000]}")
            ok = ok and not errors
            say("\n== reconcile")
            ok = reconcile(server.database_url, say) and ok and not run.failures
            ok = ok and run.tally.total >= cases
        finally:
            server.stop()
    say("bench/fuzz: " + ("OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
