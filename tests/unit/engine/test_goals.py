"""Objectives and constraints (engine/goals.py): parsing, Optuna's constraint convention, dominance, and their values
stored with each trial."""

import optuna
import pytest

from data_juicer_hpo.engine import LocalSweep, parse_sweep_config
from data_juicer_hpo.engine.goals import Constraint, Goals, dominates, parse_constraint
from data_juicer_hpo.errors import AutoHpoError


def _sweep(method, parameters, run_cap=12):
    metric = {"name": "score", "goal": "maximize"}
    return parse_sweep_config({"method": method, "metric": metric, "run_cap": run_cap, "parameters": parameters})


def test_constraint_parsing_and_optuna_convention():
    c, why = parse_constraint("retention >= 0.5")
    assert why is None and c == Constraint("retention", ">=", 0.5)
    assert c.holds(0.5) and c.violation(0.5) == 0.0 and c.violation(0.4) == pytest.approx(0.1)
    strict, _ = parse_constraint("model_loss<5.5")
    assert not strict.holds(5.5) and strict.violation(5.5) > 0 and strict.violation(5.0) == pytest.approx(-0.5)
    for bad in ("retention => 0.5", "retention >= x", "retention", 5, "retention >= nan"):
        assert parse_constraint(bad)[0] is None
    assert dominates([1, 2], [1, 1], ["maximize", "maximize"])
    assert not dominates([1, 1], [1, 1], ["maximize", "maximize"])
    assert dominates([1, 0], [2, 0], ["minimize", "maximize"])


def test_constraints_and_objectives_are_stored_with_each_trial(tmp_path):
    sweep = _sweep("bayes", {"x": {"distribution": "uniform", "min": 0.0, "max": 1.0}}, run_cap=15)
    goals = Goals((("score", "maximize"),), (Constraint("size", "<=", 0.5),))
    url = f"sqlite:///{tmp_path / 's.db'}"
    engine = LocalSweep(sweep, url, "s", seed=3, goals=goals)
    records = engine.run(lambda ctx: {"score": ctx.params["x"], "size": ctx.params["x"]})
    assert all(r.feasible == (r.params["x"] <= 0.5) for r in records)
    feasible = [r for r in records if r.feasible]
    assert engine.best().number == max(feasible, key=lambda r: r.value).number
    study = optuna.load_study(study_name="s", storage=url)
    for t in study.trials:
        assert t.constraints == {"size <= 0.5": pytest.approx(t.params["x"] - 0.5)}  # what TPE reads
        assert t.user_attrs["feasible"] == (t.params["x"] <= 0.5)
    with pytest.raises(AutoHpoError, match="objectives or constraints"):
        LocalSweep(sweep, url, "s", goals=Goals((("score", "maximize"),), (Constraint("size", "<=", 0.4),)))


def test_a_multi_objective_study_gets_every_value(tmp_path):
    sweep = _sweep("bayes", {"x": {"distribution": "uniform", "min": 0.0, "max": 1.0}}, run_cap=12)
    goals = Goals((("a", "maximize"), ("b", "maximize")))
    url = f"sqlite:///{tmp_path / 's.db'}"
    records = LocalSweep(sweep, url, "s", seed=3, goals=goals).run(
        lambda ctx: {"a": ctx.params["x"], "b": 1 - ctx.params["x"] ** 2}
    )
    study = optuna.load_study(study_name="s", storage=url)
    assert [list(t.values) for t in study.trials] == [list(r.values) for r in records]
    assert all(r.values == (r.scores["a"], r.scores["b"]) for r in records)
    failed = LocalSweep(sweep, url, "s", goals=goals).run(lambda ctx: {"a": 1.0}, n_trials=13)
    assert failed[0].state == "FAIL" and "no score for b" in failed[0].error
