"""mode wandb end to end, offline: the real dj-process / script, the local engine, W&B offline runs read back."""

import csv
import re

import pytest
import yaml

from tests.helpers.data import decompress, read_jsonl, varied_texts, write_jsonl, write_yaml
from tests.helpers.runs import wandb_runs_by_trial

pytestmark = pytest.mark.e2e


def _setup(tmp_path, sweep, texts=None, process=None, data=None, **auto_hpo):
    data = data or write_jsonl(tmp_path / "d.jsonl", texts or varied_texts(400))
    sweep_path = write_yaml(tmp_path / "sweep.yaml", sweep)
    section = {"mode": "wandb", "hpo_config": str(sweep_path), "output_dir": str(tmp_path / "hpo"), **auto_hpo}
    recipe = write_yaml(
        tmp_path / "recipe.yaml",
        {
            "project_name": "sweep-test",
            "dataset_path": str(data),
            "export_path": str(tmp_path / "out" / "kept.jsonl"),
            "np": 1,
            "process": process
            or [
                {"text_length_filter": {"min_len": 10, "max_len": 100000}},
                {"character_repetition_filter": {"rep_len": 10, "max_ratio": 0.5}},
            ],
            "auto_hpo": section,
        },
    )
    return recipe, data


def _trials(tmp_path):
    with open(tmp_path / "hpo" / "trials.csv") as f:
        return list(csv.DictReader(f))


RETENTION_SWEEP = {
    "method": "random",
    "run_cap": 6,
    "metric": {"name": "retention", "goal": "maximize"},
    "parameters": {
        "text_length_filter.min_len": {"distribution": "int_uniform", "min": 10, "max": 400},
        "character_repetition_filter.rep_len": {"values": [5, 10]},
        "character_repetition_filter.max_ratio": {"distribution": "uniform", "min": 0.05, "max": 0.6},
    },
}


def test_local_sweep_outputs_best_recipe_and_offline_runs(tmp_path, dj_process):
    recipe, data = _setup(tmp_path, RETENTION_SWEEP)
    res = dj_process("--config", recipe, env={"WANDB_API_KEY": "", "NETRC": str(tmp_path / "none")})
    assert res.returncode == 0, res.stderr[-3000:]
    assert "backend auto -> local" in res.stderr
    assert "trial #5 (6/6, " in res.stderr  # Optuna's number, then its place under the cap

    rows = _trials(tmp_path)
    assert len(rows) == 6 and all(r["state"] == "COMPLETE" for r in rows)
    assert list(rows[0])[:6] == ["number", "state", *RETENTION_SWEEP["parameters"], "retention"]
    for r in rows:
        assert 10 <= int(r["text_length_filter.min_len"]) <= 400
        assert r["character_repetition_filter.rep_len"] in ("5", "10")
        assert 0.05 <= float(r["character_repetition_filter.max_ratio"]) <= 0.6
    best = max(rows, key=lambda r: float(r["retention"]))

    n = len(read_jsonl(data))
    kept = read_jsonl(tmp_path / "out" / "kept.jsonl")
    assert len(kept) == round(float(best["retention"]) * n)  # the export is the best recipe's full run
    min_len = int(best["text_length_filter.min_len"])
    assert all(len(row["text"]) >= min_len for row in kept)

    best_recipe = yaml.safe_load((tmp_path / "hpo" / "best_recipe.yaml").read_text())
    assert "auto_hpo" not in best_recipe
    assert best_recipe["process"][0]["text_length_filter"]["min_len"] == min_len
    best_recipe["export_path"] = str(tmp_path / "plain" / "kept.jsonl")
    plain = write_yaml(tmp_path / "plain.yaml", best_recipe)
    res = dj_process("--config", plain)
    assert res.returncode == 0, res.stderr[-3000:]
    assert read_jsonl(tmp_path / "plain" / "kept.jsonl") == kept
    for png in ("metric_history.png", "param_importance.png"):
        assert (tmp_path / "hpo" / png).read_bytes()[:4] == b"\x89PNG"

    # every trial is a W&B offline run; read them back with wandb's own tool
    assert len(list((tmp_path / "hpo" / "wandb").glob("offline-run-*"))) == 6
    seen = wandb_runs_by_trial(tmp_path / "hpo" / "wandb", tmp_path)
    for r in rows:
        info = seen[int(r["number"])]
        assert info["summary"]["retention"] == pytest.approx(float(r["retention"]))
        assert info["config"]["text_length_filter.min_len"] == int(r["text_length_filter.min_len"])
        assert info["project"] == "sweep-test"


