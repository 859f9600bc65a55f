"""quality_score's warning when the sweep's best is within noise of keeping everything (issue 17, item 5), on real
sweeps: a reference drawn like the data (nothing to learn) against one that only holds clean prose."""

import csv
import json
import random

import pytest

from tests.helpers.data import varied_texts, write_jsonl, write_yaml
from tests.helpers.recipes import length_recipe

pytestmark = pytest.mark.e2e

SWEEP = {
    "method": "grid",
    "metric": {"name": "quality_score", "goal": "maximize"},
    "parameters": {"text_length_filter.min_len": {"values": [220, 240, 260, 280]}},
}


def _alike(n: int, seed: int):
    """Sentences of 30 to 50 words from one vocabulary: their length says nothing about their words."""
    rng = random.Random(seed)
    words = "data juicer filters text by length ratio and repetition of characters in documents".split()
    return [" ".join(rng.choice(words) for _ in range(rng.randint(30, 50))) for _ in range(n)]


def _junk(n: int, seed: int):
    rng = random.Random(seed)
    return ["".join(rng.choice("#$%^&*()!<>|~") for _ in range(rng.randint(5, 60))) for _ in range(n)]


def _sweep(tmp_path, dj_process, data_texts, reference_texts):
    data = write_jsonl(tmp_path / "d.jsonl", data_texts)
    reference = write_jsonl(tmp_path / "ref.jsonl", reference_texts)
    sweep = write_yaml(tmp_path / "sweep.yaml", SWEEP)
    recipe = length_recipe(
        tmp_path / "recipe.yaml",
        data,
        tmp_path / "out" / "kept.jsonl",
        mode="wandb",
        backend="local",
        hpo_config=str(sweep),
        output_dir=str(tmp_path / "hpo"),
        reference=str(reference),
        process_best=False,
    )
    res = dj_process("--config", recipe)
    assert res.returncode == 0, res.stderr[-3000:]
    summary = json.loads((tmp_path / "hpo" / "summary.json").read_text())
    with open(tmp_path / "hpo" / "trials.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return res.stderr, summary, rows


def _check_consistent(summary, rows):
    noise = summary["keep_all"]["noise"]
    best = max(float(r["quality_score"]) for r in rows)
    everything = summary["keep_all"]["scores"]["quality_score"]
    assert noise["difference"] == pytest.approx(best - everything, abs=1e-9)
    low, high = noise["interval95"]
    assert low <= noise["difference"] <= high
    return noise


def test_a_reference_like_the_data_is_within_noise_and_says_so(tmp_path, dj_process):
    stderr, summary, rows = _sweep(tmp_path, dj_process, _alike(600, seed=7), _alike(300, seed=8))
    noise = _check_consistent(summary, rows)
    assert noise["within_noise"] is True and noise["interval95"][0] <= 0 <= noise["interval95"][1]
    assert "within noise of keeping everything: quality_score" in stderr
    assert noise["how"] == "the standard error of a mean over the 600 documents"


def test_clean_prose_against_junk_is_told_apart_without_a_warning(tmp_path, dj_process):
    prose = [t for t in varied_texts(900, seed=7) if len(t) > 200][:450]
    texts = prose + _junk(150, seed=1)
    random.Random(2).shuffle(texts)
    stderr, summary, rows = _sweep(tmp_path, dj_process, texts, [t for t in varied_texts(900, seed=9) if len(t) > 200])
    noise = _check_consistent(summary, rows)
    assert noise["within_noise"] is False and noise["interval95"][0] > 0
    assert "within noise of keeping everything" not in stderr
