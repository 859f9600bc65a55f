"""The study holds the values the trials got (engine/space.py): native Optuna distributions, read back by Optuna's
own API and CLI."""

import json
import math
import subprocess

import optuna
import pytest

from data_juicer_hpo.engine import LocalSweep, parse_sweep_config
from data_juicer_hpo.engine.space import UNIT, SearchSpace, native_distribution

from tests.helpers.runs import BIN

NATIVE = {
    "cat": {"values": ["a", "b", 3]},
    "i": {"distribution": "int_uniform", "min": 2, "max": 40},
    "u": {"distribution": "uniform", "min": 0.1, "max": 0.9},
    "qi": {"distribution": "q_uniform", "min": 0, "max": 100, "q": 5},
    "qf": {"distribution": "q_uniform", "min": 0.1, "max": 0.9, "q": 0.1},
    "lv": {"distribution": "log_uniform_values", "min": 1.0e-3, "max": 10.0},
    "ql": {"distribution": "q_log_uniform_values", "min": 16, "max": 4096},
}
ENCODED = {
    "n": {"distribution": "normal", "mu": 5.0, "sigma": 2.0},
    "w": {"values": [1, 2], "probabilities": [0.3, 0.7]},
    "lists": {"values": [[1], [2]]},
}


def _sweep(method, parameters, run_cap=12):
    metric = {"name": "score", "goal": "maximize"}
    return parse_sweep_config({"method": method, "metric": metric, "run_cap": run_cap, "parameters": parameters})


def test_each_exact_kind_maps_to_its_native_distribution():
    sweep = _sweep("random", {**NATIVE, **ENCODED})
    dists = {name: native_distribution(spec) for name, spec in sweep.parameters.items()}
    assert dists["cat"] == optuna.distributions.CategoricalDistribution(("a", "b", 3))
    assert dists["i"] == optuna.distributions.IntDistribution(2, 40)
    assert dists["u"] == optuna.distributions.FloatDistribution(0.1, 0.9)
    assert dists["qi"] == optuna.distributions.IntDistribution(0, 100, step=5)
    assert dists["qf"] == optuna.distributions.FloatDistribution(0.1, 0.9, step=0.1)
    assert dists["lv"] == optuna.distributions.FloatDistribution(1e-3, 10.0, log=True)
    assert dists["ql"] == optuna.distributions.IntDistribution(16, 4096, log=True)
    assert dists["n"] is None and dists["w"] is None
    assert dists["lists"] == optuna.distributions.CategoricalDistribution((0, 1))  # indices; real value a user attr
    space = SearchSpace(sweep)
    assert space.distribution("n") is UNIT


@pytest.mark.parametrize("method", ["random", "bayes", "grid"])
def test_load_study_params_equal_the_values_the_trials_got(tmp_path, method):
    params = dict(NATIVE) if method != "grid" else {k: NATIVE[k] for k in ("cat", "i", "qi", "qf")}
    if method == "grid":
        params["i"] = {"distribution": "int_uniform", "min": 2, "max": 3}
    if method != "grid":
        params.update(ENCODED)
    sweep = _sweep(method, params, run_cap=14)
    got = {}

    def train(ctx):
        got[ctx.number] = dict(ctx.params)
        return float(len(str(ctx.params)))

    url = f"sqlite:///{tmp_path / 's.db'}"
    LocalSweep(sweep, url, "s", seed=5).run(train)
    study = optuna.load_study(study_name="s", storage=url)
    assert len(study.trials) == 14 == len(got)
    for trial in study.trials:
        for name in (n for n in NATIVE if n in params):
            value = trial.params[name]
            assert value == got[trial.number][name] and type(value) is type(got[trial.number][name]), name
        for name in ENCODED if method != "grid" else ():
            assert trial.user_attrs[name] == got[trial.number][name]
            assert 0.0 <= trial.params[name] <= 1.0  # the unit encoding, as documented
    best = max(study.trials, key=lambda t: (t.value, -t.number))
    assert study.best_params == best.params
    frame = study.trials_dataframe()
    for name in ("i", "qi"):
        if name in params:
            assert list(frame[f"params_{name}"]) == [got[n][name] for n in frame["number"]]


def test_the_optuna_cli_shows_the_values(tmp_path):
    sweep = _sweep("random", {k: NATIVE[k] for k in ("i", "u", "ql")}, run_cap=4)
    got = {}

    def train(ctx):
        got[ctx.number] = dict(ctx.params)
        return 1.0

    url = f"sqlite:///{tmp_path / 's.db'}"
    LocalSweep(sweep, url, "s", seed=1).run(train)
    res = subprocess.run(
        [str(BIN / "optuna"), "trials", "--study-name", "s", "--storage", url, "-f", "json"],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    assert len(rows) == 4
    for row in rows:
        for name in ("i", "u", "ql"):
            assert row["params"][name] == got[row["number"]][name]
        assert isinstance(row["params"]["i"], int) and isinstance(row["params"]["ql"], int)


@pytest.mark.slow
def test_random_search_keeps_wandb_laws_on_native_distributions(tmp_path):
    # q_uniform rounds a uniform draw: the end multiples get half the mass of the inner ones (W&B's law, which a
    # uniform choice among the steps would not give).
    sweep = _sweep("random", {"q": {"distribution": "q_uniform", "min": 0, "max": 4, "q": 1}}, run_cap=400)
    seen = [r.params["q"] for r in LocalSweep(sweep, f"sqlite:///{tmp_path / 's.db'}", "s", seed=2).run(lambda c: 0.0)]
    ends = sum(v in (0, 4) for v in seen) / len(seen)
    assert abs(ends - 0.25) < 4 * math.sqrt(0.25 * 0.75 / 400)
