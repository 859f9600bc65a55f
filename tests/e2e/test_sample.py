"""auto_hpo.sample end to end on bench-corpus documents: the sample is recomputed here independently (BLAKE2b keys,
the N smallest or the fraction below f * 2^64); 3sigma's bounds equal numpy's on it and the tuned recipe processes
every document; a sweep's trials score the sample (retention recomputed with numpy) and its best recipe processes
every document."""

import csv
import gzip
import hashlib
import json
import math
import re

import numpy as np
import pytest
import yaml

from tests.helpers.data import write_yaml
from tests.helpers.recipes import length_recipe

pytestmark = [pytest.mark.e2e, pytest.mark.corpus]

DOCS = 2_000


def _texts(shared_data, n=DOCS):
    out = []
    with gzip.open(shared_data / "bench-corpus.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            text = json.loads(line)["text"]
            if text.strip():
                out.append(text)
            if len(out) == n:
                return out


def write_texts(path, texts):
    path.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts), encoding="utf-8")
    return path


def _keys(texts, seed):
    salt = seed.to_bytes(8, "little", signed=True)
    return np.array(
        [int.from_bytes(hashlib.blake2b(t.encode("utf-8"), digest_size=8, key=salt).digest(), "little") for t in texts],
        dtype=np.uint64,
    )


def chosen(texts, value, seed):
    """The indices of ``texts`` in the sample ``value`` with ``seed``, computed apart from the plugin."""
    keys = _keys(texts, seed)
    if value < 1:
        return [i for i, k in enumerate(keys) if int(k) < int(value * 2**64)]
    return sorted(np.argsort(keys, kind="stable")[: int(value)].tolist())


def test_three_sigma_on_a_sample_equals_numpy_and_processes_everything(tmp_path, shared_data, dj_process):
    texts = _texts(shared_data)
    data = write_texts(tmp_path / "d.jsonl", texts)
    refined = tmp_path / "refined.yaml"
    recipe = length_recipe(
        tmp_path / "r.yaml", data, tmp_path / "out" / "kept.jsonl", mode="3sigma", sample=400, seed=9,
        path_3sigma_recipe=str(refined),
    )  # fmt: skip
    res = dj_process("--config", recipe)
    assert res.returncode == 0, res.stderr[-3000:]
    lengths = np.array([len(texts[i]) for i in chosen(texts, 400, 9)], dtype=float)
    mean, std = lengths.mean(), lengths.std(ddof=1)
    low, high = max(0, math.ceil(mean - 3 * std)), math.floor(mean + 3 * std)
    args = yaml.safe_load(refined.read_text())["process"][0]["text_length_filter"]
    assert (args["min_len"], args["max_len"]) == (low, high)
    assert "seeded uniform sample of [400] of [2000] samples" in res.stderr
    interval = r"text_length_filter\.max_len: 3sigma's (\d+), 95 % interval from the sample \[([^,]+), ([^]]+)\]"
    intervals = re.findall(interval, res.stderr)
    assert intervals and float(intervals[0][1]) < high < float(intervals[0][2])
    kept = sum(1 for _ in open(tmp_path / "out" / "kept.jsonl", encoding="utf-8"))
    assert kept == sum(1 for t in texts if low <= len(t) <= high) and kept > 400


def test_a_sweep_scores_its_sample_and_processes_everything(tmp_path, shared_data, dj_process):
    texts = _texts(shared_data)
    data = write_texts(tmp_path / "d.jsonl", texts)
    sweep = write_yaml(
        tmp_path / "sweep.yaml",
        {
            "method": "grid",
            "metric": {"name": "retention", "goal": "maximize"},
            "parameters": {"text_length_filter.min_len": {"values": [200, 800, 3000]}},
        },
    )
    recipe = length_recipe(
        tmp_path / "r.yaml", data, tmp_path / "out" / "kept.jsonl", mode="wandb", backend="local",
        hpo_config=str(sweep), output_dir=str(tmp_path / "hpo"), sample=0.3, seed=4,
        constraints=["retention <= 0.8"],
    )  # fmt: skip
    res = dj_process("--config", recipe)
    assert res.returncode == 0, res.stderr[-3000:]
    sample = [texts[i] for i in chosen(texts, 0.3, 4)]
    with open(tmp_path / "hpo" / "trials.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3
    for row in rows:
        min_len = int(row["text_length_filter.min_len"])
        kept = sum(1 for t in sample if min_len <= len(t) <= 100000)
        assert (int(row["kept"]), float(row["retention"])) == (kept, pytest.approx(kept / len(sample))), row
    best = max((r for r in rows if r["feasible"] == "true"), key=lambda r: float(r["retention"]))
    min_len = int(best["text_length_filter.min_len"])
    everywhere = sum(1 for t in texts if min_len <= len(t) <= 100000)
    assert sum(1 for _ in open(tmp_path / "out" / "kept.jsonl", encoding="utf-8")) == everywhere
    assert (f"retention of the chosen recipe: [{float(best['retention']):.4f}] on the sample of [{len(sample)}], "
            f"[{everywhere / len(texts):.4f}] on all [{len(texts)}] samples") in res.stderr  # fmt: skip
