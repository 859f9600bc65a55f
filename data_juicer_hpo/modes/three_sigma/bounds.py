"""The k-sigma rule as pure functions: plain numbers and numpy arrays in, plain data out.

For each threshold argument of a filter, the new bound is mean -/+ k * std of the statistic the filter sees, with
std the sample standard deviation (ddof=1, as Data-Juicer's Analyzer reports it). The bound is then clamped to the
statistic's natural range and cast to the argument's declared type so that the kept set is right:

* integer statistic, int argument: ``min -> ceil``, ``max -> floor`` keeps exactly the values in
  ``[mean - k*std, mean + k*std]``;
* fractional statistic, int argument (``average_line_length_filter``): round outward (``min -> floor``,
  ``max -> ceil``) so that no inlier is dropped;
* float argument: the exact float.

List-valued statistics (one value per image, audio or video of a sample) are pooled over the population as
Data-Juicer's Analyzer explodes them (:func:`data_juicer_hpo.ops.thresholds.pooled`). The filter's own
``any_or_all`` then decides per sample.

With ``scale="log"`` the bounds are ``exp(mean(ln x) -/+ k * std(ln x))`` (ddof=1), for statistics whose values are
all > 0 (lengths and sizes are log-normal on real data: the linear lower bound is often negative).
"""

import math
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from data_juicer_hpo.ops.thresholds import is_list_valued, pooled

__all__ = [
    "Estimate",
    "Moments",
    "Partial",
    "SCALES",
    "estimate",
    "partial_of",
    "merge",
    "merged_moments",
    "moments_of",
    "log_scale_problem",
    "natural_range",
    "bound_value",
    "bound_interval",
]

SCALES = ("linear", "log")

# Statistics of Data-Juicer's text filters whose range is known; others fall back to what the data shows.
_NON_NEGATIVE_HINTS = ("len", "length", "num", "count", "size", "ratio", "perplexity", "duration", "width", "height")
_UNIT_HINTS = ("ratio",)


@dataclass(frozen=True)
class Estimate:
    """Moments of one statistic over the population."""

    n: int
    mean: float
    std: float
    integral: bool  # every value is a whole number
    low: float  # observed minimum
    high: float  # observed maximum
    per_item: bool = False  # pooled from one list of values per sample
    log_mean: Optional[float] = None  # moments of ln(x), when every value is > 0
    log_std: Optional[float] = None


@dataclass(frozen=True)
class Moments:
    """Count, exact sum and sum of squared deviations from the part's own mean, of the values of one part."""

    n: int
    total: float  # math.fsum: correctly rounded, so the result does not depend on the order of the values
    m2: float

    @property
    def mean(self) -> float:
        return self.total / self.n


def moments_of(arr: np.ndarray) -> Moments:
    mean = math.fsum(arr) / arr.size
    return Moments(int(arr.size), math.fsum(arr), math.fsum((arr - mean) ** 2))


def merged_moments(parts) -> Tuple[float, float]:
    """Mean and sample std (ddof=1) of the union of parts (Chan et al.'s pairwise merge, summed exactly); one part
    gives exactly ``fsum(x) / n`` and ``sqrt(fsum((x - mean)^2) / (n - 1))``."""
    parts = [p for p in parts if p.n]
    n = sum(p.n for p in parts)
    mean = math.fsum(p.total for p in parts) / n
    m2 = math.fsum(p.m2 for p in parts) + math.fsum(p.n * (p.mean - mean) ** 2 for p in parts if p.mean != mean)
    return mean, math.sqrt(m2 / (n - 1))


@dataclass(frozen=True)
class Partial:
    """What the k-sigma rule needs of one part of a statistic's values (a block of a Ray dataset, or all of them):
    parts merge into the same :class:`Estimate` as the whole, so the driver never holds a value per document."""

    per_item: bool  # some sample of the part holds a list of values
    size: int = 0  # values pooled from the part (None skipped; NaN and inf counted)
    missing: bool = False  # a sample without a value (None)
    numeric: bool = True
    flat: bool = True  # pooled into a one-dimensional array
    nan: int = 0
    inf: bool = False
    integral: bool = True
    low: float = math.inf
    high: float = -math.inf
    moments: Optional[Moments] = None  # of the values (None: no value, or NaN/inf among them)
    log: Optional[Moments] = None  # of ln(x), when every value of the part is > 0


def partial_of(values) -> Partial:
    """The :class:`Partial` of one part of a statistic's values (one value or one list of values per sample)."""
    values = list(values) if not isinstance(values, np.ndarray) else values
    per_item = is_list_valued(values)
    missing = not isinstance(values, np.ndarray) and any(v is None for v in values)
    try:
        arr = pooled([v for v in values if v is not None] if missing else values)
    except (TypeError, ValueError):
        return Partial(per_item, missing=missing, numeric=False)
    if arr.ndim != 1:
        return Partial(per_item, missing=missing, flat=False)
    size = int(arr.size)
    if size == 0:
        return Partial(per_item, 0, missing)
    nan = int(np.isnan(arr).sum())
    inf = bool(np.isinf(arr).any())
    if nan or inf:
        return Partial(per_item, size, missing, nan=nan, inf=inf)
    low, high = float(arr.min()), float(arr.max())
    log = moments_of(np.log(arr)) if low > 0 else None
    integral = bool(np.all(arr == np.floor(arr)))
    return Partial(per_item, size, missing, True, True, 0, False, integral, low, high, moments_of(arr), log)


