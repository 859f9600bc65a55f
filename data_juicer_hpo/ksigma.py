"""The k-sigma rule as pure functions: plain numbers and numpy arrays in, plain data out.

For each threshold argument of a filter, the new bound is mean -/+ k * std of the statistic the filter sees, with
std the sample standard deviation (ddof=1, as Data-Juicer's Analyzer reports it). The bound is then clamped to the
statistic's natural range and cast to the argument's declared type so that the kept set is right:

* integer statistic, int argument: ``min -> ceil``, ``max -> floor`` keeps exactly the values in
  ``[mean - k*std, mean + k*std]``;
* fractional statistic, int argument (``average_line_length_filter``): round outward (``min -> floor``,
  ``max -> ceil``) so that no inlier is dropped;
* float argument: the exact float.
"""

import math
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

__all__ = ["Estimate", "estimate", "natural_range", "bound_value", "kept_mask"]

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


def estimate(values) -> Tuple[Optional[Estimate], Optional[str]]:
    """Moments of ``values``, or ``(None, reason)`` when the k-sigma rule cannot apply to them."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        return None, "statistic is not numeric"
    if arr.ndim != 1:
        return None, "statistic is not a scalar per sample"
    if arr.size < 2:
        return None, f"needs at least 2 samples to estimate a std (got {arr.size})"
    if np.isnan(arr).any():
        return None, f"statistic is NaN for {int(np.isnan(arr).sum())} sample(s)"
    if np.isinf(arr).any():
        return None, "statistic is infinite for some samples"
    # math.fsum sums exactly: the bounds do not depend on the order of the samples (Ray may reorder them)
    mean = math.fsum(arr) / arr.size
    std = math.sqrt(math.fsum((arr - mean) ** 2) / (arr.size - 1))
    if std == 0.0:
        return None, f"statistic is constant ({float(arr[0])!r})"
    integral = bool(np.all(arr == np.floor(arr)))
    return Estimate(int(arr.size), mean, std, integral, float(arr.min()), float(arr.max())), None


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


def bound_value(est: Estimate, k: float, side: str, arg_type: type, stat_range: Tuple[float, float]):
    """The new value of a ``min``/``max`` argument: k-sigma, clamped, and cast to ``arg_type`` (int or float)."""
    if side not in ("min", "max"):
        raise ValueError(f"side must be 'min' or 'max' (got {side!r})")
    raw = est.mean - k * est.std if side == "min" else est.mean + k * est.std
    raw = min(max(raw, stat_range[0]), stat_range[1])
    if arg_type is int:
        if est.integral:
            # exactly the integers inside [mean - k std, mean + k std]
            return int(math.ceil(raw)) if side == "min" else int(math.floor(raw))
        # fractional statistic bounded by an int argument: widen, never drop an inlier
        return int(math.floor(raw)) if side == "min" else int(math.ceil(raw))
    return float(raw)


def kept_mask(values, low=None, high=None, low_closed=True, high_closed=True) -> np.ndarray:
    """Which samples a Data-Juicer filter keeps with these bounds (``Filter.get_keep_boolean`` semantics)."""
    # an int or float array is compared as it is (no float64 copy per call; ints compare exactly, as in Python)
    numeric = isinstance(values, np.ndarray) and values.dtype.kind in "if"
    arr = values if numeric else np.asarray(values, dtype=np.float64)
    keep = np.ones(arr.shape, dtype=bool)
    if low is not None:
        keep &= arr >= low if low_closed else arr > low
    if high is not None:
        keep &= arr <= high if high_closed else arr < high
    return keep
