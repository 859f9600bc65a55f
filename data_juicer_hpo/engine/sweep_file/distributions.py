"""Every W&B sweep parameter kind as plain data, sampled through the inverse CDF of one uniform variable.

A :class:`ParamSpec` maps ``u`` in [0, 1) to a user-facing value (:meth:`ParamSpec.from_unit`), which is how
W&B's ``HyperParameter.ppf`` samples (``sweeps/params.py``): random search draws ``u ~ U(0, 1)``, so every
distribution is sampled exactly, and Bayesian search can work on the unit cube. The kinds are a registry
(:data:`KINDS`), each entry stating its keys with W&B's defaults, its inverse CDF and its support.

Integer output of the quantised (``q_*``) kinds: W&B returns ints exactly when ``q`` is a Python int, but its
schema default ``q`` is ``1.0``, so ``q_log_uniform_values`` with ``min: 256, max: 8192`` and no ``q`` gives
floats such as ``1024.0``. Here, when ``q`` is omitted, the output is int iff ``min`` and ``max`` are both ints
(the user wrote integers, and a multiple of 1 is an integer); when ``q`` is given, W&B's rule applies as is.
"""

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from data_juicer_hpo.engine.sweep_file.beta import beta_ppf

__all__ = ["KINDS", "GRID_KINDS", "ParamSpec", "is_number"]

# W&B lets a grid run over these only (``grid_search.py``); int_uniform and q_uniform are discretised.
GRID_KINDS = ("constant", "categorical", "int_uniform", "q_uniform")

_STANDARD_NORMAL = NormalDist()
_U_BELOW_ONE = 1.0 - 2.0**-53  # the largest float < 1: inverse CDFs of unbounded laws are infinite at 0 and 1


def is_number(x: Any) -> bool:
    """A finite real given as int or float; YAML booleans are ints in Python, and are not numbers here."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _same(a: Any, b: Any) -> bool:
    # ``True == 1`` in Python, but a categorical over [0, 1] must not claim to contain True.
    return isinstance(a, bool) == isinstance(b, bool) and a == b


@dataclass(frozen=True)
class ParamSpec:
    """One sweep parameter with W&B's defaults filled in; only the keys of its distribution are set."""

    name: str
    distribution: str
    value: Any = None
    values: Optional[Tuple[Any, ...]] = None
    probabilities: Optional[Tuple[float, ...]] = None
    min: Optional[float] = None
    max: Optional[float] = None
    q: Optional[float] = None
    mu: Optional[float] = None
    sigma: Optional[float] = None
    a: Optional[float] = None
    b: Optional[float] = None
    int_valued: bool = False

    @property
    def is_constant(self) -> bool:
        return self.distribution == "constant"

    def from_unit(self, u: float) -> Any:
        """The value at quantile ``u`` (inverse CDF); ``u`` = 1 is accepted and treated as just below 1."""
        if not 0.0 <= u <= 1.0:
            raise ValueError(f"`0 <= u <= 1` must hold, but got u={u}")
        return KINDS[self.distribution].ppf(self, min(u, _U_BELOW_ONE))

    def support_contains(self, value: Any) -> bool:
        """Whether ``value`` can be drawn from this parameter (with a relative tolerance of 1e-9 for floats)."""
        return KINDS[self.distribution].support(self, value)

    def grid_values(self) -> Optional[List[Any]]:
        """Every value of a grid-able parameter in order, or None when W&B's grid cannot enumerate it."""
        grid = KINDS[self.distribution].grid
        return None if grid is None else grid(self)

    def grid_count(self) -> Optional[int]:
        """``len(self.grid_values())`` without building the list (an int_uniform may span a billion values)."""
        count = KINDS[self.distribution].grid_count
        return None if count is None else count(self)


# ---- the building blocks: continuous laws (inverse CDF, closed support) -------------------------------------


def _clamp(x: float, lo: float, hi: float) -> float:
    # exp(log(max)) may exceed max by one ulp; keep every draw inside the support it is checked against.
    return min(max(x, lo), hi)


def _uniform(p: ParamSpec, u: float) -> float:
    return p.min + u * (p.max - p.min)


