"""The deterministic, committed price path of an asset, and its verifier.

``RECIPE`` below is the published specification: the API serves it with every proof, so a stranger
can re-implement the path, and this module follows it step by step.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal

CTX = Context(prec=40, rounding=ROUND_HALF_EVEN, Emax=999999, Emin=-999999)
_TWO64 = Decimal(2**64)
_HALF = Decimal("0.5")
_P_LOW = Decimal("0.02425")
_P_HIGH = 1 - _P_LOW

_A = tuple(map(Decimal, ("-3.969683028665376e+01", "2.209460984245205e+02",
                         "-2.759285104469687e+02", "1.383577518672690e+02",
                         "-3.066479806614716e+01", "2.506628277459239e+00")))  # fmt: skip
_B = tuple(map(Decimal, ("-5.447609879822406e+01", "1.615858368580409e+02",
                         "-1.556989798598866e+02", "6.680131188771972e+01",
                         "-1.328068155288572e+01")))  # fmt: skip
_C = tuple(map(Decimal, ("-7.784894002430293e-03", "-3.223964580411365e-01",
                         "-2.400758277161838e+00", "-2.549732539343734e+00",
                         "4.374664141464968e+00", "2.938163982698783e+00")))  # fmt: skip
_D = tuple(map(Decimal, ("7.784695709041462e-03", "3.224671290700398e-01",
                         "2.445134137142996e+00", "3.754408661907416e+00")))  # fmt: skip

# What the API publishes with every proof: the path is fully specified by this text.
RECIPE = """The deterministic, committed price path and its verifier.

Recipe (published with every proof, so a stranger can re-implement it):

1. ``seed`` is 32 bytes from a CSPRNG; the commitment is ``sha256(seed).hexdigest()``.
2. For step k = 0, 1, 2, ...: ``h = HMAC-SHA256(seed, k as 8-byte big-endian)``;
   ``u = (int(h[0:8], big-endian) + 0.5) / 2**64``, a uniform in (0, 1);
   ``Z = inverse normal CDF of u`` by P. J. Acklam's rational approximation, evaluated in decimal.
3. ``S(0) = initial_price``; ``S(k+1) = round8(S(k) * exp((mu - sigma**2 / 2) + sigma * Z_k))``.
   mu and sigma are the asset's published per-tick decimal strings.
4. All arithmetic is IEEE 754 decimal at 40 significant digits, round-half-even
   (Python's ``decimal``: exp, ln and sqrt are correctly rounded, so every platform gets the same
   digits); ``round8`` rounds half-even to 8 decimal places.
5. Trading ends at ``end_tick``: the first tick k <= expiry_tick with S(k) < worthless price, or
   expiry_tick if there is none. The asset settles at S(end_tick).

The price stored for a tick, traded at that tick, settled at and recomputed by the verifier are the
same integer number of 10**-8 dollars.
"""


def commitment(seed: bytes) -> str:
    return hashlib.sha256(seed).hexdigest()


def _horner(coefficients: tuple[Decimal, ...], x: Decimal) -> Decimal:
    acc = Decimal(0)
    for c in coefficients:
        acc = CTX.add(CTX.multiply(acc, x), c)
    return acc


def inverse_normal_cdf(p: Decimal) -> Decimal:
    """Acklam's approximation (relative error below 1.2e-9), in decimal arithmetic only."""
    if p < _P_LOW:
        q = CTX.sqrt(CTX.multiply(Decimal(-2), CTX.ln(p)))
        return CTX.divide(_horner(_C, q), CTX.add(CTX.multiply(_horner(_D, q), q), Decimal(1)))
    if p > _P_HIGH:
        q = CTX.sqrt(CTX.multiply(Decimal(-2), CTX.ln(CTX.subtract(Decimal(1), p))))
        # copy_negate is exact; unary minus would round in the thread's own decimal context
        return CTX.divide(
            _horner(_C, q), CTX.add(CTX.multiply(_horner(_D, q), q), Decimal(1))
        ).copy_negate()
    q = CTX.subtract(p, _HALF)
    r = CTX.multiply(q, q)
    num = CTX.multiply(_horner(_A, r), q)
    return CTX.divide(num, CTX.add(CTX.multiply(_horner(_B, r), r), Decimal(1)))


