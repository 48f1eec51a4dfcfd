"""The committed price path: its recipe, its statistics, its verifier, and its proofs end to end.

Floats appear only in the test statistics and in the independent re-implementation of the recipe;
the product's path is integer atoms computed in decimal throughout.
"""

import hashlib
import hmac
import itertools
import math
from dataclasses import replace
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats
from sqlalchemy import select, text

from martingale import create_app, proofs
from martingale.clock import ManualClock
from martingale.engine import MarketEngine
from martingale.errors import AssetNotTradable
from martingale.game import game_of
from martingale.models import LIVE, SETTLED, Asset, PriceTick
from martingale.money import PRICE_SCALE
from martingale.price_path import (
    PathParams,
    PricePath,
    commitment,
    inverse_normal_cdf,
    standard_normal,
    uniform,
    verify_path,
)
from martingale.transaction_utils import read

from .helpers import make_config, new_asset

WORTHLESS = PRICE_SCALE // 100  # $0.01, as in the test configuration


def seed_of(i: int, tag: bytes = b"prices") -> bytes:
    return hashlib.sha256(tag + i.to_bytes(8, "big")).digest()


def params(seed: bytes, *, initial: str = "100", drift: str = "0", vol: str = "0.01") -> PathParams:
    return PathParams(seed, int(Decimal(initial) * PRICE_SCALE), Decimal(drift), Decimal(vol))


def prices(p: PathParams, n: int) -> list[int]:
    """S(0..n) of a fresh path."""
    path = PricePath(p)
    return [path.price(k) for k in range(n + 1)]


# -- 1. the recipe, as pure functions ---------------------------------------------------------


def test_the_path_is_a_pure_function_of_its_parameters():
    p = params(seed_of(1), vol="0.05")
    first = prices(p, 50)
    assert len(first) == 51 and first[0] == 100 * PRICE_SCALE
    assert prices(p, 50) == first  # a second, independent computation
    path = PricePath(p)  # asked out of order, the lazily extended path gives the same numbers
    assert [path.price(k) for k in (50, 3, 0, 49)] == [first[50], first[3], first[0], first[49]]
    other = prices(params(seed_of(2), vol="0.05"), 50)
    assert other[0] == first[0]
    assert sum(a != b for a, b in zip(first[1:], other[1:], strict=True)) == 50
    assert prices(params(seed_of(1), vol="0.06"), 50)[1:] != first[1:]
    assert prices(params(seed_of(1), vol="0.05", drift="0.001"), 50)[1:] != first[1:]
    with pytest.raises(ValueError):
        path.price(-1)


def test_uniform_and_standard_normal_are_reproducible_and_follow_the_published_recipe():
    seed = bytes(range(32))
    for k in (0, 1, 7, 2**40):
        u = uniform(seed, k)
        assert uniform(seed, k) == u
        digest = hmac.new(seed, k.to_bytes(8, "big"), hashlib.sha256).digest()
        exact = (Fraction(int.from_bytes(digest[:8], "big")) + Fraction(1, 2)) / 2**64
        assert 0 < u < 1
        assert abs(Fraction(u) - exact) <= exact * Fraction(1, 10**39)  # 40 significant digits
        z = standard_normal(seed, k)
        assert standard_normal(seed, k) == z == inverse_normal_cdf(u)
        assert abs(float(z) - stats.norm.ppf(float(exact))) < 1e-8
    assert standard_normal(seed, 0) != standard_normal(seed, 1)
    assert standard_normal(seed, 0) != standard_normal(seed_of(0), 0)
    # pinned digits: any change of precision, rounding or constants shows up here
    assert str(standard_normal(seed, 0)) == "0.3088701099374729035319104462479674436717"
    assert commitment(seed) == hashlib.sha256(seed).hexdigest()


P_VALUES = [
    "1e-10", "1e-6", "0.001", "0.0242499999", "0.02425", "0.0242500001", "0.1", "0.3", "0.5",
    "0.7", "0.9", "0.9757499999", "0.97575", "0.9757500001", "0.999", "0.999999", "0.9999999999",
]  # fmt: skip


@pytest.mark.parametrize("p", P_VALUES)
def test_inverse_normal_cdf_matches_scipy_in_the_body_and_both_tails(p):
    z = inverse_normal_cdf(Decimal(p))
    expected = stats.norm.ppf(float(p))
    if Decimal(p) > Decimal("0.5"):  # near 1, the exact complement avoids float cancellation
        expected = stats.norm.isf(float(1 - Decimal(p)))
    assert abs(float(z) - expected) < 1e-8


