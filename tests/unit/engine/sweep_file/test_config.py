"""A sweep configuration file parsed into plain data (engine/sweep_file/config.py): W&B's keys and Data-Juicer's
aliases, every violation collected at once."""

import copy

import pytest
import yaml

from data_juicer_hpo.engine import parse_sweep_config
from data_juicer_hpo.engine.sweep_file.hyperband import Hyperband

from tests.helpers.sweep_files import minimal, problems_of

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


# ---- hyperband ---------------------------------------------------------------------------------------------


# ---- sampling: support, exact distributions, quantisation ----------------------------------------------------


# ---- grids --------------------------------------------------------------------------------------------------
