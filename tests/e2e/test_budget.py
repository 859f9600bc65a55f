"""Fixed training budgets end to end, on data built for it: long clean documents and short mixed ones. Trained on
everything it keeps, keeping everything has the most clean text; trained on the same number of tokens, the clean
subset wins. A trial that keeps less than the budget is infeasible, not scored on less."""

import csv
import json
import math

import numpy as np
import pytest

from data_juicer_hpo.objectives.tokens import tokenize

from tests.helpers.data import write_yaml
from tests.helpers.texts import BAD, GOOD, word_docs

pytestmark = pytest.mark.e2e

ENV = {"WANDB_MODE": "disabled"}
CLEAN_MIN = 220  # every clean document is longer, every mixed one shorter (checked below)


def _data(tmp_path):
    rng = np.random.default_rng(0)
    clean = word_docs(GOOD, 150, seed=1, length=45)
    mixed = [
        " ".join(rng.permutation(word_docs(GOOD, 1, 100 + i, 6)[0].split() + word_docs(BAD, 1, i, 6)[0].split()))
        for i in range(150)
    ]
    assert min(map(len, clean)) >= CLEAN_MIN > max(map(len, mixed))
    texts = [t for pair in zip(clean, mixed) for t in pair]
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    reference = tmp_path / "ref.jsonl"
    reference.write_text("".join(json.dumps({"text": t}) + "\n" for t in word_docs(GOOD, 60, seed=9, length=40)))
    return data, reference, texts


def _sweep(tmp_path, name, **auto_hpo):
    data, reference, texts = _data(tmp_path)
    sweep = {
        "method": "grid",
        "metric": {"name": "model_loss", "goal": "minimize"},
        "parameters": {"text_length_filter.min_len": {"values": [1, CLEAN_MIN, 100000]}},
    }
    section = {
        "mode": "wandb",
        "backend": "local",
        "hpo_config": str(write_yaml(tmp_path / f"{name}.sweep.yaml", sweep)),
        "output_dir": str(tmp_path / name),
        "reference": str(reference),
        **auto_hpo,
    }
    recipe = {
        "dataset_path": str(data),
        "export_path": str(tmp_path / name / "out" / "kept.jsonl"),
        "np": 1,
        "process": [{"text_length_filter": {"min_len": 1, "max_len": 100000}}],
        "auto_hpo": section,
    }
    return write_yaml(tmp_path / f"{name}.yaml", recipe), texts


def _trials(path):
    with open(path) as f:
        return {int(r["text_length_filter.min_len"]): r for r in csv.DictReader(f)}


def test_a_token_budget_makes_keeping_everything_lose_to_the_clean_subset(tmp_path, dj_process):
    recipe, texts = _sweep(tmp_path, "free")
    res = dj_process("--config", recipe, env=ENV)
    assert res.returncode == 0, res.stderr[-3000:]
    free = _trials(tmp_path / "free" / "trials.csv")
    assert float(free[1]["model_loss"]) < float(free[CLEAN_MIN]["model_loss"])  # more data wins without a budget

    recipe, texts = _sweep(tmp_path, "fixed", budget={"tokens": 1500}, repeats=4)
    res = dj_process("--config", recipe, env=ENV)
    assert res.returncode == 0, res.stderr[-3000:]
    trials = _trials(tmp_path / "fixed" / "trials.csv")
    tokens = np.array([len(tokenize(t)) for t in texts])
    lengths = np.array([len(t) for t in texts])
    for min_len, r in trials.items():
        kept = lengths >= min_len
        assert r["kept"] == str(int(kept.sum())) and float(r["retention"]) == kept.mean()
        assert r["kept_tokens"] == str(int(tokens[kept].sum()))
        assert r["feasible"] == str(bool(tokens[kept].sum() >= 1500)).lower()
    everything, clean, nothing = trials[1], trials[CLEAN_MIN], trials[100000]
    gap = float(everything["model_loss"]) - float(clean["model_loss"])
    noise = math.hypot(float(everything["model_loss_se"]), float(clean["model_loss_se"]))
    assert gap > 3 * noise > 0  # the clean subset wins by far more than the draws' noise
    assert nothing["kept"] == "0" and float(nothing["model_loss"]) == pytest.approx(math.log(2**18))
    assert nothing["model_loss_se"] == "" and nothing["feasible"] == "false"  # not scored on less
    summary = json.loads((tmp_path / "fixed" / "summary.json").read_text())
    assert summary["chosen"]["params"] == {"text_length_filter.min_len": CLEAN_MIN}
    keep_all = summary["keep_all"]["scores"]
    assert keep_all["model_loss"] == pytest.approx(float(everything["model_loss"]))  # min_len 1 keeps everything
    assert summary["keep_all"]["noise"]["within_noise"] is False
