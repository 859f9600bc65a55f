"""The labels objectives end to end: real dj-process sweeps scored on labelled documents that are not part of the data,
every number recomputed with numpy from the texts' lengths (the recipe has one text_length_filter, whose statistic
is the length in characters); kept/retention in every trials.csv; the front's compromise; the label command."""

import csv
import json

import numpy as np
import pytest

from tests.helpers.data import read_jsonl, write_yaml
from tests.helpers.labels import cells, youden
from tests.helpers.runs import BIN, run
from tests.helpers.texts import BAD, GOOD, word_docs

pytestmark = pytest.mark.e2e

ENV = {"WANDB_MODE": "disabled"}
PROCESS = [{"text_length_filter": {"min_len": 10, "max_len": 100000}}]
PARAMS = {
    "text_length_filter.min_len": {"distribution": "int_uniform", "min": 1, "max": 400},
    "text_length_filter.max_len": {"distribution": "int_uniform", "min": 200, "max": 3000},
}


def _documents(n, seed):
    """Good documents of 25-60 words, bad ones either short fragments or long repeated noise; (texts, is good)."""
    rng = np.random.default_rng(seed)
    texts, good = [], []
    for i in range(n):
        if rng.random() < 0.55:
            texts.append(word_docs(GOOD, 1, seed * 1000 + i, length=int(rng.integers(25, 60)))[0])
            good.append(True)
        elif rng.random() < 0.5:
            texts.append(word_docs(BAD, 1, seed * 1000 + i, length=int(rng.integers(1, 8)))[0])
            good.append(False)
        else:
            texts.append(word_docs(BAD, 1, seed * 1000 + i, length=int(rng.integers(300, 500)))[0])
            good.append(False)
    return texts, np.array(good)


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _setup(tmp_path, sweep, n_labels=60, **auto_hpo):
    texts, _ = _documents(400, seed=1)
    data = _write_jsonl(tmp_path / "d.jsonl", [{"text": t, "meta": {"id": i}} for i, t in enumerate(texts)])
    labelled, truth = _documents(n_labels, seed=2)
    truth = truth ^ (np.arange(n_labels) % 10 == 3)  # a person's labels: one in ten disagrees with the rule
    rows = [{"text": t, "keep": "keep" if g else "drop"} for t, g in zip(labelled, truth)]
    labels = _write_jsonl(tmp_path / "labels.jsonl", rows)
    section = {
        "mode": "wandb",
        "backend": "local",
        "hpo_config": str(write_yaml(tmp_path / "sweep.yaml", sweep)),
        "output_dir": str(tmp_path / "hpo"),
        "labels": {"path": str(labels), "label_key": "keep"},
        **auto_hpo,
    }
    body = {
        "project_name": "labels",
        "dataset_path": str(data),
        "export_path": str(tmp_path / "out" / "kept.jsonl"),
        "np": 1,
        "process": PROCESS,
        "auto_hpo": section,
    }
    return write_yaml(tmp_path / "recipe.yaml", body), np.array([len(t) for t in texts]), labelled, truth


def _rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def _kept(lengths, row):
    return (lengths >= int(row["text_length_filter.min_len"])) & (lengths <= int(row["text_length_filter.max_len"]))


def test_labels_sweep_scores_the_labelled_documents_and_says_what_the_choice_is_worth(tmp_path, dj_process):
    sweep = {"method": "random", "run_cap": 16, "metric": {"name": "labels", "goal": "maximize"}}
    sweep["parameters"] = PARAMS
    recipe, lengths, labelled, truth = _setup(tmp_path, sweep)
    res = dj_process("--config", recipe, env=ENV)
    assert res.returncode == 0, res.stderr[-3000:]
    rows = _rows(tmp_path / "hpo" / "trials.csv")
    assert list(rows[0])[2:7] == [*PARAMS, "labels", "kept", "retention"]
    label_lengths = np.array([len(t) for t in labelled])
    for r in rows:
        assert r["state"] == "COMPLETE"
        kept = _kept(lengths, r)
        assert r["kept"] == str(int(kept.sum())) and float(r["retention"]) == kept.mean()
        assert float(r["labels"]) == pytest.approx(youden(truth, _kept(label_lengths, r)))
    best = max(rows, key=lambda r: (float(r["labels"]), -int(r["number"])))
    summary = json.loads((tmp_path / "hpo" / "summary.json").read_text())
    labels = summary["labels"]
    assert summary["chosen"]["trial"] == int(best["number"])
    assert labels["chosen"]["value"] == pytest.approx(float(best["labels"]))
    low, high = labels["chosen"]["interval95"]
    assert low <= labels["chosen"]["value"] <= high and high - low > 0
    written = (label_lengths >= 10) & (label_lengths <= 100000)
    assert labels["as_written"]["value"] == pytest.approx(youden(truth, written))
    assert labels["as_written"]["good_kept"] == pytest.approx(written[truth].mean())
    assert labels["keep_all"]["value"] == 0.0
    difference = labels["chosen"]["value"] - youden(truth, written)
    assert labels["chosen_vs_as_written"]["value"] == pytest.approx(difference)
    cv = labels["cross_validated"]
    assert cv["folds"] == 5 and len(cv["per_fold"]) == 5 and -1 <= cv["pooled"]["labels"] <= 1
    assert set(cv["chosen_trials"]) <= {int(r["number"]) for r in rows}
    assert "95 % bootstrap intervals" in res.stderr and "cross-validated (5 folds" in res.stderr
    exported = read_jsonl(tmp_path / "out" / "kept.jsonl")
    assert len(exported) == int(best["kept"])  # the data, not the labelled documents, processed by the choice
    assert summary["keep_all"]["scores"]["kept"] == 400


