"""Sweep configuration parsing, W&B distributions (sampled through the inverse CDF) and grids, as plain data."""

import copy
import math
import random
import statistics
from collections import Counter

import pytest
import yaml

from data_juicer_hpo.errors import AutoHpoError
from data_juicer_hpo.sweep import KINDS, grid_points, parse_sweep_config
from data_juicer_hpo.sweep._special import beta_cdf, beta_ppf
from data_juicer_hpo.sweep.hyperband import Hyperband
from data_juicer_hpo.sweep.parameters import parse_parameter

SEED_YAML = """
project_name: 'demo-process-hpo'
dataset_path: 'demo-redpajama-c4-refined.jsonl'
np: 4
export_path: './outputs/demo-hpo-process/demo-hpo-processed.jsonl'
process:
  - character_repetition_filter:
      rep_len: 10
      min_ratio: 0.0
      max_ratio: 0.5
  - text_length_filter:
      min_len: 10
      max_len: 10000
sweep_name: hpo_for_data-juicer
sweep_max_count: 1000
method: bayes
metric:
  name: quality_score
  goal: maximize
parameters:
  character_repetition_filter.rep_len:
      values: [2, 4, 8, 16]
  character_repetition_filter.max_ratio:
    values: [0.3, 0.5, 0.7]
  text_length_filter.min_len:
      distribution: q_log_uniform_values
      min: 256
      max: 8192
early_terminate:
  type: hyperband
  max_iter: 27
  s: 2
"""
RECIPE_KEYS = frozenset({"project_name", "dataset_path", "np", "export_path", "process"})
N = 4000  # draws per statistical check; the bounds below are >= 4 standard errors wide


def problems_of(raw, **kwargs):
    with pytest.raises(AutoHpoError) as info:
        parse_sweep_config(raw, **kwargs)
    return info.value.problems


def spec(raw, name="p"):
    parsed, problems = parse_parameter(name, raw, f"hpo_config.parameters.{name}")
    assert problems == []
    return parsed


def draws(param, n=N, seed=0):
    rng = random.Random(seed)
    return [param.from_unit(rng.random()) for _ in range(n)]


def minimal(**overrides):
    raw = {"method": "random", "parameters": {"x": {"min": 0.0, "max": 1.0}}}
    raw.update(overrides)
    return raw


# ---- the configuration -------------------------------------------------------------------------------------


def test_seed_config_loads_with_aliases_applied():
    raw = yaml.safe_load(SEED_YAML)
    before = copy.deepcopy(raw)
    sweep = parse_sweep_config(raw, extra_keys=RECIPE_KEYS)
    assert (sweep.method, sweep.metric_name, sweep.goal, sweep.target) == ("bayes", "quality_score", "maximize", None)
    assert (sweep.run_cap, sweep.name) == (1000, "hpo_for_data-juicer")
    assert list(sweep.parameters) == [
        "character_repetition_filter.rep_len",
        "character_repetition_filter.max_ratio",
        "text_length_filter.min_len",
    ]
    kinds = [p.distribution for p in sweep.parameters.values()]
    assert kinds == ["categorical", "categorical", "q_log_uniform_values"]
    assert sweep.hyperband == Hyperband(max_iter=27, s=2, eta=3, strict=True)
    assert sweep.hyperband.rungs() == [3, 9, 27]
    # raw is what wandb.sweep accepts: W&B's key names, no recipe keys, and a copy
    assert sweep.raw["run_cap"] == 1000 and sweep.raw["name"] == "hpo_for_data-juicer"
    assert not {"sweep_max_count", "sweep_name", *RECIPE_KEYS} & set(sweep.raw)
    sweep.raw["parameters"]["character_repetition_filter.rep_len"]["values"].append(32)
    assert raw == before


def test_seed_config_without_recipe_keys_names_each_of_them():
    problems = problems_of(yaml.safe_load(SEED_YAML))
    assert len(problems) == len(RECIPE_KEYS)
    assert all(any(p.startswith(f"hpo_config.{k}:") for p in problems) for k in RECIPE_KEYS)


