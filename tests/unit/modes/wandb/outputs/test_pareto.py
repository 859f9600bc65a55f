"""The Pareto front against a brute-force dominance check, selection, and the files written for it."""

import csv

import numpy as np
import pytest

from data_juicer_hpo.engine import TrialRecord
from data_juicer_hpo.engine.goals import Constraint, Goals
from data_juicer_hpo.modes.wandb.outputs.pareto import pareto_front, select_trial, write_pareto


def _records(n, k, seed=0, constrained=False):
    rng = np.random.default_rng(seed)
    values = np.round(rng.random((n, k)), 1)  # coarse: ties and duplicates happen
    out = []
    for i, row in enumerate(values):
        state = "FAIL" if i % 11 == 7 else "COMPLETE"
        vals = tuple(float(v) for v in row) if state == "COMPLETE" else None
        scores = {f"o{j}": float(v) for j, v in enumerate(row)}
        feasible = (row[0] >= 0.2) if constrained and state == "COMPLETE" else None
        out.append(TrialRecord(i, state, {"x": i}, None, None, 1.0, None, vals, scores, feasible))
    return out


@pytest.mark.parametrize("k, directions", [(2, ["maximize", "minimize"]), (3, ["maximize", "maximize", "minimize"])])
def test_front_is_exactly_the_non_dominated_feasible_complete_trials(k, directions):
    constraints = (Constraint("o0", ">=", 0.2),)
    goals = Goals(tuple((f"o{j}", d) for j, d in enumerate(directions)), constraints)
    records = _records(60, k, seed=k, constrained=True)
    signs = np.array([1 if d == "maximize" else -1 for d in directions])
    pool = [r for r in records if r.state == "COMPLETE" and r.feasible]
    expected = []
    for r in pool:
        a = signs * np.array(r.values)
        dominated = any(
            np.all(signs * np.array(o.values) >= a) and np.any(signs * np.array(o.values) > a) for o in pool
        )
        if not dominated:
            expected.append(r.number)
    front = pareto_front(records, goals)
    assert [r.number for r in front] == expected and len(expected) >= 2
    best = select_trial(front, goals, "o1")
    sign = signs[1]
    assert best.values[1] == (max if sign > 0 else min)(r.values[1] for r in front)
    assert best.number == min(r.number for r in front if r.values[1] == best.values[1])  # earliest on ties


def test_write_pareto_writes_csv_recipes_and_a_png_per_pair(tmp_path):
    goals = Goals((("o0", "maximize"), ("o1", "maximize"), ("o2", "minimize")))
    records = _records(30, 3, seed=5)
    front = pareto_front(records, goals)
    (tmp_path / "pareto").mkdir()
    (tmp_path / "pareto" / "trial-999.yaml").write_text("stale: true\n")
    written = write_pareto(
        str(tmp_path), records, front, goals, ["x"], lambda p: {"process": [{"f": {"x": p["x"]}}]}, front[0]
    )
    with open(tmp_path / "pareto.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["number"]) for r in rows] == [r.number for r in front]
    assert list(rows[0])[:6] == ["number", "state", "x", "o0", "o1", "o2"]
    names = sorted(p.name for p in (tmp_path / "pareto").iterdir())
    assert names == sorted(f"trial-{r.number}.yaml" for r in front)  # the stale one is gone
    assert str(tmp_path / "pareto.png") in written and (tmp_path / "pareto.png").read_bytes()[:4] == b"\x89PNG"
