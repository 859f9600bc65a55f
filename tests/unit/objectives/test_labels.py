"""The labels objectives (objectives/labels.py): every metric against a count made by hand from the confusion matrix
(and MCC against Pearson's correlation of the two 0/1 vectors), label values, the labelled file's one-line problems,
and scoring through the decision the sweep hands over."""

import json
import math
import random
import statistics

import numpy as np
import pytest

from data_juicer_hpo.objectives import Population, get_objective
from data_juicer_hpo.objectives.labels import (
    LABELLED_KEPT,
    METRICS,
    confusion,
    label_value,
    metric_of_counts,
)

from tests.helpers.labels import cells, share


def _expected(metric, truth, kept):
    tp, fn, fp, tn = cells(truth, kept)
    sensitivity, specificity = share(tp, tp + fn), share(tn, tn + fp)
    precision = share(tp, tp + fp)
    if metric == "youden":
        return sensitivity + specificity - 1 if (tp + fn) and (fp + tn) else sensitivity - share(fp, fp + tn)
    if metric == "recall":
        return sensitivity
    if metric == "precision":
        return precision
    if metric == "f1":  # the harmonic mean of precision and recall
        return 0.0 if precision + sensitivity == 0 else 2 * precision * sensitivity / (precision + sensitivity)
    if metric == "balanced_accuracy":  # the mean of the two classes' recalls
        return (sensitivity + specificity) / 2
    if metric == "mcc":  # Pearson's correlation of the two 0/1 vectors (0 when one is constant)
        x, y = [float(t) for t in truth], [float(k) for k in kept]
        if len(set(x)) < 2 or len(set(y)) < 2:
            return 0.0
        return statistics.correlation(x, y)
    raise AssertionError(metric)


CASES = [
    ("random", None),
    ("keep everything", "all"),
    ("keep nothing", "none"),
    ("perfect", "truth"),
    ("inverted", "not"),
]


@pytest.mark.parametrize("metric", sorted(METRICS))
@pytest.mark.parametrize("case, how", CASES)
def test_every_metric_matches_a_count_by_hand(metric, case, how):
    rng = random.Random(f"{metric}-{case}")  # a string seed is hashed the same way in every process
    for _ in range(20):
        n = rng.randint(2, 60)
        truth = [rng.random() < 0.4 for _ in range(n)]
        truth[0], truth[1] = True, False  # both classes
        kept = {
            None: [rng.random() < 0.5 for _ in range(n)],
            "all": [True] * n,
            "none": [False] * n,
            "truth": list(truth),
            "not": [not t for t in truth],
        }[how]
        got = float(metric_of_counts(metric, confusion(np.array(truth), np.array(kept))))
        assert got == pytest.approx(_expected(metric, truth, kept), abs=1e-12)


def test_known_values():
    truth = np.array([True] * 6 + [False] * 4)
    kept = np.array([True] * 4 + [False] * 2 + [True] + [False] * 3)  # tp 4, fn 2, fp 1, tn 3
    values = {m: float(metric_of_counts(m, confusion(truth, kept))) for m in METRICS}
    assert values["recall"] == pytest.approx(4 / 6)
    assert values["precision"] == pytest.approx(4 / 5)
    assert values["youden"] == pytest.approx(4 / 6 - 1 / 4)
    assert values["f1"] == pytest.approx(8 / 11)
    assert values["balanced_accuracy"] == pytest.approx((4 / 6 + 3 / 4) / 2)
    assert values["mcc"] == pytest.approx((4 * 3 - 1 * 2) / math.sqrt(5 * 6 * 4 * 5))


def test_weighted_counts_equal_counts_of_the_repeated_documents():
    rng = np.random.default_rng(3)
    truth, kept = rng.random(30) < 0.5, rng.random(30) < 0.5
    weights = rng.multinomial(30, np.full(30, 1 / 30), size=5)
    counts = confusion(truth, kept, weights)
    for row, w in enumerate(weights):
        docs = np.repeat(np.arange(30), w)
        tp, fn, fp, tn = cells(truth[docs], kept[docs])
        assert (counts.tp[row], counts.fn[row], counts.fp[row], counts.tn[row]) == (tp, fn, fp, tn)


