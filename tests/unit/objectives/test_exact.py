"""Exact sums and means (objectives/exact.py), against Python's fractions."""

from fractions import Fraction

import numpy as np
import pytest

from data_juicer_hpo.objectives.exact import ExactSum, exact_mean


def _values(rng, n):
    scale = 10.0 ** rng.integers(-30, 30, size=n)
    return rng.standard_normal(n) * scale


@pytest.mark.parametrize("seed", range(5))
def test_exact_sum_equals_the_fraction_sum_however_split(seed):
    rng = np.random.default_rng(seed)
    v = np.concatenate([_values(rng, 3000), [0.0, -0.0, 5e-324, -5e-324, 1.7976931348623157e308, 2.0**-1022]])
    expected = sum((Fraction(x) for x in v.tolist()), Fraction(0))
    assert ExactSum.of(v).fraction() == expected
    cuts = np.sort(rng.choice(len(v), 7, replace=False))
    parts = [ExactSum.of(part) for part in np.split(rng.permutation(v), cuts)]
    merged = sum(parts[1:], parts[0])
    assert merged.fraction() == expected and merged.count == len(v)
    assert merged.mean() == float(expected / len(v))


def test_exact_mean_of_probabilities_is_correctly_rounded_and_order_free():
    rng = np.random.default_rng(9)
    p = rng.beta(1, 8, 100_000)
    mean = exact_mean(p)
    assert mean == float(sum(map(Fraction, p.tolist())) / len(p))
    assert exact_mean(p[::-1]) == mean and abs(mean - p.mean()) < 1e-15
    assert exact_mean([]) == 0.0 and ExactSum().mean() == 0.0
    with pytest.raises(ValueError):
        ExactSum.of([1.0, float("nan")])


def test_chunked_sums_are_exact_too(monkeypatch):
    from data_juicer_hpo.objectives import exact

    monkeypatch.setattr(exact, "_AT_ONCE", 7)  # many chunks, each summed on its own
    rng = np.random.default_rng(11)
    v = _values(rng, 500)
    assert ExactSum.of(v).fraction() == sum((Fraction(x) for x in v.tolist()), Fraction(0))