def test_every_violation_is_reported_at_once():
    raw = {
        "method": "random",
        "parameters": {
            "text_length_filter.min_len": {"min": 5, "max": 1},
            "b": {"distribution": "normal", "sigma": 0},
            "c": {"values": ["x", "y"], "probabilities": [0.5, 0.6]},
        },
    }
    problems = problems_of(raw)
    assert problems == [
        "hpo_config.parameters.text_length_filter.min_len.max: must be > min (got min=5, max=1)",
        "hpo_config.parameters.b.sigma: must be > 0 (got 0)",
        "hpo_config.parameters.c.probabilities: must sum to 1 (got sum=1.1)",
    ]


def test_problems_across_sections_are_collected_together():
    raw = {
        "method": "grd",
        "metric": {"goal": "max"},
        "parameters": {"a": [1, 2]},
        "early_terminate": {"type": "hyperband", "max_iter": 27},
        "run_cap": 0,
        "nme": "x",
    }
    problems = problems_of(raw, source="sweep.yaml")
    keys = [p.split(":")[0] for p in problems]
    assert keys == [
        "sweep.yaml.nme",
        "sweep.yaml.method",
        "sweep.yaml.parameters.a",
        "sweep.yaml.metric.goal",
        "sweep.yaml.metric.name",
        "sweep.yaml.early_terminate",
        "sweep.yaml.run_cap",
    ]
    assert "did you mean 'name'?" in problems[0]


def test_goal_defaults_to_minimize_and_metric_is_optional_for_random():
    assert parse_sweep_config(minimal(metric={"name": "loss"})).goal == "minimize"
    sweep = parse_sweep_config(minimal())
    assert (sweep.metric_name, sweep.goal) == (None, "minimize")


def test_metric_target_and_w_and_b_only_keys_are_kept():
    raw = minimal(metric={"name": "m", "goal": "maximize", "target": 0.9, "impute": "worst"}, program="t.py")
    raw.update(project="p", entity="e", description="d", command=["${program}"], controller={"type": "local"})
    sweep = parse_sweep_config(raw)
    assert sweep.target == 0.9
    assert sweep.raw["program"] == "t.py" and sweep.raw["command"] == ["${program}"]


@pytest.mark.parametrize(
    "raw, what",
    [
        (minimal(method="bayes"), "bayes search"),
        (minimal(early_terminate={"type": "hyperband", "min_iter": 1}), "hyperband"),
    ],
)
def test_bayes_and_hyperband_need_a_metric(raw, what):
    assert problems_of(raw) == [f"hpo_config.metric: {what} needs a metric to optimise, such as {{name: score}}"]


def test_alias_given_with_its_w_and_b_key():
    assert parse_sweep_config(minimal(run_cap=5, sweep_max_count=5)).run_cap == 5
    (problem,) = problems_of(minimal(sweep_name="a", name="b"))
    assert problem.startswith("hpo_config.sweep_name: is Data-Juicer's alias of name")
    assert "sweep_name='a', name='b'" in problem


@pytest.mark.parametrize("key", ["metrics", "scheduler"])
def test_custom_method_keys_are_refused_with_a_reason(key):
    (problem,) = problems_of(minimal(**{key: {}}))
    assert problem.startswith(f"hpo_config.{key}: ") and "method: custom" in problem


def test_parameters_are_required_and_non_empty():
    assert problems_of({"method": "grid"}) == [
        "hpo_config.parameters: must be a non-empty mapping of parameter name to its distribution (got None)"
    ]
    assert len(problems_of({"method": "grid", "parameters": {}})) == 1


