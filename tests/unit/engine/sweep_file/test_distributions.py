"""Every W&B distribution kind (engine/sweep_file/distributions.py), sampled through the inverse CDF: support, exact
laws checked statistically, quantisation."""

import math
import statistics
from collections import Counter

import pytest

from data_juicer_hpo.engine import KINDS

from tests.helpers.sweep_files import N, draws, spec

EXAMPLES = {
    "constant": {"value": "x"},
    "categorical": {"values": [1, "a", [2]]},
    "categorical_w_probabilities": {"values": ["a", "b", "c"], "probabilities": [0.2, 0.0, 0.8]},
    "int_uniform": {"min": -2, "max": 3},
    "uniform": {"min": -1.5, "max": 2.5},
    "q_uniform": {"min": 0.0, "max": 1.0, "q": 0.25},
    "log_uniform": {"min": -2.0, "max": 3.0},
    "q_log_uniform": {"min": 0.0, "max": 5.0, "q": 2},
    "log_uniform_values": {"min": 1e-4, "max": 1e-1},
    "q_log_uniform_values": {"min": 256, "max": 8192},
    "inv_log_uniform": {"min": 0.0, "max": 3.0},
    "inv_log_uniform_values": {"min": 0.01, "max": 10.0},
    "normal": {"mu": 3.0, "sigma": 2.0},
    "q_normal": {"mu": 0.0, "sigma": 4.0, "q": 0.5},
    "log_normal": {"mu": 1.0, "sigma": 0.5},
    "q_log_normal": {"mu": 3.0, "sigma": 0.5, "q": 5},
    "beta": {"a": 2.0, "b": 5.0},
    "q_beta": {"a": 0.5, "b": 0.5, "q": 0.1},
}


def test_every_w_and_b_kind_has_an_example():
    assert set(EXAMPLES) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_draws_lie_in_the_support(kind):
    param = spec({"distribution": kind, **EXAMPLES[kind]})
    values = draws(param, n=500) + [param.from_unit(0.0), param.from_unit(1.0)]
    assert all(param.support_contains(v) for v in values), [v for v in values if not param.support_contains(v)][:5]
    with pytest.raises(ValueError):
        param.from_unit(1.5)


def test_support_rejects_what_cannot_be_drawn():
    assert not spec({"min": 1, "max": 3}).support_contains(4)
    assert not spec({"min": 1, "max": 3}).support_contains(2.0)
    assert not spec({"values": [0, 1]}).support_contains(True)
    assert not spec({"values": ["a", "b"], "probabilities": [1.0, 0.0]}).support_contains("b")
    assert not spec({"distribution": "q_uniform", "min": 0.0, "max": 1.0, "q": 0.25}).support_contains(0.3)
    assert not spec({"distribution": "log_uniform_values", "min": 1.0, "max": 10.0}).support_contains(0.5)
    assert not spec({"distribution": "beta"}).support_contains(1.2)
    assert not spec({"distribution": "normal"}).support_contains("0")


def test_categorical_returns_the_original_objects():
    values = [{"a": 1}, [2, 3]]
    param = spec({"values": values})
    assert param.from_unit(0.1) is values[0] and param.from_unit(0.9) is values[1]


def test_uniform_mean_and_spread():
    xs = draws(spec({"min": -1.5, "max": 2.5}))
    assert all(isinstance(x, float) for x in xs)
    sd = 4 / math.sqrt(12)
    assert abs(statistics.fmean(xs) - 0.5) < 4 * sd / math.sqrt(N)
    assert abs(statistics.stdev(xs) - sd) < 0.05 * sd


