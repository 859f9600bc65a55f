"""downstream_task: a classifier trained on the kept samples, scored on a labelled eval file."""

import json

import datasets
import numpy as np
import pytest

from data_juicer_hpo.objectives import Population, get_objective
from data_juicer_hpo.objectives.downstream import accuracy, macro_f1

TOPICS = {
    "space": "orbit rocket launch satellite moon crew station thrust payload mission".split(),
    "cooking": "oven flour butter simmer garlic recipe onion dough salt bake".split(),
    "finance": "shares market profit quarter bank loan interest dividend stock revenue".split(),
}
COMMON = "the a of and to in is it that for on with as this".split()


def _doc(rng, topic, length=25):
    words = rng.choice(TOPICS[topic], size=length // 2).tolist() + rng.choice(COMMON, size=length // 2).tolist()
    # a quarter of each document comes from another topic: the task is learnable but not trivial
    other = rng.choice([t for t in TOPICS if t != topic])
    words += rng.choice(TOPICS[other], size=length // 4).tolist()
    rng.shuffle(words)
    return " ".join(words)


def _rows(n, seed, weights=(0.5, 0.3, 0.2)):
    rng = np.random.default_rng(seed)
    topics = rng.choice(list(TOPICS), size=n, p=list(weights))
    return [{"text": _doc(rng, t), "meta": {"source": str(t), "id": i}} for i, t in enumerate(topics)]


@pytest.fixture
def eval_file(tmp_path):
    path = tmp_path / "eval.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _rows(90, seed=2, weights=(1 / 3, 1 / 3, 1 / 3))))
    return str(path)


def _population(rows):
    return Population([r["text"] for r in rows], dataset=datasets.Dataset.from_list(rows))


def _objective(eval_file, **config):
    return get_objective("downstream_task", {"downstream": {"label_key": "meta.source", "eval": eval_file, **config}})


def test_keep_all_beats_the_majority_baseline(eval_file):
    rows = _rows(150, seed=1)
    objective = _objective(eval_file)
    assert objective.validate() == [] and objective.goal == "maximize"
    population = _population(rows)
    objective.setup(population)
    value = objective.score(population, np.arange(len(rows)))
    train = [r["meta"]["source"] for r in rows]
    truth = [json.loads(line)["meta"]["source"] for line in open(eval_file)]
    majority = max(set(train), key=train.count)
    baseline = np.mean([t == majority for t in truth])
    assert baseline < 0.45 and value > baseline + 0.3, (value, baseline)
    assert objective.score(population, np.arange(len(rows))) == value  # deterministic


def test_one_label_or_nothing_scores_zero(eval_file):
    rows = _rows(150, seed=1)
    population = _population(rows)
    objective = _objective(eval_file)
    one_label = [i for i, r in enumerate(rows) if r["meta"]["source"] == "space"]
    assert objective.score(population, one_label) == 0.0 == objective.worst()
    assert objective.score(population, []) == 0.0
    two_labels = [i for i, r in enumerate(rows) if r["meta"]["source"] != "finance"]
    not_finance = np.mean([json.loads(line)["meta"]["source"] != "finance" for line in open(eval_file)])
    assert 0.0 < objective.score(population, two_labels) <= not_finance  # finance can never be predicted


def test_macro_f1_against_an_independent_computation(eval_file):
    # scikit-learn's documented example of f1_score(average="macro")
    assert macro_f1(np.array([0, 1, 2, 0, 1, 2]), np.array([0, 2, 1, 0, 0, 1])) == pytest.approx(0.26666666666)
    rng = np.random.default_rng(0)
    for _ in range(20):
        truth, predicted = rng.integers(0, 5, size=40), rng.integers(0, 6, size=40)
        labels = sorted(set(truth) | set(predicted))
        confusion = np.zeros((6, 6))
        np.add.at(confusion, (truth, predicted), 1)
        f1 = []
        for c in labels:
            precision = confusion[c, c] / confusion[:, c].sum() if confusion[:, c].sum() else 0.0
            recall = confusion[c, c] / confusion[c, :].sum() if confusion[c, :].sum() else 0.0
            f1.append(0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall))
        assert macro_f1(truth, predicted) == pytest.approx(np.mean(f1))
        assert accuracy(truth, predicted) == pytest.approx(np.trace(confusion) / 40)
    # the objective's macro_f1 is that of its own predictions: with one class never predicted it is below accuracy
    rows = _rows(150, seed=1)
    population = _population(rows)
    two_labels = [i for i, r in enumerate(rows) if r["meta"]["source"] != "finance"]
    f1_value = _objective(eval_file, metric="macro_f1").score(population, two_labels)
    acc_value = _objective(eval_file).score(population, two_labels)
    assert 0.0 < f1_value < acc_value


@pytest.mark.parametrize(
    "options, fragment",
    [
        ({}, "auto_hpo.downstream: required by objective downstream_task"),
        ({"downstream": "labels"}, "auto_hpo.downstream: must be a mapping"),
        ({"downstream": {"eval": "EVAL"}}, "auto_hpo.downstream.label_key: required"),
        ({"downstream": {"label_key": "meta.source"}}, "auto_hpo.downstream.eval: required"),
        ({"downstream": {"label_key": "meta.source", "eval": "nope.jsonl"}}, "auto_hpo.downstream.eval: file not"),
        ({"downstream": {"label_key": "meta.source", "eval": "EMPTY"}}, "holds no records"),
        ({"downstream": {"label_key": "meta.lang", "eval": "EVAL"}}, "has no label 'meta.lang'"),
        ({"downstream": {"label_key": "meta.source", "eval": "EVAL", "metric": "f1"}}, "unknown metric 'f1'"),
        ({"downstream": {"label_key": "meta.source", "eval": "EVAL", "mertic": "f1"}}, "mertic: unknown key"),
    ],
)
def test_bad_options_are_one_line_each(tmp_path, eval_file, options, fragment):
    (tmp_path / "empty.jsonl").write_text("")
    if "downstream" in options and isinstance(options["downstream"], dict):
        paths = {"EVAL": eval_file, "EMPTY": str(tmp_path / "empty.jsonl")}
        options = {"downstream": {k: paths.get(v, v) for k, v in options["downstream"].items()}}
    problems = get_objective("downstream_task", options).validate()
    assert len(problems) == 1 and fragment in problems[0], problems


def test_check_data_finds_missing_labels(eval_file):
    rows = _rows(10, seed=4)
    objective = _objective(eval_file)
    column = datasets.Dataset.from_list(rows)
    assert objective.check_data(lambda k: _column(column, k)) == []
    rows[3]["meta"].pop("source")
    rows[7]["meta"]["source"] = None
    problems = objective.check_data(lambda k: _column(datasets.Dataset.from_list(rows), k))
    assert problems == [
        "auto_hpo.downstream.label_key: 'meta.source' is missing (or null, an object, a list) in 2 of 10 samples "
        "of the dataset (first: sample 3)"
    ]
    other = get_objective("downstream_task", {"downstream": {"label_key": "label", "eval": eval_file}})
    assert other.check_data(lambda k: _column(column, k)) == [
        "auto_hpo.downstream.label_key: 'label' is not a field of the dataset's samples"
    ]


def _column(dataset, key):
    if key not in dataset.column_names:
        raise KeyError(key)
    return dataset[key]


def test_works_inside_synergy_and_flat_label_keys(tmp_path, eval_file):
    rows = [{"text": r["text"], "topic": r["meta"]["source"]} for r in _rows(120, seed=5)]
    flat_eval = tmp_path / "flat.jsonl"
    flat_eval.write_text(
        "".join(
            json.dumps({"text": json.loads(x)["text"], "topic": json.loads(x)["meta"]["source"]}) + "\n"
            for x in open(eval_file)
        )
    )
    population = _population(rows)
    downstream = {"label_key": "topic", "eval": str(flat_eval)}
    synergy = get_objective(
        "synergy", {"synergy": {"downstream_task": 1.0, "retention": 0.5}, "downstream": downstream}
    )
    assert synergy.validate() == []
    assert synergy.check_data(lambda k: _column(datasets.Dataset.from_list(rows), k)) == []
    kept = np.arange(0, 120, 2)
    alone = get_objective("downstream_task", {"downstream": downstream}).score(population, kept)
    assert alone > 0.5
    assert synergy.score(population, kept) == pytest.approx(alone + 0.5 * 0.5)


def test_two_instances_share_the_population_cache_consistently(tmp_path, eval_file):
    rows = _rows(150, seed=1)
    population = _population(rows)
    first = _objective(eval_file)
    alone = first.score(population, np.arange(150))
    # a second instance whose label ids come in another order (its eval file is sorted by label)
    reversed_eval = tmp_path / "sorted.jsonl"
    reversed_eval.write_text("".join(sorted(open(eval_file), key=lambda line: json.loads(line)["meta"]["source"])))
    second = _objective(str(reversed_eval))
    assert second.score(population, np.arange(150)) == pytest.approx(alone)
    assert first.score(population, np.arange(150)) == alone


def test_dense_features_do_not_depend_on_the_chunking(monkeypatch):
    from data_juicer_hpo.objectives import downstream
    from data_juicer_hpo.objectives.features import hashed_ngram_features
    from data_juicer_hpo.objectives.tokens import token_streams

    streams = token_streams([r["text"] for r in _rows(50, seed=9)] + ["", "one"])
    monkeypatch.setattr(downstream, "CHUNK_DOCS", 7)
    chunked = downstream.dense_features(streams, 64)
    rows = hashed_ngram_features(streams, np.arange(len(streams)), 64)
    whole = np.zeros((len(streams), 64), dtype=np.float32)
    whole[rows.row_of_value, rows.columns] = rows.values
    assert np.array_equal(chunked, whole)
    assert np.allclose(np.linalg.norm(whole[:-2], axis=1), 1.0, atol=1e-6) and not whole[-2].any()
    texts = [r["text"] for r in _rows(50, seed=9)] + ["", "one"]
    assert np.array_equal(downstream.text_features(texts, 64), whole)  # tokenized 7 documents at a time
