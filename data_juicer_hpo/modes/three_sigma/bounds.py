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

__all__ = ["Estimate", "SCALES", "estimate", "log_scale_problem", "natural_range", "bound_value"]

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


def _moments(arr: np.ndarray) -> Tuple[float, float]:
    # math.fsum sums exactly: the bounds do not depend on the order of the samples (Ray may reorder them)
    mean = math.fsum(arr) / arr.size
    return mean, math.sqrt(math.fsum((arr - mean) ** 2) / (arr.size - 1))


def estimate(values) -> Tuple[Optional[Estimate], Optional[str]]:
    """Moments of ``values``, or ``(None, reason)`` when the k-sigma rule cannot apply to them."""
    values = list(values) if not isinstance(values, np.ndarray) else values
    per_item = is_list_valued(values)
    unit = "item" if per_item else "sample"
    try:
        arr = pooled(values)
    except (TypeError, ValueError):
        return None, "statistic is not numeric"
    if arr.ndim != 1:
        return None, "statistic is not a number or a list of numbers per sample"
    if arr.size < 2:
        return None, f"needs at least 2 {unit}s to estimate a std (got {arr.size})"
    if np.isnan(arr).any():
        return None, f"statistic is NaN for {int(np.isnan(arr).sum())} {unit}(s)"
    if np.isinf(arr).any():
        return None, f"statistic is infinite for some {unit}s"
    mean, std = _moments(arr)
    if std == 0.0:
        return None, f"statistic is constant ({float(arr[0])!r})"
    integral = bool(np.all(arr == np.floor(arr)))
    log_mean = log_std = None
    if arr.min() > 0:
        log_mean, log_std = _moments(np.log(arr))
    est = Estimate(int(arr.size), mean, std, integral, float(arr.min()), float(arr.max()), per_item, log_mean, log_std)
    return est, None


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
