"""The API fuzzed from its own OpenAPI document by schemathesis, in process, on both databases.

Every operation the document lists gets schemathesis' three phases (the document's examples, the
coverage phase's boundary and missing-part cases, then generated requests, valid and invalid), sent
through the checked test client (so a logged server error fails too, not only a 500). Each reply
must be below 500 and as documented: a listed status, its content type, its body schema and its
headers; and a request the document forbids must be refused (fuzzing.CHECKS). The books reconcile
afterwards (the ``game`` fixture).

Rate limits are off (the budgets are covered in test_rate_limits and test_read_limits): with them
on, most generated requests would only ever see 429. Cases are steered now and then toward what
exists (fuzzing.prepare), so that some trades execute, some logins and refreshes succeed and proofs
of settled assets are asked for. The run is the same every time (derandomized, and generation does
not learn from replies). bench/fuzz.py runs the longer version against a real server.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from martingale import auth, create_app
from martingale.api.docs import SPEC
from martingale.engine import MarketEngine
from martingale.game import game_of

from ..helpers import make_config, new_asset, trade
from .fuzzing import CHECKS, Tally, Targets, configure, prepare
from .helpers import PASSWORD
from .openapi_spec import operations

MIN_CASES = 1000  # per database
EXAMPLES = 50  # generated per operation in the fuzzing phase, besides the coverage phase's

# Loaded at import from the file the app serves (a copy: the app caches its own), and each case sent
# to the test's own app: schemathesis' fixture loader (schemathesis.pytest.from_fixture) sets a
# node attribute that pytest 9.2 no longer has.
schema = configure(schemathesis.openapi.from_dict(json.loads(SPEC.read_text())))
# Generation must not learn from replies: they carry random tokens and symbols, and a CI run has
# to send the same requests every time.
schema.config.phases.fuzzing.error_feedback.is_enabled = False
schema.config.phases.fuzzing.extra_data_sources.responses = False


@pytest.fixture
def app(database_url):
    """The suite's app with its rate limits (the trade budget's too) off."""
    app = create_app(make_config(database_url, RATELIMIT_ENABLED=False))
    yield app
    game_of(app).database.dispose()


@pytest.fixture
def targets(game, clock) -> Targets:
    """A settled asset, a live one, and a player who holds some of it."""
    settled = new_asset(game, initial="5", lifetime_s="30")
    live = new_asset(game, initial="100", lifetime_s="120")
    clock.advance(31)
    MarketEngine(game).step()  # settles the first, refills the pool, ranks the players
    login = auth.register(game, "fuzzer", PASSWORD, auth.API)
    trade(game, login.principal.player_id, "buy", live.symbol, "5")

    def fresh() -> auth.Login:
        return auth.login(game, "fuzzer", PASSWORD, auth.API)

    return Targets(
        token=login.access_token,
        fresh_token=lambda: fresh().access_token,
        fresh_refresh_token=lambda: fresh().refresh_token,
        username="fuzzer",
        password=PASSWORD,
        symbols=[live.symbol, settled.symbol],
        asset_ids=[live.id, settled.id],
    )


@pytest.fixture(scope="module")
def tallies():
    """Cases per database; once every operation has run on one, at least MIN_CASES of them."""
    by_backend: dict[str, Tally] = {}
    yield by_backend
    for backend, tally in by_backend.items():
        print(f"\n{backend}: {tally.report()}")  # shown with -s or -rA
    everything = {f"{method.upper()} {path}" for path, method, _ in operations()}
    for tally in by_backend.values():
        if everything <= set(tally.cases):  # a whole run, not a selection (-k)
            assert tally.total >= MIN_CASES, tally.report()


@pytest.fixture
def tally(tallies, backend):
    return tallies.setdefault(backend, Tally())


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_generated_request_is_answered_as_documented(case, app, client, targets, tally):
    # the checked client also fails the case on an error the app logged, whatever the status
    headers = prepare(case, targets)
    response = case.call(app=app, session=client, headers=headers)
    tally.record(case, response.status_code, _json(response))
    case.validate_response(response, checks=CHECKS)


def _json(response):
    try:
        return response.json()
    except ValueError:
        return None
