"""Data-mixture sweeps end to end: each trial scores exactly the rows plain dj-process loads and keeps for that
trial's recipe; a grid over two weights finds the brute-force best; 3sigma tunes on the mixed population."""

import copy
import csv
import json
import math
from collections import Counter

import datasets
import numpy as np
import pytest
import yaml
from data_juicer.core.data.dataset_builder import get_sample_numbers
from data_juicer.utils.sample import random_sample

from tests.helpers.data import read_jsonl, varied_texts, write_yaml

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SIZES = (60, 90, 120)

# a custom objective that records what each trial scored, in call order (= trial order with one worker)
RECORDER = """
import json, os

CALLS = [0]


def score(dataset, cfg):
    rows = [[row["text"], row["meta"]["id"]] for row in dataset]
    path = os.path.join(os.environ["MIX_RECORD_DIR"], "call-%d.json" % CALLS[0])
    with open(path, "w") as f:
        json.dump(rows, f)
    CALLS[0] += 1
    return float(sum(int(row["meta"]["score"]) for row in dataset)) / (1.0 + len(dataset)) + 0.001 * len(dataset)
"""


def _objective_value(rows):
    """The recorder's value, recomputed here from the rows a trial keeps."""
    return sum(int(r["meta"]["score"]) for r in rows) / (1.0 + len(rows)) + 0.001 * len(rows)


def _sources(tmp_path):
    texts = varied_texts(sum(SIZES), seed=11)
    rng = np.random.default_rng(5)
    paths, start = [], 0
    for k, size in enumerate(SIZES):
        path = tmp_path / f"source{k}.jsonl"
        with open(path, "w", encoding="utf-8") as f:
            for i in range(size):
                meta = {"id": f"s{k}-{i}", "score": str(int(rng.integers(0, 10 * (k + 1))))}
                f.write(json.dumps({"text": texts[start + i], "meta": meta}) + "\n")
        paths.append(path)
        start += size
    return paths


def _recipe(tmp_path, paths, weights=(1.0, 1.0, 1.0), max_sample_num=200, process=None, **extra):
    return {
        "project_name": "mixture-test",
        "dataset": {
            "configs": [{"type": "local", "path": str(p), "weight": w} for p, w in zip(paths, weights)],
            "max_sample_num": max_sample_num,
        },
        "export_path": str(tmp_path / "out" / "kept.jsonl"),
        "np": 1,
        "process": process
        or [
            {"whitespace_normalization_mapper": {}},
            {"text_length_filter": {"min_len": 10, "max_len": 100000}},
            {"character_repetition_filter": {"rep_len": 10, "max_ratio": 0.5}},
        ],
        **extra,
    }