@pytest.mark.parametrize(
    "raw, value",
    [(True, True), (False, False), (1, True), (0, False), ("keep", True), (" Drop ", False), ("TRUE", True)]
    + [("false", False), ("1", True), ("0", False), (2, None), ("maybe", None), (None, None), (1.0, None)],
)
def test_label_values(raw, value):
    assert label_value(raw) is value


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def _rows(n=30, key="keep"):
    return [{"text": f"document {i}", key: i % 2 == 0} for i in range(n)]


@pytest.mark.parametrize(
    "rows, config, expected",
    [
        (None, None, "auto_hpo.labels: required by the labels objectives, a mapping such as"),
        (None, {"path": "nope.jsonl"}, "auto_hpo.labels.path: file not found (got 'nope.jsonl')"),
        (_rows(), {"path": "FILE", "label_key": "label"}, "record 1 has no label field 'label' (auto_hpo.labels"),
        ([{"text": "a", "keep": True}] * 25, {"path": "FILE"}, "labels every document keep; both keep and drop"),
        (_rows(8), {"path": "FILE"}, "holds 8 labelled documents; at least 20 are needed"),
        (_rows()[:3] + [{"text": "x", "keep": "maybe"}], {"path": "FILE"}, "record 4 has label 'maybe' under 'keep'"),
        ([{"content": "x", "keep": 1}] * 30, {"path": "FILE"}, "record 1 has no string field 'text'"),
        (_rows(), {"path": "FILE", "metric": "auc"}, "auto_hpo.labels.metric: unknown metric 'auc' (valid: youden"),
        (_rows(), {"path": "FILE", "folds": 1}, "auto_hpo.labels.folds: must be an integer from 2 to 20 (got 1)"),
        (_rows(), {"path": "FILE", "lable_key": "x"}, "auto_hpo.labels.lable_key: unknown key (valid: path,"),
    ],
)
def test_problems_name_the_key(tmp_path, rows, config, expected):
    if config is not None and config.get("path") == "FILE":
        config = {**config, "path": _write(tmp_path / "labels.jsonl", rows)}
    for name in ("labels", "labels_precision", "labels_recall"):
        problems = get_objective(name, {"labels": config}).validate()
        assert len(problems) == 1 and expected in problems[0], problems


def test_a_nested_label_and_the_recipe_text_key(tmp_path):
    rows = [{"content": f"doc {i}", "meta": {"ok": "keep" if i < 12 else "drop"}} for i in range(25)]
    path = _write(tmp_path / "l.jsonl", rows)
    options = {"labels": {"path": path, "label_key": "meta.ok"}, "recipe_text_key": "content"}
    objective = get_objective("labels", options)
    assert objective.validate() == []
    assert objective.truth.tolist() == [i < 12 for i in range(25)]


def test_score_reads_the_decision_the_sweep_hands_over(tmp_path):
    rows = _rows(40)
    path = _write(tmp_path / "l.jsonl", rows)
    truth = [r["keep"] for r in rows]
    population = Population(["data"] * 7)  # the data's documents: the labels objectives do not score them
    decided = np.array([0, 1, 2, 5, 8, 9, 30])
    population.cache[LABELLED_KEPT] = decided
    kept = [i in set(decided.tolist()) for i in range(40)]
    for name, metric in [("labels", "mcc"), ("labels_precision", "precision"), ("labels_recall", "recall")]:
        objective = get_objective(name, {"labels": {"path": path, "metric": "mcc"}})
        assert objective.validate() == []
        assert objective.score(population, np.array([0, 3])) == pytest.approx(_expected(metric, truth, kept))
        assert objective.worst() == pytest.approx(_expected(metric, truth, [False] * 40))
    with pytest.raises(ValueError, match="decision on the labelled documents was not given"):
        get_objective("labels", {"labels": {"path": path}}).score(Population(["x"]), np.array([0]))


def test_synergy_weighs_a_labels_part(tmp_path):
    path = _write(tmp_path / "l.jsonl", _rows(20))
    synergy = get_objective("synergy", {"synergy": {"labels": 2.0, "retention": 1.0}, "labels": {"path": path}})
    assert synergy.validate() == []
    population = Population(["a", "b", "c", "d"])
    population.cache[LABELLED_KEPT] = np.arange(0, 20, 2)  # exactly the documents labelled keep: youden 1
    assert synergy.score(population, np.array([0, 1])) == pytest.approx(2.0 * 1.0 + 0.5)