def merge(parts) -> Tuple[Optional[Estimate], Optional[str]]:
    """The :class:`Estimate` of the union of parts, or ``(None, reason)`` when the k-sigma rule cannot apply
    (the same reasons, in the same order, as for the values taken together)."""
    parts = list(parts)
    per_item = any(p.per_item for p in parts)
    unit = "item" if per_item else "sample"
    # one value per sample: a missing one is not a number (a list-valued statistic skips it, as the Analyzer does)
    if any(not p.numeric for p in parts) or (not per_item and any(p.missing for p in parts)):
        return None, "statistic is not numeric"
    if any(not p.flat for p in parts):
        return None, "statistic is not a number or a list of numbers per sample"
    size = sum(p.size for p in parts)
    if size < 2:
        return None, f"needs at least 2 {unit}s to estimate a std (got {size})"
    nan = sum(p.nan for p in parts)
    if nan:
        return None, f"statistic is NaN for {nan} {unit}(s)"
    if any(p.inf for p in parts):
        return None, f"statistic is infinite for some {unit}s"
    counted = [p for p in parts if p.moments is not None]
    low, high = min(p.low for p in counted), max(p.high for p in counted)
    mean, std = merged_moments([p.moments for p in counted])
    if std == 0.0 or low == high:
        return None, f"statistic is constant ({low!r})"
    integral = all(p.integral for p in counted)
    log_mean = log_std = None
    if low > 0:
        log_mean, log_std = merged_moments([p.log for p in counted])
    return Estimate(size, mean, std, integral, low, high, per_item, log_mean, log_std), None


def estimate(values) -> Tuple[Optional[Estimate], Optional[str]]:
    """Moments of ``values``, or ``(None, reason)`` when the k-sigma rule cannot apply to them."""
    return merge([partial_of(values)])


Z95 = 1.959963984540054  # the standard normal's 97.5 % quantile


def bound_interval(est: Estimate, k: float, side: str, m3: float, m4: float, scale: str = "linear"):
    """A 95 % interval of the k-sigma bound (before its clamp and cast) as the sample's estimate of the population's,
    by the delta method: Var(mean +/- k s) ~ (s^2 + k^2 (m4 - s^4) / (4 s^2) +/- k m3 / s) / n, with ``m3``, ``m4``
    the central moments of the values (of ln x on the log scale)."""
    sign = -1.0 if side == "min" else 1.0
    mean, std = (est.log_mean, est.log_std) if scale == "log" else (est.mean, est.std)
    var = std * std
    spread = (var + k * k * (m4 - var * var) / (4 * var) + sign * k * m3 / std) / est.n
    half = Z95 * math.sqrt(max(spread, 0.0))
    raw = mean + sign * k * std
    low, high = raw - half, raw + half
    return (math.exp(low), math.exp(high)) if scale == "log" else (low, high)


def log_scale_problem(est: Estimate) -> Optional[str]:
    """Why log-scale bounds cannot apply to this statistic (None when they can)."""
    if est.log_mean is None:
        return f"has values <= 0 (minimum {est.low:g}), so its bounds stay linear"
    if not est.log_std:
        return "ln(x) is constant, so its bounds stay linear"
    return None


def natural_range(stat_key: str, est: Estimate) -> Tuple[float, float]:
    """The range a statistic can take: ratios in [0, 1], lengths and counts >= 0, otherwise unbounded.

    The name hints are confirmed by the data (a "ratio" above 1 is not a unit ratio), so a clamp never moves a
    bound past an observed value, i.e. clamping never changes which samples are kept.
    """
    name = stat_key.lower()
    low, high = -math.inf, math.inf
    if any(h in name for h in _NON_NEGATIVE_HINTS) and est.low >= 0:
        low = 0.0
    if any(h in name for h in _UNIT_HINTS) and est.low >= 0 and est.high <= 1:
        high = 1.0
    return low, high


def bound_value(
    est: Estimate, k: float, side: str, arg_type: type, stat_range: Tuple[float, float], scale: str = "linear"
):
    """The new value of a ``min``/``max`` argument: k-sigma (on ``scale``), clamped, and cast to ``arg_type``."""
    if side not in ("min", "max"):
        raise ValueError(f"side must be 'min' or 'max' (got {side!r})")
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES} (got {scale!r})")
    sign = -1.0 if side == "min" else 1.0
    if scale == "log":
        if log_scale_problem(est):
            raise ValueError(f"log scale does not apply: {log_scale_problem(est)}")
        raw = math.exp(est.log_mean + sign * k * est.log_std)
    else:
        raw = est.mean + sign * k * est.std
    raw = min(max(raw, stat_range[0]), stat_range[1])
    if arg_type is int:
        if est.integral:
            # exactly the integers inside [mean - k std, mean + k std]
            return int(math.ceil(raw)) if side == "min" else int(math.floor(raw))
        # fractional statistic bounded by an int argument: widen, never drop an inlier
        return int(math.floor(raw)) if side == "min" else int(math.ceil(raw))
    return float(raw)
