"""downstream_task in a real dj-process sweep, and the modes of every file the plugin writes under a umask."""

import csv
import json
import os
import stat
import subprocess

import datasets
import numpy as np
import pytest

from data_juicer_hpo.objectives import Population, get_objective

from tests.helpers.data import write_yaml
from tests.helpers.runs import BIN

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Each topic has its own document length, so a min_len threshold can drop whole labels.
TOPICS = {
    "space": ("orbit rocket launch satellite moon crew station thrust payload mission", 60),
    "cooking": ("oven flour butter simmer garlic recipe onion dough salt bake", 24),
    "finance": ("shares market profit quarter bank loan interest dividend stock revenue", 10),
}
COMMON = "the a of and to in is it that for on with as this".split()


def _rows(n, seed, weights):
    rng = np.random.default_rng(seed)
    rows = []
    for i, topic in enumerate(rng.choice(list(TOPICS), size=n, p=weights)):
        words, length = TOPICS[topic]
        others = [w for t, (ws, _) in TOPICS.items() if t != topic for w in ws.split()]
        text = rng.choice(words.split(), length // 2).tolist() + rng.choice(COMMON, length // 3).tolist()
        text += rng.choice(others, length // 6).tolist()
        rng.shuffle(text)
        rows.append({"text": " ".join(text), "meta": {"source": str(topic), "id": i}})
    return rows


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _recipe(tmp_path, data, sweep, **auto_hpo):
    sweep_path = write_yaml(tmp_path / "sweep.yaml", sweep)
    section = {"mode": "wandb", "hpo_config": str(sweep_path), "output_dir": str(tmp_path / "hpo"), **auto_hpo}
    return write_yaml(
        tmp_path / "recipe.yaml",
        {
            "project_name": "downstream-test",
            "dataset_path": str(data),
            "export_path": str(tmp_path / "out" / "kept.jsonl"),
            "np": 1,
            "process": [{"text_length_filter": {"min_len": 1, "max_len": 100000}}],
            "auto_hpo": section,
        },
    )


def _run(cmd, cwd, umask=None):
    env = dict(os.environ, WANDB_SILENT="true", WANDB_API_KEY="", NETRC=str(cwd / "none"))
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",  # the run's processes share stderr: a write split at a full pipe can cut a character
        timeout=900,
        preexec_fn=None if umask is None else (lambda: os.umask(umask)),
    )


def test_downstream_sweep_scores_what_each_trial_keeps(tmp_path):
    rows = _rows(240, seed=1, weights=(0.25, 0.3, 0.45))
    data = _write(tmp_path / "d.jsonl", rows)
    eval_path = _write(tmp_path / "eval.jsonl", _rows(90, seed=2, weights=(1 / 3, 1 / 3, 1 / 3)))
    lengths = {t: [len(r["text"]) for r in rows if r["meta"]["source"] == t] for t in TOPICS}
    only_space = max(lengths["cooking"] + lengths["finance"]) + 1
    assert only_space <= min(lengths["space"])
    no_finance = max(lengths["finance"]) + 1
    assert no_finance <= min(lengths["cooking"])
    grid = [1, no_finance, only_space]
    sweep = {
        "method": "grid",
        "metric": {"name": "downstream_task", "goal": "maximize"},
        "parameters": {"text_length_filter.min_len": {"values": grid}},
    }
    recipe = _recipe(tmp_path, data, sweep, downstream={"label_key": "meta.source", "eval": str(eval_path)})
    res = _run([BIN / "dj-process", "--config", recipe], tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    with open(tmp_path / "hpo" / "trials.csv") as f:
        trials = {int(r["text_length_filter.min_len"]): float(r["downstream_task"]) for r in csv.DictReader(f)}
    assert sorted(trials) == grid

    # every value recomputed outside the sweep, on the data as read here, from the kept texts
    population = Population([r["text"] for r in rows], dataset=datasets.Dataset.from_list(rows))
    objective = get_objective("downstream_task", {"downstream": {"label_key": "meta.source", "eval": str(eval_path)}})
    for min_len, value in trials.items():
        kept = [i for i, r in enumerate(rows) if len(r["text"]) >= min_len]
        assert value == pytest.approx(objective.score(population, kept), abs=1e-9), min_len
    truth = [json.loads(line)["meta"]["source"] for line in open(eval_path)]
    train = [r["meta"]["source"] for r in rows]
    baseline = np.mean([t == max(set(train), key=train.count) for t in truth])
    assert trials[1] > baseline + 0.3
    assert trials[only_space] == 0.0  # one label left: nothing to tell apart
    for name in ("metric_history.png", "param_importance.png", "parallel_coordinates.png", "best_recipe.yaml"):
        assert (tmp_path / "hpo" / name).exists(), name


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_outputs_get_the_mode_of_the_umask(tmp_path, umask):
    rows = _rows(80, seed=3, weights=(0.3, 0.3, 0.4))
    data = _write(tmp_path / "d.jsonl", rows)
    sweep = {
        "method": "random",
        "run_cap": 3,
        "metric": {"name": "retention", "goal": "maximize"},
        "parameters": {"text_length_filter.min_len": {"distribution": "int_uniform", "min": 1, "max": 200}},
    }
    recipe = _recipe(tmp_path, data, sweep)
    res = _run([BIN / "dj-process", "--config", recipe], tmp_path, umask=umask)
    assert res.returncode == 0, res.stderr[-3000:]
    three_sigma = write_yaml(
        tmp_path / "three.yaml",
        {
            "dataset_path": str(data),
            "export_path": str(tmp_path / "out3" / "kept.jsonl"),
            "np": 1,
            "process": [{"text_length_filter": {"min_len": 1, "max_len": 100000}}],
            "auto_hpo": {"mode": "3sigma", "path_3sigma_recipe": str(tmp_path / "r3" / "refined.yaml"), "plot": True},
        },
    )
    res = _run([BIN / "dj-process", "--config", three_sigma], tmp_path, umask=umask)
    assert res.returncode == 0, res.stderr[-3000:]
    ours = sorted(p for p in (tmp_path / "hpo").iterdir() if p.is_file()) + sorted((tmp_path / "r3").iterdir())
    ours += [tmp_path / "out" / "kept.jsonl", tmp_path / "out3" / "kept.jsonl"]  # exports renamed into place
    names = {p.name for p in ours}
    expected = {"trials.csv", "best_recipe.yaml", "metric_history.png", "param_importance.png", "sweep.db"}
    expected |= {"parallel_coordinates.png", "refined.yaml", "text_length_filter_0_text_len.png"}
    assert expected <= names, names
    for path in ours:
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, (path, oct(path.stat().st_mode))
    assert not list(tmp_path.rglob(".tmp-*"))


def test_a_held_out_test_split_reports_the_chosen_recipe_with_an_interval(tmp_path):
    rows = _rows(240, seed=1, weights=(0.25, 0.3, 0.45))
    data = _write(tmp_path / "d.jsonl", rows)
    eval_path = _write(tmp_path / "eval.jsonl", _rows(100, seed=2, weights=(1 / 3, 1 / 3, 1 / 3)))
    sweep = {
        "method": "grid",
        "metric": {"name": "downstream_task", "goal": "maximize"},
        "parameters": {"text_length_filter.min_len": {"values": [1, 40, 120]}},
    }
    downstream = {"label_key": "meta.source", "eval": str(eval_path), "test": 0.4}
    recipe = _recipe(tmp_path, data, sweep, downstream=downstream, budget={"samples": 50}, repeats=3)
    res = _run([BIN / "dj-process", "--config", recipe], tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "downstream_task: [60] eval samples" in res.stderr  # 40 of the 100 held out as the test set
    summary = json.loads((tmp_path / "hpo" / "summary.json").read_text())
    test = summary["downstream_task"]["test"]
    for decision in ("chosen", "as_written", "keep_all"):
        low, high = test[decision]["interval95"]
        assert 0 <= low <= test[decision]["value"] <= high <= 1
    assert test["chosen"]["value"] > 0.5  # three topics: far above chance on documents that never chose a trial
    assert "on the test set (40 documents, never used to choose)" in res.stderr
    with open(tmp_path / "hpo" / "trials.csv") as f:
        trials = list(csv.DictReader(f))
    lengths = np.array([len(r["text"]) for r in rows])
    for r in trials:
        kept = int((lengths >= int(r["text_length_filter.min_len"])).sum())
        assert r["kept"] == str(kept) and r["feasible"] == str(kept >= 50).lower()
        assert (r["downstream_task_se"] != "") == (kept >= 50)
