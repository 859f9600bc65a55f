"""Constrained and multi-objective sweeps end to end: the real dj-process, trials.csv recomputed with numpy,
Pareto fronts checked by brute force, Pareto recipes run by plain dj-process, the study read by Optuna's tools."""

import csv
import json

import numpy as np
import optuna
import pytest
import yaml

from tests.helpers.data import read_jsonl, varied_texts, write_jsonl, write_yaml
from tests.helpers.runs import BIN, run

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PROCESS = [{"text_length_filter": {"min_len": 10, "max_len": 100000}}]
PARAMS = {
    "text_length_filter.min_len": {"distribution": "int_uniform", "min": 10, "max": 400},
    # a float law on an int argument: sampled as integers (q_uniform, q=1)
    "text_length_filter.max_len": {"distribution": "uniform", "min": 150.0, "max": 2000.0},
}
MEAN_LEN = "def mean_len(dataset, cfg):\n    return sum(len(r['text']) for r in dataset) / max(1, len(dataset))\n"
ENV = {"WANDB_MODE": "disabled"}


def _setup(tmp_path, sweep, **auto_hpo):
    (tmp_path / "myobj.py").write_text(MEAN_LEN)
    data = write_jsonl(tmp_path / "d.jsonl", varied_texts(400))
    write_jsonl(tmp_path / "ref.jsonl", [t for t in varied_texts(120, seed=11) if len(t) < 400])
    section = {
        "mode": "wandb",
        "hpo_config": str(write_yaml(tmp_path / "sweep.yaml", sweep)),
        "output_dir": str(tmp_path / "hpo"),
        **auto_hpo,
    }
    body = {
        "project_name": "goals",
        "dataset_path": str(data),
        "export_path": str(tmp_path / "out" / "kept.jsonl"),
        "np": 1,
        "process": PROCESS,
        "auto_hpo": section,
    }
    return write_yaml(tmp_path / "recipe.yaml", body), [r["text"] for r in read_jsonl(data)]


def _rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def _lengths(texts):
    return np.array([len(t) for t in texts])


def _kept(lengths, row):
    lo, hi = int(row["text_length_filter.min_len"]), int(row["text_length_filter.max_len"])
    return (lengths >= lo) & (lengths <= hi)


def test_constrained_sweep_picks_the_best_feasible_trial(tmp_path, dj_process):
    sweep = {"method": "bayes", "run_cap": 12, "metric": {"name": "mean_len", "goal": "maximize"}, "parameters": PARAMS}
    recipe, texts = _setup(tmp_path, sweep, objective="myobj:mean_len", constraints=["retention >= 0.5"])
    res = dj_process("--config", recipe, env={**ENV, "PYTHONPATH": str(tmp_path)})
    assert res.returncode == 0, res.stderr[-3000:]
    assert "is sampled as q_uniform with q=1" in res.stderr
    rows = _rows(tmp_path / "hpo" / "trials.csv")
    assert list(rows[0])[2:8] == [*PARAMS, "mean_len", "kept", "retention", "feasible"]
    lengths = _lengths(texts)
    for r in rows:
        assert r["state"] == "COMPLETE"
        assert r["text_length_filter.max_len"].isdigit()  # cast before the trial ran, shown as run
        kept = _kept(lengths, r)
        assert float(r["retention"]) == pytest.approx(kept.mean())
        assert r["kept"] == str(int(kept.sum()))
        mean = lengths[kept].mean() if kept.any() else 0.0
        assert float(r["mean_len"]) == pytest.approx(mean)
        assert r["feasible"] == str(kept.mean() >= 0.5).lower()
    feasible = [r for r in rows if r["feasible"] == "true"]
    assert feasible
    best = max(feasible, key=lambda r: (float(r["mean_len"]), -int(r["number"])))
    recipe_out = yaml.safe_load((tmp_path / "hpo" / "best_recipe.yaml").read_text())
    args = recipe_out["process"][0]["text_length_filter"]
    assert args == {k.split(".")[1]: int(best[k]) for k in PARAMS}
    assert type(args["max_len"]) is int
    kept = read_jsonl(tmp_path / "out" / "kept.jsonl")
    assert len(kept) / len(texts) == pytest.approx(float(best["retention"]))

    # the study as Optuna's own tools read it: the values the recipes got, the constraint values TPE used
    url = f"sqlite:///{tmp_path / 'hpo' / 'sweep.db'}"
    study = optuna.load_study(study_name="goals-sweep", storage=url)
    for trial, row in zip(sorted(study.trials, key=lambda t: t.number), rows):
        assert trial.params == {k: int(row[k]) for k in PARAMS}
        assert trial.constraints == {"retention >= 0.5": pytest.approx(0.5 - float(row["retention"]))}
    res = run([str(BIN / "optuna"), "trials", "--study-name", "goals-sweep", "--storage", url, "-f", "json"], tmp_path)
    assert res.returncode == 0, res.stderr
    shown = {t["number"]: t["params"] for t in json.loads(res.stdout)}
    assert shown == {int(r["number"]): {k: int(r[k]) for k in PARAMS} for r in rows}

    # a plain dj-process run of the best recipe keeps what its trial kept
    recipe_out["export_path"] = str(tmp_path / "plain" / "kept.jsonl")
    res = dj_process("--config", write_yaml(tmp_path / "best.yaml", recipe_out))
    assert res.returncode == 0, res.stderr[-3000:]
    assert read_jsonl(tmp_path / "plain" / "kept.jsonl") == kept