def test_grid_needs_discrete_parameters():
    raw = {
        "method": "grid",
        "parameters": {
            "ok1": {"values": [1, 2]},
            "ok2": {"min": 1, "max": 3},
            "ok3": {"distribution": "q_uniform", "min": 0, "max": 1, "q": 0.5},
            "ok4": {"value": 7},
            "bad1": {"min": 0.0, "max": 1.0},
            "bad2": {"values": [1, 2], "probabilities": [0.5, 0.5]},
        },
    }
    problems = problems_of(raw)
    assert len(problems) == 2
    assert problems[0].startswith("hpo_config.parameters.bad1: a grid needs discrete parameters")
    assert problems[1].startswith("hpo_config.parameters.bad2.probabilities:")


def test_nested_parameters_are_flattened_to_dotted_names():
    raw = minimal(parameters={"f": {"parameters": {"a": {"values": [1]}, "g": {"parameters": {"b": {"value": 2}}}}}})
    assert list(parse_sweep_config(raw).parameters) == ["f.a", "f.g.b"]
    raw = minimal(parameters={"f.a": {"value": 1}, "f": {"parameters": {"a": {"value": 2}}}})
    (problem,) = problems_of(raw)
    assert problem.startswith("hpo_config.parameters.f.parameters.a: duplicates parameter 'f.a'")


@pytest.mark.parametrize(
    "raw, kind",
    [
        ({"value": 3}, "constant"),
        ({"values": [1, "a"]}, "categorical"),
        ({"values": [1, 2], "probabilities": [0.2, 0.8]}, "categorical_w_probabilities"),
        ({"min": 1, "max": 5}, "int_uniform"),
        ({"min": 1, "max": 5.0}, "uniform"),
        ({"min": 0.5, "max": 5}, "uniform"),
    ],
)
def test_distribution_is_inferred_as_w_and_b_does(raw, kind):
    assert spec(raw).distribution == kind


@pytest.mark.parametrize(
    "raw, expected",
    [
        ({"min": 1}, "hpo_config.parameters.p: cannot tell the distribution"),
        ({"distribution": "log_uniformm", "min": 1, "max": 2}, "p.distribution: unknown distribution 'log_uniformm'"),
        ({"values": []}, "p.values: must be a non-empty list"),
        ({"value": 1, "min": 0}, "p.min: not a key of a constant parameter"),
        ({"distribution": "int_uniform", "min": 0.5, "max": 3}, "p.min: must be an integer for int_uniform"),
        ({"distribution": "uniform", "min": 0}, "p.max: required by distribution uniform"),
        ({"distribution": "uniform", "min": "1e-3", "max": 1.0}, "write 1.0e-3"),
        ({"distribution": "uniform", "min": True, "max": 1.0}, "p.min: must be a number"),
        ({"distribution": "log_uniform_values", "min": 0, "max": 1}, "p.min: must be > 0 for log_uniform_values"),
        ({"distribution": "log_uniform", "min": 1, "max": 1000}, "did you mean log_uniform_values?"),
        ({"distribution": "q_uniform", "min": 0, "max": 1, "q": 0}, "p.q: must be > 0 (got 0)"),
        ({"distribution": "beta", "a": -1}, "p.a: must be > 0 (got -1)"),
        ({"distribution": "q_normal", "mu": 0, "sigma": -2}, "p.sigma: must be > 0 (got -2)"),
        ({"values": [1], "probabilities": [-0.5, 1.5]}, "p.probabilities: must all be >= 0"),
        ({"values": [1, 2], "probabilities": [1.0]}, "p.probabilities: must have one entry per value"),
        ("values: [1, 2]", "p: must be a mapping"),
    ],
)
def test_parameter_problems_name_the_key_and_the_rule(raw, expected):
    parsed, problems = parse_parameter("p", raw, "hpo_config.parameters.p")
    assert parsed is None
    assert any(expected in p for p in problems), problems


def test_parameter_names_follow_w_and_b_pattern():
    (problem,) = problems_of(minimal(parameters={"1bad name": {"value": 1}}))
    assert problem.startswith("hpo_config.parameters.1bad name: a parameter name must match")


