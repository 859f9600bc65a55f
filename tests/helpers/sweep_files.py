"""Sweep files as the tests of engine/sweep_file write and sample them."""

import random

import pytest

from data_juicer_hpo.engine import parse_sweep_config
from data_juicer_hpo.engine.sweep_file.parameters import parse_parameter
from data_juicer_hpo.errors import AutoHpoError

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