def test_inverse_normal_cdf_is_continuous_at_the_region_boundaries():
    for boundary in (Decimal("0.02425"), Decimal("0.97575")):
        below = inverse_normal_cdf(boundary - Decimal("1e-15"))
        above = inverse_normal_cdf(boundary + Decimal("1e-15"))
        assert abs(above - below) < Decimal("1e-8")


def test_the_path_matches_an_independent_float_reimplementation_of_the_recipe():
    """HMAC -> uniform -> scipy's exact normal quantile -> float GBM, straight from the docstring."""
    mu, sigma = 0.0005, 0.05
    for i in range(5):
        seed = seed_of(i, b"float")
        ours = prices(params(seed, initial="1000", drift=str(mu), vol=str(sigma)), 100)
        s = 1000.0
        for k in range(100):
            digest = hmac.new(seed, k.to_bytes(8, "big"), hashlib.sha256).digest()
            u = (int.from_bytes(digest[:8], "big") + 0.5) / 2**64
            s *= math.exp(mu - sigma**2 / 2 + sigma * stats.norm.ppf(u))
            # Acklam's error (<1e-8 in Z) and 8-dp rounding stay far below 1e-7 over 100 steps
            assert ours[k + 1] / PRICE_SCALE == pytest.approx(s, rel=1e-7)


def test_inverse_normal_cdf_tails_are_exact_mirror_images_at_40_digits():
    # 1 - 0.99 == 0.01 exactly and Acklam's tails are mirror images: these must be exact negatives
    upper, lower = inverse_normal_cdf(Decimal("0.99")), inverse_normal_cdf(Decimal("0.01"))
    assert len(lower.as_tuple().digits) == 40
    assert upper == lower.copy_negate()  # copy_negate is exact; unary minus would round


def test_the_path_does_not_depend_on_the_callers_decimal_context():
    p = params(seed_of(3), vol="0.05")
    with localcontext() as ctx:
        ctx.prec = 6  # e.g. a web worker thread that formats money at 6 digits
        low_precision = prices(p, 200)
    assert low_precision == prices(p, 200)


# -- 2. statistics --------------------------------------------------------------------------


@pytest.mark.slow
def test_with_zero_drift_the_price_is_a_martingale():
    """E[S(100)/S(0)] = exp(100 mu) = 1, checked on 2000 independent paths of 100 real steps.

    sigma = 0.03 keeps the variance moderate (Var = exp(100 sigma^2) - 1 ~= 0.094, so the standard
    error is ~= 0.0069) yet gives the check power: a path without the -sigma^2/2 term would have
    mean exp(0.045) ~= 1.046, about 6.7 standard errors away, outside the 4-standard-error band.
    """
    n_paths, n_steps = 2000, 100
    ratios = []
    for i in range(n_paths):
        p = params(seed_of(i, b"martingale"), initial="100", drift="0", vol="0.03")
        path = PricePath(p)
        s100 = path.price(n_steps)
        assert path.price(n_steps - 1) != s100  # the 100th step really happened
        ratios.append(s100 / p.initial_price)
    assert len(set(ratios)) == n_paths  # independent paths: no two end at the same price
    r = np.array(ratios)
    mean, se = r.mean(), r.std(ddof=1) / math.sqrt(n_paths)
    assert 0.25 < r.std(ddof=1) < 0.37  # theory: sqrt(exp(0.09) - 1) ~= 0.307
    assert abs(mean - 1) < 4 * se, (mean, se)
    # the median is exp(-100 sigma^2 / 2) ~= 0.956 < 1: the mean is held up by the right tail
    assert np.median(r) < 0.99


@pytest.mark.slow
@pytest.mark.parametrize(("mu", "sigma"), [(0.01, 0.2), (-0.001, 0.02)])
def test_log_returns_have_mean_mu_minus_half_sigma_squared_and_variance_sigma_squared(mu, sigma):
    """200 paths x 100 ticks = 20000 log-returns, from $1000.

    At $1000 (10**11 atoms) rounding to a whole atom moves a log-return by at most 0.5 / S(k); the
    lowest price reached is checked below so that bound stays under 1e-6, a few hundred times
    smaller than the tolerances, so the 8-dp rounding is negligible. With sigma = 0.2 the
    -sigma^2/2 term (0.02) is several tolerances wide, so the test tells mu - sigma^2/2 from mu.
    """
    log_returns, lowest = [], math.inf
    for i in range(200):
        path = prices(
            params(seed_of(i, b"logret"), initial="1000", drift=str(mu), vol=str(sigma)), 100
        )
        lowest = min(lowest, *path)
        log_returns.extend(math.log(b / a) for a, b in itertools.pairwise(path))
    x = np.array(log_returns)
    n = len(x)
    assert n == 20000
    assert 0.5 / lowest < 1e-6
    mean_se = x.std(ddof=1) / math.sqrt(n)
    assert abs(x.mean() - (mu - sigma**2 / 2)) < 4 * mean_se, (x.mean(), mean_se)
    var_se = sigma**2 * math.sqrt(2 / (n - 1))  # normal theory: sd of the sample variance
    assert abs(x.var(ddof=1) - sigma**2) < 4 * var_se, (x.var(ddof=1), var_se)


