"""Data mixtures (data/mixture.py): the pure sampling semantics against Data-Juicer's own functions, and the sweep
names that address a mixture. Populations that take rows several times: tests/unit/objectives/test_views.py."""

import json

import datasets
import pytest
from data_juicer.core.data.dataset_builder import get_sample_numbers
from data_juicer.utils.sample import random_sample

from data_juicer_hpo.data.mixture import (
    mixed_dataset_block,
    mixture_rows,
    resolve_mixture,
    sample_numbers,
    source_rows,
    trial_mixture,
)
from data_juicer_hpo.engine import parse_sweep_config

WEIGHT_SETS = [
    ([1.0, 0.5, 2.0], 30),
    ([0.2, 0.3, 0.5], 1000),  # upsamples every source
    ([1.0, 0.0, 1.0], 7),  # a zero weight: the source is skipped
    ([3.0, 1.0], 1),  # the cap leaves nothing for the second source
    ([0.1, 0.1, 5.0], 45),  # each source's count equals its size: Data-Juicer returns it unshuffled
    ([1e-9, 1.0, 1.0], 11),
    ([7.0, 2.5, 0.3], 44),
]
SIZES = [10, 15, 20]


@pytest.mark.parametrize("weights,max_sample_num", WEIGHT_SETS)
def test_sample_numbers_are_data_juicers(weights, max_sample_num):
    assert sample_numbers(weights, max_sample_num) == get_sample_numbers(weights, max_sample_num)


def test_all_zero_weights_are_refused():
    with pytest.raises(ValueError, match="must not all be 0"):
        sample_numbers([0.0, 0.0], 10)


@pytest.mark.parametrize("n_rows", [1, 13])
@pytest.mark.parametrize("k", [1, 5, 12, 13, 14, 26, 27, 40])
def test_source_rows_are_random_samples(n_rows, k):
    source = datasets.Dataset.from_dict({"i": list(range(n_rows))})
    assert source_rows(n_rows, k).tolist() == random_sample(source, 1.0, k)["i"]


def _dj_mixture(sizes, weights, max_sample_num):
    """The mixture as Data-Juicer's DatasetBuilder.load_dataset builds it, with its own functions."""
    parts, offset = [], 0
    for size, weight, n in zip(sizes, weights, get_sample_numbers(weights, max_sample_num)):
        if n > 0:
            source = datasets.Dataset.from_dict({"i": list(range(offset, offset + size))})
            parts.append(random_sample(source, weight, n))
        offset += size
    return datasets.concatenate_datasets(parts)["i"]


@pytest.mark.parametrize("weights,max_sample_num", WEIGHT_SETS)
def test_mixture_rows_are_the_builders(weights, max_sample_num):
    sizes = SIZES[: len(weights)]
    rows = mixture_rows(sizes, weights, max_sample_num)
    assert rows.tolist() == _dj_mixture(sizes, weights, max_sample_num)
    assert len(rows) == sum(get_sample_numbers(weights, max_sample_num))


def _sweep(parameters):
    return parse_sweep_config(
        {"method": "random", "run_cap": 2, "parameters": parameters}, source="hpo_config", extra_keys=frozenset()
    ).parameters


BLOCK = {"configs": [{"type": "local", "path": "a.jsonl", "weight": 1.0}, {"type": "local", "path": "b.jsonl"}]}
MIXED = {**BLOCK, "max_sample_num": 100}


def _resolve(parameters, dataset=MIXED, **cfg):
    names = list(parameters)
    return resolve_mixture(names, {"dataset": dataset, **cfg}, _sweep(parameters))


def test_mixture_names_resolve():
    targets, problems = _resolve(
        {"dataset.configs[1].weight": {"min": 0.0, "max": 2.0}, "dataset.max_sample_num": {"min": 10, "max": 50}}
    )
    assert problems == []
    assert targets["dataset.configs[1].weight"].config == 1
    assert targets["dataset.max_sample_num"].config is None


@pytest.mark.parametrize(
    "parameters,dataset,cfg,fragment",
    [
        ({"dataset.configs[0].weight": {"value": 1.0}}, None, {"dataset_path": "d.jsonl"}, "no dataset.configs"),
        ({"dataset.configs[0].weight": {"value": 1.0}}, MIXED, {"dataset_path": "d.jsonl"}, "sets dataset_path"),
        ({"dataset.configs[0].weight": {"value": 1.0}}, BLOCK, {}, "without dataset.max_sample_num"),
        ({"dataset.configs[2].weight": {"value": 1.0}}, MIXED, {}, "has 2 entries; [2] is out of range"),
        ({"dataset.configs[0].weight": {"min": -1.0, "max": 1.0}}, MIXED, {}, "can give -1.0"),
        ({"dataset.configs[0].weight": {"distribution": "normal"}}, MIXED, {}, "a weight must be a number >= 0"),
        ({"dataset.configs[0].weight": {"values": [1, "a"]}}, MIXED, {}, "can give 'a'"),
        ({"dataset.max_sample_num": {"min": 1.0, "max": 9.0}}, MIXED, {}, "needs a positive integer"),
        ({"dataset.max_sample_num": {"values": [0, 10]}}, MIXED, {}, "can give 0"),
        ({"dataset.configs[0].weight": {"value": 1.0}}, MIXED, {"executor_type": "ray"}, "executor_type default"),
        ({"dataset.configs[0].path": {"value": "x"}}, MIXED, {}, "addresses nothing"),
    ],
)
def test_mixture_problems_name_the_parameter(parameters, dataset, cfg, fragment):
    targets, problems = _resolve(parameters, dataset, **cfg)
    assert targets == {} and len(problems) == 1, problems
    assert problems[0].startswith(f"hpo_config.parameters.{next(iter(parameters))}: ") and fragment in problems[0]


def test_swept_max_sample_num_lets_weights_count_and_fixed_weights_are_checked():
    block = {"configs": [{"path": "a", "weight": -2}, {"path": "b"}]}
    targets, problems = _resolve(
        {"dataset.configs[1].weight": {"value": 1.0}, "dataset.max_sample_num": {"value": 10}}, block
    )
    assert set(targets) == {"dataset.configs[1].weight", "dataset.max_sample_num"}
    assert problems == ["dataset.configs[0].weight: must be a number >= 0 (got -2)"]


def test_base_weights_that_are_all_zero_are_refused():
    block = {"configs": [{"path": "a", "weight": 0.0}, {"path": "b", "weight": 0}], "max_sample_num": 10}
    _, problems = _resolve({"dataset.configs[1].weight": {"value": 1.0}}, block)
    assert problems == ["dataset.configs: the recipe's weights are all 0, so Data-Juicer cannot sample (got [0.0, 0])"]


def test_trial_mixture_and_block_leave_the_recipe_alone():
    targets, _ = _resolve({"dataset.configs[1].weight": {"value": 1.0}, "dataset.max_sample_num": {"value": 10}})
    before = json.dumps(MIXED)
    params = {"dataset.configs[1].weight": 0.25, "dataset.max_sample_num": 40}
    assert trial_mixture(MIXED, targets, params) == ([1.0, 0.25], 40)
    assert trial_mixture(MIXED, targets, {}) == ([1.0, 1.0], 100)  # Data-Juicer's default weight is 1.0
    block = mixed_dataset_block(MIXED, targets, params)
    assert block["configs"][1]["weight"] == 0.25 and block["max_sample_num"] == 40
    assert json.dumps(MIXED) == before


# ---- populations that take rows several times ---------------------------------------------------------------