def test_rerun_resumes_and_run_cap_counts_completed_trials(tmp_path, dj_process):
    recipe, _ = _setup(tmp_path, {**RETENTION_SWEEP, "run_cap": 3}, process_best=False)
    assert dj_process("--config", recipe).returncode == 0
    first = _trials(tmp_path)
    res = dj_process("--config", recipe)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "(1/3, " not in res.stderr and _trials(tmp_path) == first  # nothing redone
    write_yaml(tmp_path / "sweep.yaml", {**RETENTION_SWEEP, "run_cap": 5})
    res = dj_process("--config", recipe)
    assert res.returncode == 0, res.stderr[-3000:]
    rows = _trials(tmp_path)
    assert len(rows) == 5 and rows[:3] == first
    assert "trial #3 (4/5, " in res.stderr and "trial #4 (5/5, " in res.stderr
    assert not (tmp_path / "out" / "kept.jsonl").exists()  # process_best: false exports nothing
    assert len(list((tmp_path / "hpo" / "wandb").glob("offline-run-*"))) == 5


def test_grid_covers_every_point_once_and_statistics_are_shared(tmp_path, dj_process):
    sweep = {
        "method": "grid",
        "metric": {"name": "retention", "goal": "maximize"},
        "parameters": {
            "character_repetition_filter.rep_len": {"values": [3, 10]},
            "character_repetition_filter.max_ratio": {"values": [0.1, 0.3, 0.5]},
            "text_length_filter[0].max_len": {"values": [300, 3000]},
        },
    }
    recipe, data = _setup(tmp_path, sweep, process_best=False)
    res = dj_process("--config", recipe, env={"WANDB_MODE": "disabled"})
    assert res.returncode == 0, res.stderr[-3000:]
    rows = _trials(tmp_path)
    points = {
        (
            r["character_repetition_filter.rep_len"],
            r["character_repetition_filter.max_ratio"],
            r["text_length_filter[0].max_len"],
        )
        for r in rows
    }
    assert len(rows) == 12 and len(points) == 12
    # statistics computed once per rep_len, not once per trial; rep_len only re-computes its own filter
    computed = [
        line.split("computing statistics of ")[1]
        for line in res.stderr.splitlines()
        if "computing statistics of" in line
    ]
    # one pass computes the statistics of both listed rep_len values (and is reused by every trial)
    assert len(computed) == 1, computed
    names = re.findall(r"\w+\([^)]*\)", computed[0].split("]")[0])
    assert sorted(names) == [
        "character_repetition_filter(#1, rep_len=10)",
        "character_repetition_filter(#1, rep_len=3)",
        "text_length_filter(#0)",
    ]
    # every trial's retention, recomputed here with the filters' own statistics on each document
    from data_juicer.ops import OPERATORS
    from data_juicer.utils.constant import Fields

    texts = [row["text"] for row in read_jsonl(data)]
    for r in rows:
        rep = OPERATORS.modules["character_repetition_filter"](rep_len=int(r["character_repetition_filter.rep_len"]))
        ratios = [rep.compute_stats_batched({"text": [t], Fields.stats: [{}]})[Fields.stats][0] for t in texts]
        max_len, max_ratio = int(r["text_length_filter[0].max_len"]), float(r["character_repetition_filter.max_ratio"])
        kept = sum(10 <= len(t) <= max_len and stats["char_rep_ratio"] <= max_ratio for t, stats in zip(texts, ratios))
        assert float(r["retention"]) == pytest.approx(kept / len(texts), abs=1e-9)
    assert not (tmp_path / "hpo" / "wandb").exists()  # WANDB_MODE=disabled records nothing