@pytest.mark.parametrize(
    "raw, median",
    [
        ({"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1}, math.sqrt(1e-5)),
        ({"distribution": "log_uniform", "min": -2.0, "max": 3.0}, math.exp(0.5)),
        ({"distribution": "inv_log_uniform_values", "min": 0.01, "max": 10.0}, math.sqrt(0.1)),
        ({"distribution": "inv_log_uniform", "min": 0.0, "max": 3.0}, math.exp(-1.5)),
    ],
)
def test_log_uniform_median_is_the_geometric_mean(raw, median):
    xs = draws(spec(raw))
    below = sum(x < median for x in xs) / N
    assert abs(below - 0.5) < 4 * 0.5 / math.sqrt(N)
    # and log x is uniform: its quartiles split the log range evenly
    logs = sorted(math.log(x) for x in xs)
    lo, hi = logs[0], logs[-1]
    assert abs((logs[N // 4] - lo) / (hi - lo) - 0.25) < 0.03


def chi_square(counts, expected):
    return sum((counts.get(k, 0) - e) ** 2 / e for k, e in expected.items())


def test_int_uniform_covers_every_integer_evenly():
    xs = draws(spec({"min": -2, "max": 3}), n=6000)
    assert all(type(x) is int for x in xs)
    counts = Counter(xs)
    assert set(counts) == set(range(-2, 4))
    assert chi_square(counts, {k: 1000 for k in range(-2, 4)}) < 30  # df=5: P(chi2 > 30) ~ 1.5e-5


def test_categorical_frequencies():
    counts = Counter(map(str, draws(spec({"values": [1, "a", [2]]}), n=6000)))
    assert chi_square(counts, {"1": 2000, "a": 2000, "[2]": 2000}) < 25  # df=2


def test_categorical_with_probabilities_frequencies():
    param = spec({"values": ["a", "b", "c", "d"], "probabilities": [0.1, 0.0, 0.6, 0.3]})
    counts = Counter(draws(param, n=6000))
    assert counts["b"] == 0
    assert chi_square(counts, {"a": 600, "c": 3600, "d": 1800}) < 25  # df=2


def test_normal_mean_and_std():
    xs = draws(spec({"distribution": "normal", "mu": 3.0, "sigma": 2.0}))
    assert abs(statistics.fmean(xs) - 3.0) < 4 * 2.0 / math.sqrt(N)
    assert abs(statistics.stdev(xs) - 2.0) < 0.1
    defaults = spec({"distribution": "normal"})
    assert (defaults.mu, defaults.sigma) == (0.0, 1.0)


def test_log_normal_is_exp_of_a_normal():
    logs = [math.log(x) for x in draws(spec({"distribution": "log_normal", "mu": 1.0, "sigma": 0.5}))]
    assert abs(statistics.fmean(logs) - 1.0) < 4 * 0.5 / math.sqrt(N)
    assert abs(statistics.stdev(logs) - 0.5) < 0.03


@pytest.mark.parametrize("a, b", [(2.0, 5.0), (0.5, 0.5), (1.0, 1.0)])
def test_beta_mean_and_variance(a, b):
    xs = draws(spec({"distribution": "beta", "a": a, "b": b}), n=2000)
    mean, var = a / (a + b), a * b / ((a + b) ** 2 * (a + b + 1))
    assert abs(statistics.fmean(xs) - mean) < 4 * math.sqrt(var / 2000)
    assert abs(statistics.variance(xs) - var) < 0.15 * var


@pytest.mark.parametrize(
    "raw, q, int_valued",
    [
        ({"distribution": "q_uniform", "min": 0.0, "max": 1.0, "q": 0.25}, 0.25, False),
        ({"distribution": "q_uniform", "min": 0.5, "max": 20.5, "q": 3}, 3, True),  # W&B: int iff q is an int
        ({"distribution": "q_uniform", "min": 0, "max": 10, "q": 1.0}, 1.0, False),
        ({"distribution": "q_log_uniform_values", "min": 256, "max": 8192}, 1, True),  # the seed's parameter
        ({"distribution": "q_log_uniform_values", "min": 0.5, "max": 100.0}, 1, False),
        ({"distribution": "q_log_uniform", "min": 0.0, "max": 5.0, "q": 2}, 2, True),
        ({"distribution": "q_normal", "sigma": 4.0, "q": 0.5}, 0.5, False),
        ({"distribution": "q_normal", "sigma": 4.0}, 1, False),
        ({"distribution": "q_log_normal", "mu": 3.0, "q": 5}, 5, True),
        ({"distribution": "q_beta", "a": 0.5, "b": 0.5, "q": 0.1}, 0.1, False),
    ],
)
def test_quantised_values_are_multiples_of_q(raw, q, int_valued):
    param = spec(raw)
    xs = draws(param, n=1000)
    assert all(type(x) is (int if int_valued else float) for x in xs)
    assert all(math.isclose(x / q, round(x / q), abs_tol=1e-9) for x in xs)
    assert len(set(xs)) > 1


def test_q_log_uniform_values_of_the_seed_spans_its_range():
    xs = draws(spec({"distribution": "q_log_uniform_values", "min": 256, "max": 8192}))
    assert min(xs) >= 256 and max(xs) <= 8192
    assert abs(sum(x < math.sqrt(256 * 8192) for x in xs) / N - 0.5) < 0.04