def _log_uniform(p: ParamSpec, u: float) -> float:  # min/max are natural-log exponents
    return math.exp(p.min + u * (p.max - p.min))


def _log_uniform_values(p: ParamSpec, u: float) -> float:
    lo, hi = math.log(p.min), math.log(p.max)
    return math.exp(lo + u * (hi - lo))


def _inv_log_uniform(p: ParamSpec, u: float) -> float:  # 1/x is log-uniform with exponents in [min, max]
    return math.exp(-(p.min + (1.0 - u) * (p.max - p.min)))


def _inv_log_uniform_values(p: ParamSpec, u: float) -> float:
    lo, hi = -math.log(p.max), -math.log(p.min)
    return math.exp(-(lo + (1.0 - u) * (hi - lo)))


def _normal(p: ParamSpec, u: float) -> float:
    return p.mu + p.sigma * _STANDARD_NORMAL.inv_cdf(max(u, 1e-300))


def _log_normal(p: ParamSpec, u: float) -> float:  # scipy's lognorm(s=sigma, scale=exp(mu)), as W&B uses
    return math.exp(_normal(p, u))


def _beta(p: ParamSpec, u: float) -> float:
    return beta_ppf(u, p.a, p.b)


_CONTINUOUS: Dict[str, Tuple[Callable[[ParamSpec, float], float], Callable[[ParamSpec], Tuple[float, float]]]] = {
    "uniform": (_uniform, lambda p: (p.min, p.max)),
    "log_uniform": (_log_uniform, lambda p: (math.exp(p.min), math.exp(p.max))),
    "log_uniform_values": (_log_uniform_values, lambda p: (p.min, p.max)),
    "inv_log_uniform": (_inv_log_uniform, lambda p: (math.exp(-p.max), math.exp(-p.min))),
    "inv_log_uniform_values": (_inv_log_uniform_values, lambda p: (p.min, p.max)),
    "normal": (_normal, lambda p: (-math.inf, math.inf)),
    "log_normal": (_log_normal, lambda p: (0.0, math.inf)),
    "beta": (_beta, lambda p: (0.0, 1.0)),
}


def _within(x: float, lo: float, hi: float) -> bool:
    tol = 1e-9 * max(1.0, *(abs(v) for v in (lo, hi, x) if math.isfinite(v)))
    return lo - tol <= x <= hi + tol


def _continuous(base: str):
    ppf, bounds = _CONTINUOUS[base]

    def sample(p: ParamSpec, u: float) -> float:
        return float(_clamp(ppf(p, u), *bounds(p)))

    def support(p: ParamSpec, v: Any) -> bool:
        return is_number(v) and _within(v, *bounds(p))

    return sample, support


def _k_range(p: ParamSpec, lo: float, hi: float) -> Tuple[float, float]:
    """The multiples k of q that a draw in [lo, hi] rounds to with positive probability.

    A bound that is an exact half-multiple (min=1, q=2) rounds half to even only at that single point, so it is
    left out: the grid and the support then hold exactly the values random search can produce.
    """
    k_lo = math.floor(lo / p.q + 0.5) if math.isfinite(lo) else -math.inf
    k_hi = math.ceil(hi / p.q - 0.5) if math.isfinite(hi) else math.inf
    return k_lo, k_hi


def _quantised(base: str):
    """W&B's ``q_*`` kinds: ``round(x / q) * q`` of the base draw (round half to even, like ``np.round``)."""
    ppf, bounds = _CONTINUOUS[base]

    def sample(p: ParamSpec, u: float) -> Any:
        lo, hi = bounds(p)
        k = _clamp(round(_clamp(ppf(p, u), lo, hi) / p.q), *_k_range(p, lo, hi))
        return int(k * p.q) if p.int_valued else float(k * p.q)

    def support(p: ParamSpec, v: Any) -> bool:
        if not is_number(v) or (p.int_valued and not isinstance(v, int)):
            return False
        k = v / p.q
        k_lo, k_hi = _k_range(p, *bounds(p))
        return math.isclose(k, round(k), rel_tol=1e-9, abs_tol=1e-9) and k_lo <= round(k) <= k_hi

    return sample, support


# ---- the discrete kinds -----------------------------------------------------------------------------------