def test_precision_under_a_recall_constraint(tmp_path, dj_process):
    sweep = {"method": "random", "run_cap": 14, "metric": {"name": "labels_precision", "goal": "maximize"}}
    sweep["parameters"] = PARAMS
    recipe, lengths, labelled, truth = _setup(tmp_path, sweep, constraints=["labels_recall >= 0.9"])
    res = dj_process("--config", recipe, env=ENV)
    assert res.returncode == 0, res.stderr[-3000:]
    rows = _rows(tmp_path / "hpo" / "trials.csv")
    label_lengths = np.array([len(t) for t in labelled])
    for r in rows:
        tp, fn, fp, _ = cells(truth, _kept(label_lengths, r))
        assert float(r["labels_precision"]) == pytest.approx(tp / (tp + fp) if tp + fp else 0.0)
        assert float(r["labels_recall"]) == pytest.approx(tp / (tp + fn))
        assert r["feasible"] == str(tp / (tp + fn) >= 0.9).lower()
    feasible = [r for r in rows if r["feasible"] == "true"]
    best = max(feasible, key=lambda r: (float(r["labels_precision"]), -int(r["number"])))
    assert json.loads((tmp_path / "hpo" / "summary.json").read_text())["chosen"]["trial"] == int(best["number"])


def test_kept_and_retention_in_every_trials_csv_and_the_front_s_compromise(tmp_path, dj_process):
    sweep = {"method": "random", "run_cap": 12, "parameters": PARAMS}
    objectives = {"labels_recall": "maximize", "retention": "minimize"}
    recipe, lengths, labelled, truth = _setup(tmp_path, sweep, objectives=objectives)
    res = dj_process("--config", recipe, env=ENV)
    assert res.returncode == 0, res.stderr[-3000:]
    for r in _rows(tmp_path / "hpo" / "trials.csv"):
        kept = _kept(lengths, r)
        assert r["kept"] == str(int(kept.sum())) and float(r["retention"]) == kept.mean()
    front = _rows(tmp_path / "hpo" / "pareto.csv")
    points = np.array([[float(r["labels_recall"]), -float(r["retention"])] for r in front])  # both: larger is better
    span = points.max(axis=0) - points.min(axis=0)
    scaled = np.where(span > 0, (points - points.min(axis=0)) / np.where(span > 0, span, 1), 1.0)
    distances = np.sqrt(((1 - scaled) ** 2).sum(axis=1))
    chosen = front[int(np.argmin(distances))]  # argmin takes the first, the earliest trial, on ties
    assert [r["selected"] for r in front].count("true") == 1 and chosen["selected"] == "true"
    assert [float(r["distance_to_ideal"]) for r in front] == pytest.approx(distances.tolist())
    assert f"selected as the front's compromise" in res.stderr and f": #{chosen['number']}" in res.stderr
    exported = read_jsonl(tmp_path / "out" / "kept.jsonl")
    assert len(exported) == int(chosen["kept"])


MARKS = [  # the recipe's bounds and the sweep's edges on the length statistic
    ("min_len", 10, "the recipe"),
    ("max_len", 100000, "the recipe"),
    ("min_len", 1, "the sweep's edge"),
    ("min_len", 400, "the sweep's edge"),
    ("max_len", 200, "the sweep's edge"),
    ("max_len", 3000, "the sweep's edge"),
]


def test_the_label_command_draws_reproducibly_along_the_statistics(tmp_path):
    sweep = {"method": "random", "run_cap": 2, "metric": {"name": "labels"}, "parameters": PARAMS}
    recipe, lengths, _, _ = _setup(tmp_path, sweep)
    (tmp_path / "labels.jsonl").unlink()  # the file the command helps make need not exist yet
    cmd = [str(BIN / "python"), "-m", "data_juicer_hpo.label", "--config", str(recipe), "--n", "40"]
    first = run([*cmd, "--out", str(tmp_path / "a")], cwd=tmp_path)
    again = run([*cmd, "--out", str(tmp_path / "b")], cwd=tmp_path)
    assert first.returncode == 0 and again.returncode == 0, first.stderr[-3000:]
    text = (tmp_path / "a" / "to_label.jsonl").read_text()
    assert text == (tmp_path / "b" / "to_label.jsonl").read_text()
    drawn = [json.loads(line) for line in text.splitlines()]
    data = read_jsonl(tmp_path / "d.jsonl")
    assert len({d["label_meta"]["row"] for d in drawn}) == 40
    for d in drawn:
        row = d["label_meta"]["row"]
        assert d["text"] == data[row]["text"] and d["meta"] == data[row]["meta"]
        assert d["label_meta"]["statistics"] == {"text_length_filter.text_len": float(lengths[row])}
    near = [d for d in drawn if d["label_meta"]["how"] == "near"]
    assert len(near) == 20 and all(d["label_meta"]["near"] for d in near)
    marks = {f"text_length_filter.{arg} = {v:g} ({what})" for arg, v, what in MARKS}
    assert {n for d in near for n in d["label_meta"]["near"]} <= marks
    # denser near the marks than the data: the share of drawn documents within 4 % of the ranks of a mark
    ranks = np.argsort(np.argsort(lengths, kind="stable"), kind="stable") / len(lengths)
    marks = [np.mean(lengths < v) for _, v, _ in MARKS]
    close = [min(abs(ranks[d["label_meta"]["row"]] - m) for m in marks) <= 0.04 for d in drawn]
    base = np.mean([min(abs(r - m) for m in marks) <= 0.04 for r in ranks])
    assert np.mean(close) > base + 0.2
    bad = run([*cmd[:-1], "0", "--out", str(tmp_path / "c")], cwd=tmp_path)
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines()[-1] == "error: --n: must be an integer >= 1 (got '0')"
    assert not (tmp_path / "c").exists() and "Traceback" not in bad.stderr
