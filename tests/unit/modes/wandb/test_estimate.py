"""The standard error of quality_score's difference from keeping everything, against a brute-force bootstrap."""

import numpy as np
import pytest

from data_juicer_hpo.modes.wandb.estimate import paired_mean_difference


def _bootstrap_se(values, first, second, resamples=4000, seed=3):
    """Resample the documents with replacement; a document drawn k times counts k times in both means."""
    rng = np.random.default_rng(seed)
    a = np.bincount(first, minlength=values.size)
    b = np.bincount(second, minlength=values.size)
    diffs = []
    for _ in range(resamples):
        w = np.bincount(rng.integers(0, values.size, values.size), minlength=values.size)
        diffs.append((w * a) @ values / (w @ a) - (w * b) @ values / (w @ b))
    return float(np.std(diffs))


@pytest.mark.parametrize("repeated", [False, True])
def test_difference_and_standard_error_match_a_bootstrap_over_the_documents(repeated):
    rng = np.random.default_rng(11)
    values = rng.beta(2, 5, 3000)
    kept = np.flatnonzero(values > np.quantile(values, 0.4) - rng.normal(0, 0.1, values.size))
    everything = np.arange(values.size)
    if repeated:  # a mixture's view takes some rows twice
        kept = np.concatenate([kept, kept[::3]])
        everything = np.concatenate([everything, everything[::5]])
    difference, se = paired_mean_difference(values, kept, everything)
    assert difference == pytest.approx(values[kept].mean() - values[everything].mean(), rel=1e-12)
    assert se == pytest.approx(_bootstrap_se(values, kept, everything), rel=0.06)


def test_keeping_everything_has_no_difference_and_no_noise():
    values = np.random.default_rng(0).random(500)
    difference, se = paired_mean_difference(values, np.arange(500), np.arange(500))
    assert difference == pytest.approx(0.0, abs=1e-15) and se == pytest.approx(0.0, abs=1e-15)