# ---- hyperband ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, max_resource, rungs",
    [
        ({"max_iter": 27, "s": 2}, None, [3, 9, 27]),
        ({"max_iter": 27, "s": 2, "eta": 3}, 81, [3, 9, 27]),  # max_iter wins, as in W&B
        ({"max_iter": 30, "s": 2}, None, [3, 10, 30]),
        ({"max_iter": 8, "s": 5, "eta": 2}, None, [1, 2, 4, 8]),  # bands below 1 are dropped
        ({"min_iter": 1}, 27, [1, 3, 9, 27]),
        ({"min_iter": 2, "eta": 2}, 20, [2, 4, 8, 16, 20]),
        ({"min_iter": 3, "max_iter": 27}, None, [3, 9, 27]),
    ],
)
def test_hyperband_rungs(raw, max_resource, rungs):
    sweep = parse_sweep_config(minimal(metric={"name": "m"}, early_terminate={"type": "hyperband", **raw}))
    assert sweep.hyperband.rungs(max_resource) == rungs


def test_hyperband_min_iter_needs_a_max_resource_for_rungs():
    with pytest.raises(ValueError):
        Hyperband(min_iter=1).rungs()


def test_hyperband_problems():
    et = {"type": "hyperbnd", "min_iter": 0, "eta": 1, "strict": "yes", "extra": 1}
    problems = problems_of(minimal(metric={"name": "m"}, early_terminate=et))
    assert [p.split(":")[0] for p in problems] == [
        f"hpo_config.early_terminate.{k}" for k in ("extra", "type", "min_iter", "eta", "strict")
    ]
    no_band = {"type": "hyperband", "max_iter": 2, "s": 1}
    (problem,) = problems_of(minimal(metric={"name": "m"}, early_terminate=no_band))
    assert problem.startswith("hpo_config.early_terminate.max_iter: must be >= eta")


# ---- sampling: support, exact distributions, quantisation ----------------------------------------------------

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


def test_beta_cdf_matches_closed_forms_and_ppf_inverts_it():
    for x in (0.01, 0.2, 0.5, 0.77, 0.99):
        assert beta_cdf(x, 1.0, 1.0) == pytest.approx(x, abs=1e-12)
        assert beta_cdf(x, 1.0, 3.5) == pytest.approx(1 - (1 - x) ** 3.5, abs=1e-12)
        assert beta_cdf(x, 2.0, 1.0) == pytest.approx(x**2, abs=1e-12)
        for a, b in ((0.3, 0.7), (2.0, 5.0), (30.0, 4.0)):
            assert beta_cdf(beta_ppf(x, a, b), a, b) == pytest.approx(x, abs=1e-10)


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


# ---- grids --------------------------------------------------------------------------------------------------


def test_grid_points_cover_the_product_in_the_written_order():
    raw = {
        "method": "grid",
        "parameters": {
            "c": {"values": ["x", "y"]},
            "k": {"value": 7},
            "i": {"min": 1, "max": 3},
            "q": {"distribution": "q_uniform", "min": 0, "max": 10, "q": 5},
        },
    }
    points = grid_points(parse_sweep_config(raw))
    assert len(points) == 2 * 3 * 3
    assert points[0] == {"c": "x", "k": 7, "i": 1, "q": 0}
    assert points[1] == {"c": "x", "k": 7, "i": 1, "q": 5}
    assert points[-1] == {"c": "y", "k": 7, "i": 3, "q": 10}
    assert len({tuple(p.values()) for p in points}) == len(points)


def test_q_uniform_grid_is_the_support_of_its_random_draws():
    # 1/2 and 9/2 round (half to even) to 0 and 4 only at the bounds themselves, a zero-probability event
    param = spec({"distribution": "q_uniform", "min": 1, "max": 9, "q": 2})
    assert param.grid_values() == [2, 4, 6, 8]
    assert set(draws(param, n=2000)) == set(param.grid_values())