def _sweep_run(tmp_path, dj_process, recipe, sweep):
    (tmp_path / "rec").mkdir()
    (tmp_path / "mix_objective.py").write_text(RECORDER)
    recipe = copy.deepcopy(recipe)
    recipe["auto_hpo"] = {
        "mode": "wandb",
        "backend": "local",
        "hpo_config": str(write_yaml(tmp_path / "sweep.yaml", sweep)),
        "objective": "mix_objective:score",
        "output_dir": str(tmp_path / "hpo"),
    }
    path = write_yaml(tmp_path / "recipe.yaml", recipe)
    env = {"MIX_RECORD_DIR": str(tmp_path / "rec"), "PYTHONPATH": str(tmp_path), "WANDB_MODE": "disabled"}
    res = dj_process("--config", path, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    with open(tmp_path / "hpo" / "trials.csv") as f:
        return res, list(csv.DictReader(f))


def _plain(tmp_path, dj_process, recipe, name):
    recipe = copy.deepcopy(recipe)
    recipe["export_path"] = str(tmp_path / name / "kept.jsonl")
    res = dj_process("--config", write_yaml(tmp_path / f"{name}.yaml", recipe))
    assert res.returncode == 0, res.stderr[-3000:]
    return read_jsonl(tmp_path / name / "kept.jsonl")


def _multiset(rows):
    return Counter((r["text"], r["meta"]["id"]) for r in rows)


def _value(text):
    number = float(text)
    return int(number) if number.is_integer() and "." not in text else number


def test_each_trial_scores_what_plain_dj_process_keeps(tmp_path, dj_process):
    paths = _sources(tmp_path)
    base = _recipe(tmp_path, paths)
    sweep = {
        "method": "random",
        "run_cap": 4,
        "metric": {"name": "mixture_score", "goal": "maximize"},
        "parameters": {
            "dataset.configs[0].weight": {"distribution": "uniform", "min": 0.0, "max": 3.0},
            "dataset.configs[2].weight": {"values": [0.2, 1.0, 4.0]},
            "dataset.max_sample_num": {"distribution": "int_uniform", "min": 100, "max": 320},
            "text_length_filter.min_len": {"distribution": "int_uniform", "min": 10, "max": 200},
            "character_repetition_filter.max_ratio": {"distribution": "uniform", "min": 0.05, "max": 0.6},
        },
    }
    res, rows = _sweep_run(tmp_path, dj_process, base, sweep)
    assert "mixture sources loaded whole: [60, 90, 120] rows" in res.stderr
    assert res.stderr.count("computing statistics of") == 1  # statistics once per source document, for all trials
    assert list(rows[0])[2:7] == list(sweep["parameters"])  # trials.csv names the columns by the sweep names
    assert len(rows) == 4 and all(r["state"] == "COMPLETE" for r in rows)
    upsampled = calls = 0
    for row in rows:
        params = {name: _value(row[name]) for name in sweep["parameters"]}
        recipe = copy.deepcopy(base)
        recipe["dataset"]["configs"][0]["weight"] = params["dataset.configs[0].weight"]
        recipe["dataset"]["configs"][2]["weight"] = params["dataset.configs[2].weight"]
        recipe["dataset"]["max_sample_num"] = params["dataset.max_sample_num"]
        recipe["process"][1]["text_length_filter"]["min_len"] = params["text_length_filter.min_len"]
        recipe["process"][2]["character_repetition_filter"]["max_ratio"] = params[
            "character_repetition_filter.max_ratio"
        ]
        kept = _plain(tmp_path, dj_process, recipe, f"plain{row['number']}")
        if not kept:  # the objective is not called for a trial that keeps nothing: it scores its worst
            assert float(row["mixture_score"]) == -math.inf
            continue
        scored = json.loads((tmp_path / "rec" / f"call-{calls}.json").read_text())
        calls += 1
        assert Counter(map(tuple, scored)) == _multiset(kept), row
        assert float(row["mixture_score"]) == pytest.approx(_objective_value(kept), rel=1e-12)
        upsampled += any(n > 1 for n in _multiset(kept).values())
    assert upsampled and calls >= 3, "too few trials kept repeated rows: the test would prove little"

    best = max(rows, key=lambda r: float(r["mixture_score"]))
    best_recipe = yaml.safe_load((tmp_path / "hpo" / "best_recipe.yaml").read_text())
    assert "auto_hpo" not in best_recipe
    assert best_recipe["dataset"]["configs"][2]["weight"] == _value(best["dataset.configs[2].weight"])
    assert best_recipe["dataset"]["max_sample_num"] == int(best["dataset.max_sample_num"])
    assert [c["path"] for c in best_recipe["dataset"]["configs"]] == [str(p) for p in paths]
    exported = read_jsonl(tmp_path / "out" / "kept.jsonl")  # the sweep's run of the best recipe
    assert _multiset(_plain(tmp_path, dj_process, best_recipe, "plain-best")) == _multiset(exported)
    user_recipe = yaml.safe_load((tmp_path / "recipe.yaml").read_text())  # never modified
    assert user_recipe["dataset"] == base["dataset"] and "auto_hpo" in user_recipe


def _dj_mixture_rows(paths, weights, max_sample_num):
    """The mixed rows by Data-Juicer's own sampling functions, sources read with plain json."""
    parts = []
    for path, weight, n in zip(paths, weights, get_sample_numbers(weights, max_sample_num)):
        if n > 0:
            parts.append(random_sample(datasets.Dataset.from_list(read_jsonl(path)), weight, n))
    return list(datasets.concatenate_datasets(parts))


def test_grid_over_two_weights_finds_the_brute_force_best(tmp_path, dj_process):
    paths = _sources(tmp_path)
    process = [{"text_length_filter": {"min_len": 60, "max_len": 100000}}]
    base = _recipe(tmp_path, paths, max_sample_num=150, process=process)
    grid = {"dataset.configs[0].weight": [0.0, 0.5, 2.0], "dataset.configs[1].weight": [0.25, 1.0, 3.0]}
    sweep = {
        "method": "grid",
        "metric": {"name": "mixture_score", "goal": "maximize"},
        "parameters": {name: {"values": values} for name, values in grid.items()},
    }
    _, rows = _sweep_run(tmp_path, dj_process, base, sweep)
    assert len(rows) == 9 and all(r["state"] == "COMPLETE" for r in rows)
    brute = {}
    for w0 in grid["dataset.configs[0].weight"]:
        for w1 in grid["dataset.configs[1].weight"]:
            mixed = _dj_mixture_rows(paths, [w0, w1, 1.0], 150)
            brute[(w0, w1)] = _objective_value([r for r in mixed if 60 <= len(r["text"]) <= 100000])
    swept = {(float(r["dataset.configs[0].weight"]), float(r["dataset.configs[1].weight"])): r for r in rows}
    assert set(swept) == set(brute)
    for point, value in brute.items():
        assert float(swept[point]["mixture_score"]) == pytest.approx(value, rel=1e-12), point
    best_point = max(brute, key=brute.get)
    assert max(swept, key=lambda p: float(swept[p]["mixture_score"])) == best_point
    best_recipe = yaml.safe_load((tmp_path / "hpo" / "best_recipe.yaml").read_text())
    assert [c["weight"] for c in best_recipe["dataset"]["configs"]][:2] == list(best_point)


def test_3sigma_tunes_on_the_mixed_population(tmp_path, dj_process):
    paths = _sources(tmp_path)
    weights, max_sample_num = (2.0, 0.3, 1.0), 250
    process = [{"text_length_filter": {"min_len": 1, "max_len": 1000000}}]
    recipe = _recipe(tmp_path, paths, weights, max_sample_num, process=process)
    recipe["auto_hpo"] = {"mode": "3sigma", "k": 2.0, "path_3sigma_recipe": str(tmp_path / "refined.yaml")}
    res = dj_process("--config", write_yaml(tmp_path / "recipe.yaml", recipe))
    assert res.returncode == 0, res.stderr[-3000:]
    lengths = np.array([len(r["text"]) for r in _dj_mixture_rows(paths, weights, max_sample_num)], dtype=float)
    assert len(lengths) == max_sample_num
    mean, std = lengths.mean(), lengths.std(ddof=1)
    refined = yaml.safe_load((tmp_path / "refined.yaml").read_text())
    args = refined["process"][0]["text_length_filter"]
    assert args["min_len"] == max(0, math.ceil(mean - 2 * std))
    assert args["max_len"] == math.floor(mean + 2 * std)
    kept = read_jsonl(tmp_path / "out" / "kept.jsonl")
    assert len(kept) == int(np.sum((lengths >= args["min_len"]) & (lengths <= args["max_len"])))


def test_full_pipeline_trials_load_the_same_mixture(tmp_path, dj_process):
    """A deduplicator makes each trial run Data-Juicer's pipeline: on the trial's rows (repeats deduplicated)."""
    paths = _sources(tmp_path)
    process = [{"document_deduplicator": {}}, {"text_length_filter": {"min_len": 10, "max_len": 100000}}]
    base = _recipe(tmp_path, paths, weights=(1.0, 1.0, 1.0), max_sample_num=300, process=process)
    sweep = {
        "method": "grid",
        "metric": {"name": "mixture_score", "goal": "maximize"},
        "parameters": {"dataset.configs[0].weight": {"values": [0.2, 4.0]}},
    }
    res, rows = _sweep_run(tmp_path, dj_process, base, sweep)
    assert "each trial runs Data-Juicer's full pipeline" in res.stderr
    for calls, row in enumerate(sorted(rows, key=lambda r: int(r["number"]))):
        recipe = copy.deepcopy(base)
        recipe["dataset"]["configs"][0]["weight"] = float(row["dataset.configs[0].weight"])
        kept = _plain(tmp_path, dj_process, recipe, f"plain{row['number']}")
        scored = json.loads((tmp_path / "rec" / f"call-{calls}.json").read_text())
        assert Counter(map(tuple, scored)) == _multiset(kept), row
    assert _multiset(read_jsonl(tmp_path / "out" / "kept.jsonl")) == _multiset(
        _plain(tmp_path, dj_process, yaml.safe_load((tmp_path / "hpo" / "best_recipe.yaml").read_text()), "best")
    )


def test_retention_is_kept_over_sampled_rows_with_hyperband(tmp_path, dj_process):
    paths = _sources(tmp_path)
    process = [{"text_length_filter": {"min_len": 10, "max_len": 100000}}]
    base = _recipe(tmp_path, paths, max_sample_num=180, process=process)
    base["auto_hpo"] = {
        "mode": "wandb",
        "backend": "local",
        "output_dir": str(tmp_path / "hpo"),
        "hpo_config": str(
            write_yaml(
                tmp_path / "sweep.yaml",
                {
                    "method": "random",
                    "run_cap": 6,
                    "metric": {"name": "retention", "goal": "maximize"},
                    "parameters": {
                        "dataset.configs[1].weight": {"distribution": "uniform", "min": 0.0, "max": 4.0},
                        "dataset.max_sample_num": {"values": [90, 400]},
                        "text_length_filter.min_len": {"distribution": "int_uniform", "min": 50, "max": 350},
                    },
                    "early_terminate": {"type": "hyperband", "min_iter": 1, "max_iter": 9, "eta": 3},
                },
            )
        ),
    }
    res = dj_process("--config", write_yaml(tmp_path / "recipe.yaml", base), env={"WANDB_MODE": "disabled"})
    assert res.returncode == 0, res.stderr[-3000:]
    with open(tmp_path / "hpo" / "trials.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["state"] == "COMPLETE"]
    assert rows
    for row in rows:
        weights, max_sample_num = [1.0, float(row["dataset.configs[1].weight"]), 1.0], int(
            row["dataset.max_sample_num"]
        )
        mixed = _dj_mixture_rows(paths, weights, max_sample_num)
        kept = [r for r in mixed if len(r["text"]) >= int(row["text_length_filter.min_len"])]
        assert float(row["retention"]) == pytest.approx(len(kept) / len(mixed), rel=1e-12), row
