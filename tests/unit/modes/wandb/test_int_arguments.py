"""Parameters on integer arguments are sampled as integers (or rejected in one line); others are left alone."""

import optuna

from data_juicer_hpo.engine import LocalSweep, parse_sweep_config
from data_juicer_hpo.engine.space import native_distribution
from data_juicer_hpo.modes.wandb.int_arguments import fit_to_arguments
from data_juicer_hpo.ops.addressing import Target


class LengthFilter:
    def __init__(self, min_len: int = 10, max_len: int = 100, max_ratio: float = 0.5, *args, **kwargs):
        pass


PROCESS = [{"length_filter": {"min_len": 10, "max_len": 100}}]
OPS = {"length_filter": LengthFilter}


def _fit(parameters):
    sweep = parse_sweep_config({"method": "random", "run_cap": 50, "parameters": parameters})
    targets = {name: Target(name, 0, name.split(".")[1]) for name in parameters}
    return fit_to_arguments(sweep, targets, PROCESS, OPS)


def test_float_laws_on_int_arguments_become_integer_laws(tmp_path):
    sweep, problems, notes = _fit(
        {
            "length_filter.max_len": {"distribution": "uniform", "min": 150.0, "max": 2000.0},
            "length_filter.min_len": {"distribution": "log_uniform_values", "min": 1.0, "max": 500.0},
            "length_filter.max_ratio": {"distribution": "uniform", "min": 0.1, "max": 0.9},
        }
    )
    assert problems == [] and len(notes) == 2
    specs = sweep.parameters
    assert (specs["length_filter.max_len"].distribution, specs["length_filter.max_len"].q) == ("q_uniform", 1)
    assert specs["length_filter.min_len"].distribution == "q_log_uniform_values"
    assert specs["length_filter.max_ratio"].distribution == "uniform"  # a float argument keeps its floats
    assert native_distribution(specs["length_filter.max_len"]) == optuna.distributions.IntDistribution(150, 2000)
    assert native_distribution(specs["length_filter.min_len"]) == optuna.distributions.IntDistribution(1, 500, log=True)
    records = LocalSweep(sweep, f"sqlite:///{tmp_path / 's.db'}", "s", seed=0).run(lambda ctx: 0.0)
    for r in records:
        assert type(r.params["length_filter.max_len"]) is int and 150 <= r.params["length_filter.max_len"] <= 2000
        assert type(r.params["length_filter.min_len"]) is int and 1 <= r.params["length_filter.min_len"] <= 500
        assert type(r.params["length_filter.max_ratio"]) is float


def test_integral_values_are_cast_and_fractions_rejected():
    sweep, problems, _ = _fit(
        {
            "length_filter.max_len": {"values": [100.0, 200]},
            "length_filter.min_len": {"distribution": "q_uniform", "min": 0, "max": 50, "q": 5.0},
        }
    )
    assert problems == []
    assert sweep.parameters["length_filter.max_len"].values == (100, 200)
    assert all(type(v) is int for v in sweep.parameters["length_filter.max_len"].values)
    assert sweep.parameters["length_filter.min_len"].int_valued and sweep.parameters["length_filter.min_len"].q == 5
    _, problems, _ = _fit(
        {
            "length_filter.max_len": {"values": [100.5]},
            "length_filter.min_len": {"distribution": "inv_log_uniform_values", "min": 1.0, "max": 50.0},
        }
    )
    assert len(problems) == 2
    assert problems[0].startswith("hpo_config.parameters.length_filter.max_len: length_filter.max_len takes an int")
    assert "inv_log_uniform_values draws fractions" in problems[1]
