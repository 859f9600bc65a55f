"""The Pareto front against a brute-force dominance check, selection, and the files written for it."""

import csv

import numpy as np
import pytest

from data_juicer_hpo.engine import TrialRecord
from data_juicer_hpo.engine.goals import Constraint, Goals
from data_juicer_hpo.modes.wandb.outputs.pareto import compromise, pareto_front, select_trial, write_pareto
from data_juicer_hpo.modes.wandb.results import choose_trial


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
    assert [r["selected"] for r in rows] == ["true" if r.number == front[0].number else "" for r in front]


def _brute_force_compromise(front, directions):
    """The ideal and the worst point of the front by loops; each value scaled into [0, 1] between them; the trial
    with the smallest sum of squared gaps to 1 (the earliest on ties)."""
    k = len(directions)
    best_of = [None] * k
    worst_of = [None] * k
    for r in front:
        for j in range(k):
            good = r.values[j] if directions[j] == "maximize" else -r.values[j]
            best_of[j] = good if best_of[j] is None or good > best_of[j] else best_of[j]
            worst_of[j] = good if worst_of[j] is None or good < worst_of[j] else worst_of[j]
    chosen, smallest, gaps = None, None, {}
    for r in front:
        total = 0.0
        for j in range(k):
            good = r.values[j] if directions[j] == "maximize" else -r.values[j]
            span = best_of[j] - worst_of[j]
            scaled = 1.0 if span == 0 else (good - worst_of[j]) / span
            total += (1.0 - scaled) ** 2
        gaps[r.number] = total**0.5
        if smallest is None or total < smallest - 1e-15:
            chosen, smallest = r, total
    return chosen, gaps


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("k, directions", [(2, ["maximize", "minimize"]), (3, ["maximize", "maximize", "minimize"])])
def test_the_compromise_is_the_brute_force_nearest_to_the_ideal_point(seed, k, directions):
    goals = Goals(tuple((f"o{j}", d) for j, d in enumerate(directions)))
    front = pareto_front(_records(40, k, seed=seed), goals)
    chosen, distances = compromise(front, goals)
    expected, gaps = _brute_force_compromise(front, directions)
    assert chosen.number == expected.number
    assert distances == pytest.approx(gaps)


def test_a_sweep_without_select_processes_the_compromise_and_says_so(tmp_path):
    goals = Goals((("quality", "maximize"), ("retention", "maximize")))
    values = [(0.9, 0.01), (0.5, 0.5), (0.1, 0.95), (0.4, 0.4)]  # the extremes and a balanced trial on the front
    records = [
        TrialRecord(i, "COMPLETE", {"x": i}, None, None, 1.0, None, v, {"quality": v[0], "retention": v[1]})
        for i, v in enumerate(values)
    ]
    best, how = choose_trial(records, goals, None)
    assert best.number == 1 and "compromise" in how
    assert choose_trial(records, goals, "quality")[0].number == 0  # select keeps today's behaviour
    assert choose_trial(records, goals, "retention")[0].number == 2