def _categorical(p: ParamSpec, u: float) -> Any:
    return p.values[min(int(u * len(p.values)), len(p.values) - 1)]


def _weighted(p: ParamSpec, u: float) -> Any:
    # Smallest i with u < cdf[i]; scaling u by the total absorbs a sum that is 1 only within tolerance, and a
    # zero-probability value can never be the first to exceed u.
    target, cdf = u * sum(p.probabilities), 0.0
    last = max(i for i, w in enumerate(p.probabilities) if w > 0)
    for i, w in enumerate(p.probabilities[:last]):
        cdf += w
        if target < cdf:
            return p.values[i]
    return p.values[last]


def _int_uniform(p: ParamSpec, u: float) -> int:
    n = p.max - p.min + 1
    return p.min + min(int(u * n), n - 1)


def _q_uniform_ks(p: ParamSpec) -> range:
    # The support of the random draw: the multiples of q that [min, max] rounds to. W&B's grid uses
    # np.arange(min, max, q) instead, which leaves out max and, when min is not a multiple of q, yields values the
    # same parameter can never take under random search.
    k_lo, k_hi = _k_range(p, p.min, p.max)
    return range(k_lo, k_hi + 1)


def _q_uniform_grid(p: ParamSpec) -> List[Any]:
    return [int(k * p.q) if p.int_valued else float(k * p.q) for k in _q_uniform_ks(p)]


@dataclass(frozen=True)
class _Kind:
    required: Tuple[str, ...]
    defaults: Mapping[str, Any]  # optional keys and W&B's default for each
    ppf: Callable[[ParamSpec, float], Any]
    support: Callable[[ParamSpec, Any], bool]
    grid: Optional[Callable[[ParamSpec], List[Any]]] = None
    grid_count: Optional[Callable[[ParamSpec], int]] = None
    positive_min: bool = False  # the *_values log kinds take values, which must be > 0
    integer_bounds: bool = False


_BOUNDS = ("min", "max")
_NORMAL_DEFAULTS = {"mu": 0.0, "sigma": 1.0}
_BETA_DEFAULTS = {"a": 1.0, "b": 1.0}

KINDS: Dict[str, _Kind] = {
    "constant": _Kind(
        ("value",), {}, lambda p, u: p.value, lambda p, v: _same(v, p.value), lambda p: [p.value], lambda p: 1
    ),
    "categorical": _Kind(
        ("values",),
        {},
        _categorical,
        lambda p, v: any(_same(v, x) for x in p.values),
        lambda p: list(p.values),
        lambda p: len(p.values),
    ),
    "categorical_w_probabilities": _Kind(
        ("values", "probabilities"),
        {},
        _weighted,
        lambda p, v: any(_same(v, x) and w > 0 for x, w in zip(p.values, p.probabilities)),
    ),
    "int_uniform": _Kind(
        _BOUNDS,
        {},
        _int_uniform,
        lambda p, v: isinstance(v, int) and not isinstance(v, bool) and p.min <= v <= p.max,
        lambda p: list(range(p.min, p.max + 1)),
        lambda p: p.max - p.min + 1,
        integer_bounds=True,
    ),
}
for _base, _required, _defaults, _positive in (
    ("uniform", _BOUNDS, {}, False),
    ("log_uniform", _BOUNDS, {}, False),
    ("log_uniform_values", _BOUNDS, {}, True),
    ("inv_log_uniform", _BOUNDS, {}, False),
    ("inv_log_uniform_values", _BOUNDS, {}, True),
    ("normal", (), _NORMAL_DEFAULTS, False),
    ("log_normal", (), _NORMAL_DEFAULTS, False),
    ("beta", (), _BETA_DEFAULTS, False),
):
    KINDS[_base] = _Kind(_required, _defaults, *_continuous(_base), positive_min=_positive)
    if not _base.startswith("inv_"):  # W&B has no quantised inverse log-uniform
        KINDS[f"q_{_base}"] = _Kind(
            _required,
            {**_defaults, "q": 1},
            *_quantised(_base),
            grid=_q_uniform_grid if _base == "uniform" else None,
            grid_count=(lambda p: len(_q_uniform_ks(p))) if _base == "uniform" else None,
            positive_min=_positive,
        )