def uniform(seed: bytes, k: int) -> Decimal:
    digest = hmac.new(seed, k.to_bytes(8, "big"), hashlib.sha256).digest()
    return CTX.divide(CTX.add(Decimal(int.from_bytes(digest[:8], "big")), _HALF), _TWO64)


def standard_normal(seed: bytes, k: int) -> Decimal:
    return inverse_normal_cdf(uniform(seed, k))


def step(price: int, drift: Decimal, volatility: Decimal, z: Decimal) -> int:
    """One GBM step on a price in atoms; returns atoms rounded half-even."""
    exponent = CTX.add(
        CTX.subtract(drift, CTX.divide(CTX.multiply(volatility, volatility), Decimal(2))),
        CTX.multiply(volatility, z),
    )
    nxt = CTX.multiply(Decimal(price), CTX.exp(exponent))
    return int(nxt.to_integral_value(rounding=ROUND_HALF_EVEN))


@dataclass(frozen=True)
class PathParams:
    seed: bytes
    initial_price: int
    drift: Decimal
    volatility: Decimal


@dataclass
class PricePath:
    """S(0..n), extended on demand; thread-safe; never changes once computed."""

    params: PathParams
    _prices: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def price(self, k: int) -> int:
        if k < 0:
            raise ValueError("negative tick")
        with self._lock:
            if not self._prices:
                self._prices.append(self.params.initial_price)
            while len(self._prices) <= k:
                n = len(self._prices) - 1
                z = standard_normal(self.params.seed, n)
                self._prices.append(
                    step(self._prices[n], self.params.drift, self.params.volatility, z)
                )
            return self._prices[k]

    def end_tick(self, expiry_tick: int, worthless: int) -> int:
        for k in range(1, expiry_tick + 1):
            if self.price(k) < worthless:
                return k
        return expiry_tick


class PathCache:
    """Paths by asset id. A path is a pure function of its parameters, so caching is always safe."""

    def __init__(self, limit: int = 256) -> None:
        self._paths: dict[int, PricePath] = {}
        self._limit = limit
        self._lock = threading.Lock()

    def get(self, asset_id: int, params: PathParams) -> PricePath:
        with self._lock:
            path = self._paths.get(asset_id)
            if path is None or path.params != params:
                if len(self._paths) >= self._limit:
                    self._paths.pop(next(iter(self._paths)))
                path = self._paths[asset_id] = PricePath(params)
            return path

    def forget(self, asset_id: int) -> None:
        with self._lock:
            self._paths.pop(asset_id, None)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    problems: tuple[str, ...]
    ticks_checked: int


def verify_path(
    *,
    seed: bytes,
    seed_commitment: str,
    params: PathParams,
    expiry_tick: int,
    worthless: int,
    ticks: Mapping[int, int],
    final_tick: int,
    final_price: int,
    complete: bool = True,
) -> Verdict:
    """Recompute every published tick and the settlement from the revealed seed.

    ``complete``: every tick of the path must be stored (False once retention has dropped them:
    then the ticks that remain are checked, and the rest are the seed's by definition)."""
    problems: list[str] = []
    if commitment(seed) != seed_commitment:
        problems.append("seed does not match its commitment")
    if params.seed != seed:
        problems.append("path parameters name a different seed")
    path = PricePath(params)
    expected_end = path.end_tick(expiry_tick, worthless)
    if final_tick != expected_end:
        problems.append(f"settled at tick {final_tick}, the path ends at tick {expected_end}")
    if final_price != path.price(final_tick):
        problems.append(
            f"settlement price {final_price} differs from S({final_tick}) = {path.price(final_tick)}"
        )
    for k in sorted(ticks):
        if k < 0:
            problems.append(f"tick {k} is before the asset's birth")
        elif k > expected_end:
            problems.append(f"tick {k} published after the end of trading")
        elif ticks[k] != path.price(k):
            problems.append(f"tick {k}: stored {ticks[k]}, recomputed {path.price(k)}")
    missing = set(range(expected_end + 1)) - set(ticks)
    if missing and complete:
        problems.append(f"{len(missing)} ticks missing from the stored history")
    return Verdict(ok=not problems, problems=tuple(problems), ticks_checked=len(ticks))