@pytest.mark.slow
def test_the_shocks_are_standard_normal_and_serially_uncorrelated():
    n = 20000
    along_a_path = np.array([float(standard_normal(seed_of(0, b"z"), k)) for k in range(n)])
    across_seeds = np.array([float(standard_normal(seed_of(i, b"z"), 0)) for i in range(2000)])
    for z in (along_a_path, across_seeds):
        assert stats.kstest(z, "norm").pvalue > 0.001
    r = np.corrcoef(along_a_path[:-1], along_a_path[1:])[0, 1]
    assert abs(r) < 4 / math.sqrt(n), r
    assert abs(along_a_path.mean()) < 4 / math.sqrt(n)
    assert abs(along_a_path.var(ddof=1) - 1) < 4 * math.sqrt(2 / (n - 1))


# -- 3. the verifier ------------------------------------------------------------------------


def honest(p: PathParams, expiry_tick: int) -> dict:
    path = PricePath(p)
    end = path.end_tick(expiry_tick, WORTHLESS)
    return {
        "seed": p.seed,
        "seed_commitment": commitment(p.seed),
        "params": p,
        "expiry_tick": expiry_tick,
        "worthless": WORTHLESS,
        "ticks": {k: path.price(k) for k in range(end + 1)},
        "final_tick": end,
        "final_price": path.price(end),
    }


def test_the_verifier_accepts_an_honest_path():
    claim = honest(params(seed_of(7), vol="0.03"), 30)
    assert claim["final_tick"] == 30
    verdict = verify_path(**claim)
    assert (verdict.ok, verdict.problems, verdict.ticks_checked) == (True, (), 31)


def _wrong_seed(c):
    c["seed"] = seed_of(8)
    c["params"] = replace(c["params"], seed=seed_of(8))


def _altered_tick(c):
    c["ticks"][12] += 1


def _missing_tick(c):
    del c["ticks"][5]


def _wrong_final_price(c):
    c["final_price"] += 1


def _wrong_final_tick(c):
    c["final_tick"] = 29


def _late_tick(c):
    c["ticks"][31] = PricePath(c["params"]).price(31)


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (_wrong_seed, "seed does not match its commitment"),
        (_altered_tick, "tick 12: stored"),
        (_missing_tick, "1 ticks missing"),
        (_wrong_final_price, "settlement price"),
        (_wrong_final_tick, "settled at tick 29, the path ends at tick 30"),
        (_late_tick, "tick 31 published after the end of trading"),
    ],
)
def test_the_verifier_rejects_any_departure_from_the_committed_path(tamper, problem):
    claim = honest(params(seed_of(7), vol="0.03"), 30)
    tamper(claim)
    verdict = verify_path(**claim)
    assert not verdict.ok
    assert any(problem in p for p in verdict.problems), verdict.problems


def test_the_verifier_rejects_parameters_that_name_another_seed():
    claim = honest(params(seed_of(7), vol="0.03"), 30)
    claim["params"] = params(seed_of(8), vol="0.03")
    verdict = verify_path(**claim)
    assert "path parameters name a different seed" in verdict.problems


def test_the_verifier_reports_a_stored_negative_tick_instead_of_crashing():
    claim = honest(params(seed_of(7), vol="0.03"), 30)
    claim["ticks"][-1] = 1
    assert not verify_path(**claim).ok


def worthless_path(expiry_tick: int = 100) -> tuple[PathParams, int]:
    """The first of a few deterministic seeds whose path hits the worthless price before expiry."""
    for i in range(50):
        p = params(seed_of(i, b"worthless"), initial="1", drift="-0.02", vol="0.3")
        end = PricePath(p).end_tick(expiry_tick, WORTHLESS)
        if end < expiry_tick:
            return p, end
    raise AssertionError("no seed reached the worthless price")