def test_hyperband_prunes_on_growing_fractions(tmp_path, dj_process):
    sweep = {
        "method": "random",
        "run_cap": 24,
        "metric": {"name": "retention", "goal": "maximize"},
        "parameters": {"text_length_filter.min_len": {"distribution": "int_uniform", "min": 0, "max": 2000}},
        "early_terminate": {"type": "hyperband", "min_iter": 1, "max_iter": 9, "eta": 3},
    }
    recipe, data = _setup(tmp_path, sweep, process_best=False)
    res = dj_process("--config", recipe, env={"WANDB_MODE": "disabled"})
    assert res.returncode == 0, res.stderr[-3000:]
    states = [r["state"] for r in _trials(tmp_path)]
    assert states.count("PRUNED") >= 1 and states.count("COMPLETE") >= 1


def test_custom_objective_and_seed_script(tmp_path, script):
    (tmp_path / "myobj.py").write_text("def kept_count(dataset, cfg):\n    return float(len(dataset))\n")
    sweep = {**RETENTION_SWEEP, "metric": {"name": "kept", "goal": "maximize"}, "run_cap": 3}
    recipe, data = _setup(tmp_path, sweep, objective="myobj:kept_count", process_best=False)
    sweep_path = tmp_path / "sweep.yaml"
    # the seed's usage: the sweep file is given by --hpo_config, not in the recipe
    body = yaml.safe_load(recipe.read_text())
    del body["auto_hpo"]["hpo_config"]
    write_yaml(recipe, body)
    res = script(
        "execute_hpo_wandb.py",
        "--config",
        recipe,
        "--hpo_config",
        sweep_path,
        env={"PYTHONPATH": str(tmp_path), "WANDB_MODE": "offline"},
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "backend auto -> local (WANDB_MODE=offline)" in res.stderr
    texts = [row["text"] for row in read_jsonl(data)]
    for r in _trials(tmp_path):
        # independent count: the two filters' keep rules for this trial
        min_len = int(r["text_length_filter.min_len"])
        assert float(r["kept"]) <= sum(1 for t in texts if min_len <= len(t) <= 100000)


@pytest.mark.corpus
def test_quality_score_sweep_on_the_bench_corpus(tmp_path, shared_data, script):
    data = decompress(shared_data / "bench-corpus.jsonl.gz", tmp_path / "bench.jsonl", limit=4000)
    sweep = {
        "method": "bayes",
        "run_cap": 8,
        "metric": {"name": "quality_score", "goal": "maximize"},
        "parameters": {
            "text_length_filter.min_len": {"distribution": "q_log_uniform_values", "min": 16, "max": 4096},
            "alphanumeric_filter.min_ratio": {"distribution": "uniform", "min": 0.3, "max": 0.8},
        },
    }
    process = [{"text_length_filter": {"min_len": 10, "max_len": 100000}}, {"alphanumeric_filter": {"min_ratio": 0.25}}]
    recipe, _ = _setup(
        tmp_path, sweep, process=process, data=data, reference=str(shared_data / "reference-clean.jsonl.gz")
    )
    res = script(
        "execute_hpo_wandb.py",
        "--config",
        recipe,
        "--hpo_config",
        tmp_path / "sweep.yaml",
        "--auto_hpo.backend",
        "local",
    )
    assert res.returncode == 0, res.stderr[-3000:]
    rows = _trials(tmp_path)
    assert len(rows) == 8
    scores = [float(r["quality_score"]) for r in rows if r["state"] == "COMPLETE"]
    assert scores and all(0.0 <= s <= 1.0 for s in scores)
    # keeping longer, more alphanumeric text must raise the quality of what is kept over the unfiltered mix
    assert max(scores) > min(scores)
    assert len(read_jsonl(tmp_path / "out" / "kept.jsonl")) > 0
