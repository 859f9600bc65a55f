"""3sigma end to end: the real dj-process and script in a subprocess, checked against independent numbers."""

import json
import math

import numpy as np
import pytest
import yaml

from tests.helpers.data import read_jsonl, varied_texts, write_jsonl, write_yaml

pytestmark = pytest.mark.e2e


def _recipe(tmp_path, data, process, **auto_hpo):
    body = {
        "project_name": "t",
        "dataset_path": str(data),
        "export_path": str(tmp_path / "out" / "processed.jsonl"),
        "np": 1,
        "process": process,
    }
    if auto_hpo:
        body["auto_hpo"] = auto_hpo
    return write_yaml(tmp_path / "recipe.yaml", body)


def _k_sigma(values, k=3.0):
    arr = np.asarray(values, dtype=float)
    return arr.mean() - k * arr.std(ddof=1), arr.mean() + k * arr.std(ddof=1)


def _texts(path):
    return [row["text"] for row in read_jsonl(path)]


def test_dj_process_tunes_writes_and_processes(tmp_path, dj_process):
    texts = varied_texts()
    data = write_jsonl(tmp_path / "d.jsonl", texts)
    process = [
        {"text_length_filter": {"min_len": 10, "max_len": 100000, "min_closed_interval": True}},
        {"character_repetition_filter": {"rep_len": 10, "min_ratio": 0.0, "max_ratio": 0.5}},
        {"alphanumeric_filter": {"min_ratio": 0.1, "max_ratio": 1.0}},
    ]
    refined_path = tmp_path / "refined" / "recipe.yaml"
    recipe = _recipe(tmp_path, data, process, mode="3sigma", path_3sigma_recipe=str(refined_path), plot=True)
    before = recipe.read_text()
    res = dj_process("--config", recipe)
    assert res.returncode == 0, res.stderr[-3000:]
    assert recipe.read_text() == before  # the input recipe is never touched

    lo, hi = _k_sigma([len(t) for t in texts])
    expected_min, expected_max = max(0, math.ceil(lo)), math.floor(hi)
    assert f"text_length_filter.max_len: 100000 -> {expected_max}" in res.stderr
    assert "remove [" in res.stderr

    refined = yaml.safe_load(refined_path.read_text())
    assert "auto_hpo" not in refined
    tl = refined["process"][0]["text_length_filter"]
    assert (tl["min_len"], tl["max_len"]) == (expected_min, expected_max)
    assert type(tl["max_len"]) is int and tl["min_closed_interval"] is True
    cr = refined["process"][1]["character_repetition_filter"]
    assert type(cr["max_ratio"]) is float and cr["rep_len"] == 10 and 0.0 <= cr["min_ratio"] <= cr["max_ratio"] <= 1.0

    kept = _texts(tmp_path / "out" / "processed.jsonl")
    assert all(expected_min <= len(t) <= expected_max for t in kept)
    assert len(kept) < len(texts)
    pngs = sorted(p.name for p in refined_path.parent.glob("*.png"))
    assert len(pngs) == 3 and all((refined_path.parent / p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)

    # plain dj-process runs the refined recipe unchanged and keeps the same samples
    refined["export_path"] = str(tmp_path / "plain" / "processed.jsonl")
    plain_recipe = write_yaml(tmp_path / "plain.yaml", refined)
    res = dj_process("--config", plain_recipe)
    assert res.returncode == 0, res.stderr[-3000:]
    assert _texts(tmp_path / "plain" / "processed.jsonl") == kept


def test_statistics_are_estimated_after_the_preceding_mapper(tmp_path, dj_process):
    # the mapper deletes every 'x': lengths before and after it differ a lot
    texts = [("x" * (i % 7) * 40) + " word" * (5 + i % 11) for i in range(300)]
    data = write_jsonl(tmp_path / "d.jsonl", texts)
    process = [{"remove_specific_chars_mapper": {"chars_to_remove": "x"}}, {"text_length_filter": {"max_len": 99999}}]
    out = tmp_path / "r.json"
    res = dj_process("--config", _recipe(tmp_path, data, process, mode="3sigma", path_3sigma_recipe=str(out), k=1.0))
    assert res.returncode == 0, res.stderr[-3000:]
    lo, hi = _k_sigma([len(t.replace("x", "")) for t in texts], k=1.0)
    args = json.loads(out.read_text())["process"][1]["text_length_filter"]
    assert (args["min_len"], args["max_len"]) == (max(0, math.ceil(lo)), math.floor(hi))
    kept = _texts(tmp_path / "out" / "processed.jsonl")
    assert kept and all("x" not in t and math.ceil(lo) <= len(t) <= math.floor(hi) for t in kept)


def test_repeated_op_constant_statistic_and_untunable_ops(tmp_path, dj_process):
    texts = ["abcde fghij " * 4] * 50  # every text has the same length: constant statistic
    texts += [t for t in varied_texts(60)]
    data = write_jsonl(tmp_path / "d.jsonl", texts)
    process = [
        {"text_length_filter": {"min_len": 1, "max_len": 100000}},
        {"suffix_filter": {}},
        {"text_length_filter": {"min_len": 2, "max_len": 90000}},
    ]
    out = tmp_path / "r.yaml"
    res = dj_process("--config", _recipe(tmp_path, data, process, mode="3sigma", path_3sigma_recipe=str(out)))
    assert res.returncode == 0, res.stderr[-3000:]
    refined = yaml.safe_load(out.read_text())["process"]
    first, second = refined[0]["text_length_filter"], refined[2]["text_length_filter"]
    assert first == second and first["max_len"] < 90000  # each instance tuned, by position
    assert refined[1] == {"suffix_filter": {}}
    assert (
        "text_length_filter.max_len: 100000 ->" in res.stderr and "text_length_filter.max_len: 90000 ->" in res.stderr
    )


def test_constant_statistic_is_left_unchanged_with_a_reason(tmp_path, dj_process):
    data = write_jsonl(tmp_path / "d.jsonl", ["same length!"] * 20)
    out = tmp_path / "r.yaml"
    process = [{"text_length_filter": {"min_len": 3, "max_len": 500}}]
    res = dj_process("--config", _recipe(tmp_path, data, process, mode="3sigma", path_3sigma_recipe=str(out)))
    assert res.returncode == 0, res.stderr[-3000:]
    assert "text_length_filter (#0) unchanged" in res.stderr and "constant" in res.stderr
    assert yaml.safe_load(out.read_text())["process"][0]["text_length_filter"] == {"min_len": 3, "max_len": 500}


@pytest.mark.parametrize("flag, suffix", [("--path_3sigma_recipe", "yaml"), ("--path_k_sigma_recipe", "json")])
def test_script_keeps_the_seed_flags(tmp_path, script, flag, suffix):
    data = write_jsonl(tmp_path / "d.jsonl", varied_texts(200))
    recipe = _recipe(tmp_path, data, [{"text_length_filter": {"min_len": 10, "max_len": 10000}}])
    out = tmp_path / f"refined.{suffix}"
    res = script("execute_hpo_3sigma.py", "--config", recipe, flag, out, "--auto_hpo.k", "2")
    assert res.returncode == 0, res.stderr[-3000:]
    refined = yaml.safe_load(out.read_text())
    lo, hi = _k_sigma([len(t) for t in varied_texts(200)], k=2.0)
    assert refined["process"][0]["text_length_filter"]["max_len"] == math.floor(hi)
    assert (tmp_path / "out" / "processed.jsonl").exists()


def test_script_without_dump_just_processes(tmp_path, script):
    data = write_jsonl(tmp_path / "d.jsonl", varied_texts(200))
    recipe = _recipe(tmp_path, data, [{"text_length_filter": {"min_len": 10, "max_len": 10000}}])
    res = script("execute_hpo_3sigma.py", "--config", recipe)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "text_length_filter.max_len: 10000 ->" in res.stderr
    assert len(_texts(tmp_path / "out" / "processed.jsonl")) < 200


def test_log_scale_bounds_and_linear_fallback(tmp_path, dj_process):
    texts = varied_texts()
    data = write_jsonl(tmp_path / "d.jsonl", texts)
    process = [
        {"text_length_filter": {"min_len": 10, "max_len": 100000}},
        {"character_repetition_filter": {"rep_len": 10, "max_ratio": 0.9}},  # ratio 0 for a few texts
    ]
    refined_path = tmp_path / "refined.yaml"
    recipe = _recipe(
        tmp_path, data, process, mode="3sigma", scale="log", path_3sigma_recipe=str(refined_path), plot=True
    )
    res = dj_process("--config", recipe)
    assert res.returncode == 0, res.stderr[-3000:]

    logs = np.log([len(t) for t in texts])
    lo = math.exp(logs.mean() - 3 * logs.std(ddof=1))
    hi = math.exp(logs.mean() + 3 * logs.std(ddof=1))
    expected_min, expected_max = math.ceil(lo), math.floor(hi)
    linear_lo, _ = _k_sigma([len(t) for t in texts])
    assert linear_lo < 0 < expected_min  # the point of log scale: the low side filters
    tl = yaml.safe_load(refined_path.read_text())["process"][0]["text_length_filter"]
    assert (tl["min_len"], tl["max_len"]) == (expected_min, expected_max)
    assert f"text_length_filter.min_len: 10 -> {expected_min}" in res.stderr
    kept = _texts(tmp_path / "out" / "processed.jsonl")
    assert kept and all(expected_min <= len(t) <= expected_max for t in kept)

    # a statistic with values <= 0 stays linear for that op, with the reason logged
    assert "character_repetition_filter (#1): char_rep_ratio has values <= 0 (minimum 0)" in res.stderr
    assert "so its bounds stay linear" in res.stderr
    sc = yaml.safe_load(refined_path.read_text())["process"][1]["character_repetition_filter"]
    from data_juicer.ops import OPERATORS

    op = OPERATORS.modules["character_repetition_filter"](rep_len=10)
    stats = op.compute_stats_batched({"text": texts, "__dj__stats__": [{} for _ in texts]})["__dj__stats__"]
    ratios = [row["char_rep_ratio"] for row in stats]
    assert min(ratios) == 0.0
    _, linear_hi = _k_sigma(ratios)
    assert sc["max_ratio"] == pytest.approx(min(linear_hi, 1.0), rel=1e-9)
    assert (tmp_path / "text_length_filter_0_text_len.png").exists()