def test_the_worthless_rule_ends_the_path_at_its_first_tick_below_the_worthless_price():
    p, end = worthless_path()
    path = PricePath(p)
    assert 1 <= end < 100
    assert all(path.price(k) >= WORTHLESS for k in range(end))
    assert path.price(end) < WORTHLESS
    claim = honest(p, 100)
    assert claim["final_tick"] == end and verify_path(**claim).ok
    # settling at expiry instead, as if the rule did not exist, is caught
    claim["final_tick"], claim["final_price"] = 100, path.price(100)
    claim["ticks"] = {k: path.price(k) for k in range(101)}
    problems = verify_path(**claim).problems
    assert f"settled at tick 100, the path ends at tick {end}" in problems
    assert any("published after the end of trading" in q for q in problems)


# -- 4. end to end: the engine settles, the proof checks what the database stored -------------


def status(game, asset_id):
    return read(game.database, lambda s: s.get(Asset, asset_id).status)


def stored_ticks(game, asset_id):
    query = select(PriceTick.tick, PriceTick.price).where(PriceTick.asset_id == asset_id)
    return dict(read(game.database, lambda s: s.execute(query).all()))


def test_the_engine_settles_an_asset_whose_proof_verifies_until_a_stored_tick_is_tampered(
    game, clock
):
    asset = new_asset(game, lifetime_s="20")
    assert (asset.expiry_tick, asset.end_tick) == (20, 20)  # $100 at 1% a tick cannot reach $0.01
    with pytest.raises(AssetNotTradable):
        proofs.verify_asset(game, str(asset.id))  # the seed is still secret
    engine = MarketEngine(game)
    for steps in range(1, 40):
        engine.step()
        if status(game, asset.id) == SETTLED:
            break
        clock.advance(1)
    else:
        pytest.fail("the asset never settled")
    assert steps == 21  # ticks 0..20, one step a second

    settled = read(game.database, lambda s: s.get(Asset, asset.id))
    expected = prices(
        PathParams(asset.seed, asset.initial_price, Decimal("0"), Decimal("0.01")), 20
    )
    assert (settled.final_tick, settled.final_price) == (20, expected[20])
    assert stored_ticks(game, asset.id) == dict(enumerate(expected))
    checked, verdict = proofs.verify_asset(game, str(asset.id))
    assert checked.id == asset.id
    assert (verdict.ok, verdict.problems, verdict.ticks_checked) == (True, (), 21)

    with game.database.begin() as conn:
        conn.execute(
            text("UPDATE price_ticks SET price = price + 1 WHERE asset_id = :a AND tick = 7"),
            {"a": asset.id},
        )
    _, verdict = proofs.verify_asset(game, str(asset.id))
    assert not verdict.ok
    assert verdict.problems == (f"tick 7: stored {expected[7] + 1}, recomputed {expected[7]}",)

    with game.database.begin() as conn:
        conn.execute(
            text("DELETE FROM price_ticks WHERE asset_id = :a AND tick IN (7, 8)"), {"a": asset.id}
        )
    _, verdict = proofs.verify_asset(game, str(asset.id))
    assert verdict.problems == ("2 ticks missing from the stored history",)

    # the pool the engine refilled is live: none of those seeds may be revealed
    pool = read(
        game.database, lambda s: s.scalars(select(Asset.id).where(Asset.status == LIVE)).all()
    )
    assert len(pool) == game.settings.pool_size
    for other in pool:
        with pytest.raises(AssetNotTradable):
            proofs.verify_asset(game, str(other))


# -- 5. a restart recomputes the same path from what the database stored ------------------------


def test_a_restarted_app_recomputes_the_same_path_and_continues_the_stored_history(
    game, clock, database_url
):
    asset = new_asset(game, volatility="0.05")
    engine = MarketEngine(game)
    engine.step()
    for _ in range(5):
        clock.advance(1)
        engine.step()
    before = [game.path(asset).price(k) for k in range(11)]
    assert stored_ticks(game, asset.id) == {k: before[k] for k in range(6)}

    config = make_config(database_url)
    config["MARTINGALE_CLOCK"] = ManualClock(clock.now())
    app = create_app(config)
    try:
        fresh = game_of(app)
        assert fresh is not game and fresh.paths is not game.paths
        assert fresh.clock.now() == clock.now()
        reloaded = read(fresh.database, lambda s: s.get(Asset, asset.id))
        assert [fresh.path(reloaded).price(k) for k in range(11)] == before
        assert stored_ticks(fresh, asset.id) == {k: before[k] for k in range(6)}
        # the restarted engine picks up at tick 6 with the same numbers
        fresh.clock.advance(3)
        MarketEngine(fresh).step()
        assert stored_ticks(fresh, asset.id) == {k: before[k] for k in range(9)}
    finally:
        game_of(app).database.dispose()
