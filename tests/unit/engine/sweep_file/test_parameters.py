"""The parameters section of a sweep file (engine/sweep_file/parameters.py): distributions inferred as W&B does, nested
names flattened, every problem naming its key and rule."""

import pytest

from data_juicer_hpo.engine import parse_sweep_config
from data_juicer_hpo.engine.sweep_file.parameters import parse_parameter

from tests.helpers.sweep_files import minimal, problems_of, spec


def test_parameters_are_required_and_non_empty():
    assert problems_of({"method": "grid"}) == [
        "hpo_config.parameters: must be a non-empty mapping of parameter name to its distribution (got None)"
    ]
    assert len(problems_of({"method": "grid", "parameters": {}})) == 1


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
