"""Inverse CDFs that the standard library lacks: the beta distribution.

W&B samples ``beta``/``q_beta`` with ``scipy.stats.beta.ppf``; SciPy is not one of our dependencies, so the
regularised incomplete beta function is evaluated here by its continued fraction and inverted by a safeguarded
Newton iteration (Newton steps that leave the bracket fall back to bisection, so it always converges).
"""

import math

__all__ = ["beta_cdf", "beta_ppf"]

_TINY = 1e-300
_EPS = 1e-15
_MAX_TERMS = 500


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _continued_fraction(x: float, a: float, b: float) -> float:
    """Value of ``1 + d1/(1 + d2/(1 + ...))`` for the incomplete beta function, by the modified Lentz method."""
    f = c = 1.0
    d = 0.0
    for j in range(1, 2 * _MAX_TERMS):
        m = j // 2
        if j % 2:  # odd terms: d_{2m+1}
            coeff = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        else:  # even terms: d_{2m}
            coeff = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        d = 1.0 + coeff * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + coeff / c
        c = c if abs(c) > _TINY else _TINY
        delta = c * d
        f *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return f


def beta_cdf(x: float, a: float, b: float) -> float:
    """Regularised incomplete beta function ``I_x(a, b)``, the CDF of Beta(a, b) at ``x``."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    # The fraction converges fast only left of the mean-ish point; use the symmetry I_x(a,b) = 1 - I_{1-x}(b,a).
    if x > (a + 1.0) / (a + b + 2.0):
        return 1.0 - beta_cdf(1.0 - x, b, a)
    log_front = a * math.log(x) + b * math.log1p(-x) - _log_beta(a, b)
    return math.exp(log_front) / (a * _continued_fraction(x, a, b))


def _beta_pdf(x: float, a: float, b: float) -> float:
    if x <= 0.0 or x >= 1.0:
        return 0.0
    return math.exp((a - 1.0) * math.log(x) + (b - 1.0) * math.log1p(-x) - _log_beta(a, b))


def beta_ppf(u: float, a: float, b: float) -> float:
    """Inverse CDF of Beta(a, b): the ``x`` in [0, 1] with ``I_x(a, b) = u``."""
    if u <= 0.0:
        return 0.0
    if u >= 1.0:
        return 1.0
    lo, hi = 0.0, 1.0
    x = a / (a + b)  # the mean: a good start, and inside the bracket
    for _ in range(200):
        err = beta_cdf(x, a, b) - u
        if err > 0:
            hi = x
        else:
            lo = x
        pdf = _beta_pdf(x, a, b)
        step = err / pdf if pdf > 0 else math.inf
        candidate = x - step
        if not lo < candidate < hi:
            candidate = 0.5 * (lo + hi)
        if abs(candidate - x) < 1e-14 or hi - lo < 1e-14:
            return candidate
        x = candidate
    return x
