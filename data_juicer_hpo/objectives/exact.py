"""Exact sums of float64 values: the same result whatever their order and however they are split into parts.

A mean over the documents a trial keeps is summed in one array on the default executor and block by block on a Ray
cluster; floating-point addition is not associative, so the two would differ in the last bits. Here every value is
an integer mantissa times a power of two (``frexp``): the mantissas of each exponent are added as integers (exact),
the parts of several blocks merge by adding integers, and only the final mean is rounded -- once, correctly.
"""

from fractions import Fraction
from typing import Dict

import numpy as np

__all__ = ["ExactSum", "exact_mean"]

_MANTISSA_BITS = 53
_LOW_BITS = 26  # a mantissa is split in two halves (see ExactSum.of)
_AT_ONCE = 2**25  # values summed per float64 bincount: their sums stay exact integers


class ExactSum:
    """The exact sum of some float64 values: binary exponent -> sum of the integer mantissas with that exponent."""

    __slots__ = ("parts", "count")

    def __init__(self, parts: Dict[int, int] = None, count: int = 0):
        self.parts = dict(parts or {})
        self.count = int(count)

    @classmethod
    def of(cls, values) -> "ExactSum":
        """The exact sum of ``values`` (finite float64; a ValueError otherwise)."""
        v = np.asarray(values, dtype=np.float64).reshape(-1)
        if v.size == 0:
            return cls()
        if not np.isfinite(v).all():
            raise ValueError("an exact sum needs finite values")
        fraction, exponent = np.frexp(v)  # v = fraction * 2**exponent, 0.5 <= |fraction| < 1 (0 for 0)
        mantissa = np.ldexp(fraction, _MANTISSA_BITS).astype(np.int64)  # exact: |mantissa| < 2**53
        lowest = int(exponent.min())
        slot = (exponent - lowest).astype(np.intp)
        parts: Dict[int, int] = {}
        # Each half of a mantissa is below 2**27 in magnitude, so a float64 sum of at most 2**25 of them is an
        # integer below 2**52: exact. bincount sums them per exponent in one pass (no sort).
        for a in range(0, v.size, _AT_ONCE):
            chunk, where = mantissa[a : a + _AT_ONCE], slot[a : a + _AT_ONCE]
            high = np.bincount(where, weights=(chunk >> _LOW_BITS).astype(np.float64))
            low = np.bincount(where, weights=(chunk & ((1 << _LOW_BITS) - 1)).astype(np.float64))
            for i in np.flatnonzero((high != 0) | (low != 0)).tolist():
                e = i + lowest
                parts[e] = parts.get(e, 0) + (int(high[i]) << _LOW_BITS) + int(low[i])
        return cls(parts, v.size)

    def __add__(self, other: "ExactSum") -> "ExactSum":
        merged = dict(self.parts)
        for e, s in other.parts.items():
            merged[e] = merged.get(e, 0) + s
        return ExactSum(merged, self.count + other.count)

    def fraction(self) -> Fraction:
        """The sum, exactly."""
        if not self.parts:
            return Fraction(0)
        lowest = min(self.parts)
        total = sum(s << (e - lowest) for e, s in self.parts.items())
        shift = lowest - _MANTISSA_BITS
        return Fraction(total << shift) if shift >= 0 else Fraction(total, 1 << -shift)

    def mean(self) -> float:
        """The mean of the values summed, correctly rounded (0.0 when there are none)."""
        return float(self.fraction() / self.count) if self.count else 0.0


def exact_mean(values) -> float:
    """The mean of ``values``, correctly rounded: equal however the values are ordered or split (see the module)."""
    return ExactSum.of(values).mean()