def test_no_feasible_trial_exits_non_zero_without_a_best_recipe(tmp_path, dj_process):
    metric = {"name": "retention", "goal": "maximize"}
    sweep = {"method": "random", "run_cap": 4, "metric": metric, "parameters": PARAMS}
    recipe, _ = _setup(tmp_path, sweep, constraints=["retention >= 0.2", "retention < 0.1"])
    res = dj_process("--config", recipe, env=ENV)
    assert res.returncode != 0 and "Traceback" not in res.stdout + res.stderr, res.stderr[-3000:]
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: auto_hpo.constraints: none of the 4 completed trials")
    assert "no trial satisfies the constraints; the closest" in res.stderr
    rows = _rows(tmp_path / "hpo" / "trials.csv")
    assert len(rows) == 4 and all(r["feasible"] == "false" for r in rows)
    assert not (tmp_path / "hpo" / "best_recipe.yaml").exists()
    assert not (tmp_path / "out" / "kept.jsonl").exists()


def _dominates(a, b):
    return all(x >= y for x, y in zip(a, b)) and any(x > y for x, y in zip(a, b))


def test_two_objective_sweep_writes_the_pareto_front(tmp_path, dj_process):
    sweep = {"method": "bayes", "run_cap": 14, "parameters": PARAMS}  # no metric: the objectives say it all
    recipe, texts = _setup(
        tmp_path,
        sweep,
        objectives={"quality_score": "maximize", "retention": "maximize"},
        constraints=["retention >= 0.05"],
        reference=str(tmp_path / "ref.jsonl"),
    )
    res = dj_process("--config", recipe, env=ENV)
    assert res.returncode == 0, res.stderr[-3000:]
    out = tmp_path / "hpo"
    rows = _rows(out / "trials.csv")
    assert list(rows[0])[2:6] == [*PARAMS, "quality_score", "retention"] and "feasible" in rows[0]
    lengths = _lengths(texts)
    for r in rows:
        assert float(r["retention"]) == pytest.approx(_kept(lengths, r).mean())
    done = [r for r in rows if r["state"] == "COMPLETE" and r["feasible"] == "true"]
    vals = {r["number"]: (float(r["quality_score"]), float(r["retention"])) for r in done}
    front = [r for r in done if not any(_dominates(vals[o["number"]], vals[r["number"]]) for o in done)]
    pareto = _rows(out / "pareto.csv")
    added = ("distance_to_ideal", "selected")  # pareto.csv's own columns
    assert [{k: v for k, v in p.items() if k not in added} for p in pareto] == front
    assert [c for c in pareto[0] if c not in added] == list(rows[0])
    assert sorted(p.name for p in (out / "pareto").iterdir()) == sorted(f"trial-{r['number']}.yaml" for r in front)
    assert (out / "pareto.png").read_bytes()[:4] == b"\x89PNG"

    # processed, without auto_hpo.select: the front's compromise, nearest the ideal point once both objectives are
    # min-max normalised over the front (the earliest trial on ties)
    points = np.array([[float(r["quality_score"]), float(r["retention"])] for r in front])
    low, span = points.min(axis=0), points.max(axis=0) - points.min(axis=0)
    scaled = np.where(span > 0, (points - low) / np.where(span > 0, span, 1.0), 1.0)
    chosen = front[int(np.argmin(np.sqrt(((1.0 - scaled) ** 2).sum(axis=1))))]
    assert [p["number"] for p in pareto if p["selected"] == "true"] == [chosen["number"]]
    assert "selected as the front's compromise" in res.stderr
    kept = read_jsonl(tmp_path / "out" / "kept.jsonl")
    assert len(kept) / len(texts) == pytest.approx(float(chosen["retention"]))

    # every Pareto recipe runs under plain dj-process and keeps what its trial kept
    for r in front[:2]:
        body = yaml.safe_load((out / "pareto" / f"trial-{r['number']}.yaml").read_text())
        assert "auto_hpo" not in body
        body["export_path"] = str(tmp_path / f"p{r['number']}" / "kept.jsonl")
        res = dj_process("--config", write_yaml(tmp_path / f"p{r['number']}.yaml", body))
        assert res.returncode == 0, res.stderr[-3000:]
        got = [row["text"] for row in read_jsonl(tmp_path / f"p{r['number']}" / "kept.jsonl")]
        assert got == [t for t, k in zip(texts, _kept(lengths, r)) if k]

    study = optuna.load_study(study_name="goals-sweep", storage=f"sqlite:///{out / 'sweep.db'}")
    assert len(study.directions) == 2
    assert {t.number for t in study.best_trials} == {int(r["number"]) for r in front}  # Optuna agrees
