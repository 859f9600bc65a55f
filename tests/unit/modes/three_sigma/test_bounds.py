"""The k-sigma bounds (modes/three_sigma/bounds.py): sample statistics, casts and clamps, log scale."""

import math

import numpy as np
import pytest

from data_juicer_hpo.modes.three_sigma.bounds import bound_value, estimate, natural_range
from data_juicer_hpo.ops.thresholds import kept_mask


def test_estimate_uses_sample_std():
    values = [1.0, 2.0, 3.0, 4.0, 10.0]
    est, reason = estimate(values)
    assert reason is None
    assert est.mean == pytest.approx(np.mean(values))
    assert est.std == pytest.approx(np.std(values, ddof=1))
    assert est.integral


@pytest.mark.parametrize(
    "values, fragment",
    [
        ([1.0], "at least 2"),
        ([], "at least 2"),
        ([3, 3, 3], "constant"),
        ([1.0, float("nan")], "NaN"),
        (["a", "b"], "numeric"),
    ],
)
def test_estimate_refuses(values, fragment):
    est, reason = estimate(values)
    assert est is None and fragment in reason


def test_integer_statistic_int_args_keep_exactly_the_inliers():
    rng = np.random.default_rng(0)
    for _ in range(200):
        values = rng.integers(0, 500, size=rng.integers(3, 60)).astype(float)
        est, _ = estimate(values)
        if est is None:
            continue
        k = float(rng.uniform(0.3, 3))
        lo = bound_value(est, k, "min", int, (-math.inf, math.inf))
        hi = bound_value(est, k, "max", int, (-math.inf, math.inf))
        assert isinstance(lo, int) and isinstance(hi, int)
        expected = (values >= est.mean - k * est.std) & (values <= est.mean + k * est.std)
        np.testing.assert_array_equal(kept_mask(values, lo, hi), expected)


def test_fractional_statistic_int_args_round_outward():
    values = np.array([0.5, 1.25, 2.75, 3.5, 9.9])
    est, _ = estimate(values)
    k = 1.0
    lo = bound_value(est, k, "min", int, (0.0, math.inf))
    hi = bound_value(est, k, "max", int, (0.0, math.inf))
    assert lo == math.floor(max(est.mean - k * est.std, 0.0))
    assert hi == math.ceil(est.mean + k * est.std)
    inliers = (values >= est.mean - k * est.std) & (values <= est.mean + k * est.std)
    assert kept_mask(values, lo, hi)[inliers].all()  # no inlier dropped


def test_float_args_are_exact_python_floats():
    values = [0.1, 0.2, 0.3, 0.9]
    est, _ = estimate(values)
    hi = bound_value(est, 2.0, "max", float, (-math.inf, math.inf))
    assert type(hi) is float
    assert hi == pytest.approx(np.mean(values) + 2 * np.std(values, ddof=1))


def test_clamps_to_the_natural_range():
    lengths = [1.0, 1.0, 2.0, 500.0]
    est, _ = estimate(lengths)
    assert natural_range("text_len", est) == (0.0, math.inf)
    assert bound_value(est, 3, "min", int, natural_range("text_len", est)) == 0
    ratios = [0.0, 0.01, 0.02, 0.99]
    est, _ = estimate(ratios)
    low, high = natural_range("char_rep_ratio", est)
    assert (low, high) == (0.0, 1.0)
    assert bound_value(est, 3, "max", float, (low, high)) == 1.0
    assert bound_value(est, 3, "min", float, (low, high)) == 0.0


def test_unknown_statistics_are_not_clamped_when_data_goes_negative():
    est, _ = estimate([-5.0, 0.0, 5.0])
    assert natural_range("some_score", est) == (-math.inf, math.inf)


def test_list_valued_statistics_pool_every_item_as_the_analyzer_does():
    import pandas as pd

    values = [[10, 20], [], [30], None, [40, 50, 60]]
    est, reason = estimate(values)
    assert reason is None and est.per_item and est.n == 6
    exploded = pd.Series(values, dtype=object).explode().dropna().astype(float)  # Data-Juicer's OverallAnalysis
    assert est.mean == pytest.approx(exploded.mean()) and est.std == pytest.approx(exploded.std())
    est, reason = estimate([[], [5], []])
    assert est is None and "at least 2 items" in reason


def test_log_scale_bounds_match_numpy_and_refuse_non_positive_values():
    from data_juicer_hpo.modes.three_sigma.bounds import log_scale_problem

    rng = np.random.default_rng(1)
    values = np.round(rng.lognormal(5, 1, size=500))
    est, _ = estimate(values)
    logs = np.log(values)
    lo, hi = np.exp(logs.mean() - 2 * logs.std(ddof=1)), np.exp(logs.mean() + 2 * logs.std(ddof=1))
    assert bound_value(est, 2, "min", int, (0, math.inf), "log") == math.ceil(lo)
    assert bound_value(est, 2, "max", int, (0, math.inf), "log") == math.floor(hi)
    assert bound_value(est, 2, "max", float, (0, math.inf), "log") == pytest.approx(hi, rel=1e-12)
    est, _ = estimate([0.0, 1.0, 5.0])
    assert "values <= 0" in log_scale_problem(est)
    with pytest.raises(ValueError):
        bound_value(est, 2, "min", float, (0, math.inf), "log")
