"""quality_score on small made-up data: reference-like documents score higher, and the score is reproducible."""

import json

import numpy as np
import pytest

from data_juicer_hpo.objectives import Population, get_objective
from data_juicer_hpo.objectives.quality_score import population_probabilities, roc_auc, train_quality_classifier

from tests.helpers.texts import BAD, GOOD, word_docs


@pytest.fixture
def reference(tmp_path):
    path = tmp_path / "ref.json"
    path.write_text(json.dumps([{"body": t} for t in word_docs(GOOD, 25, seed=1)]))
    return str(path)


@pytest.fixture
def population():
    return Population(word_docs(GOOD, 30, seed=2) + word_docs(BAD, 30, seed=3))


def test_reference_like_documents_score_higher(reference, population):
    objective = get_objective("quality_score", {"reference": reference, "text_key": "body"})
    assert objective.validate() == []
    objective.setup(population)
    good, bad = objective.score(population, np.arange(30)), objective.score(population, np.arange(30, 60))
    assert good > 0.6 and bad < 0.4
    mixed = objective.score(population, np.arange(60))
    assert bad < mixed < good
    assert np.all((objective.probabilities >= 0) & (objective.probabilities <= 1))


def test_score_is_the_mean_of_cached_probabilities(reference, population):
    objective = get_objective("quality_score", {"reference": reference, "text_key": "body"})
    objective.setup(population)
    kept = np.array([0, 7, 45])
    assert objective.score(population, kept) == pytest.approx(objective.probabilities[kept].mean())
    objective.probabilities[:] = 0.25  # the score must come from the cache, not be recomputed
    assert objective.score(population, kept) == 0.25


def test_deterministic_and_seeded(reference, population):
    options = {"reference": reference, "text_key": "body"}
    runs = []
    for _ in range(2):
        objective = get_objective("quality_score", options)
        objective.setup(Population(population.texts))
        runs.append(objective.probabilities)
    assert np.array_equal(runs[0], runs[1])
    other = get_objective("quality_score", dict(options, seed=7))
    other.setup(Population(population.texts))
    assert not np.array_equal(runs[0], other.probabilities)


def test_a_new_population_is_set_up_on_first_score(reference, population):
    objective = get_objective("quality_score", {"reference": reference, "text_key": "body"})
    objective.setup(population)
    small = Population(population.texts[:5])
    assert objective.score(small, np.arange(5)) == pytest.approx(objective.probabilities.mean())
    assert len(objective.probabilities) == 5


def test_sampled_negatives_are_not_penalised(reference, population):
    """A sampled negative is scored by the model that did not train on it: the good documents drawn as negatives
    score as their unseen peers do, not as the model that saw them as bad would score them."""
    from data_juicer_hpo.objectives import quality_score
    from data_juicer_hpo.objectives.features import hashed_ngram_features
    from data_juicer_hpo.objectives.logistic import sigmoid
    from data_juicer_hpo.objectives.tokens import token_streams

    objective = get_objective("quality_score", {"reference": reference, "text_key": "body"})
    objective.setup(population)
    good = word_docs(GOOD, 25, seed=1)
    negatives = quality_score.keyed_sample(population.texts, 25, 0)  # the setup's negatives
    classifier = train_quality_classifier(good, population, negatives=negatives)
    drawn_good = np.array(sorted(i for i in negatives if i < 30))
    assert len(drawn_good) >= 3  # the test means something only if good documents were drawn as negatives
    rows = hashed_ngram_features(token_streams(population.texts), drawn_good, quality_score.N_BUCKETS)
    folds = classifier.negative_folds[np.searchsorted(classifier.negatives, drawn_good)]
    logits = np.stack([model.logits(rows) for model in classifier.models])
    seen_by = sigmoid(logits[folds, np.arange(len(drawn_good))])  # the model that trained on them as bad
    unseen_by = sigmoid(logits[1 - folds, np.arange(len(drawn_good))])
    assert np.array_equal(objective.probabilities[drawn_good], unseen_by)
    assert unseen_by.mean() > seen_by.mean() + 0.1
    peers = np.setdiff1d(np.arange(30), drawn_good)
    assert abs(unseen_by.mean() - objective.probabilities[peers].mean()) < 0.25


def test_balanced_when_the_population_is_smaller_than_the_reference():
    good, bad = word_docs(GOOD, 40, seed=4), word_docs(BAD, 3, seed=5)
    population = Population(bad + good[:1])
    classifier = train_quality_classifier(good, population)
    assert sorted(classifier.negatives.tolist()) == [0, 1, 2, 3]
    assert sorted(classifier.negative_folds.tolist()) == [0, 0, 1, 1]
    assert len(classifier.models) == 2
    single = train_quality_classifier(good, Population(bad[:1]))
    assert len(single.models) == 1
    probabilities = population_probabilities(single, Population(bad[:1]))
    assert probabilities.shape == (1,) and 0 <= probabilities[0] <= 1
    with pytest.raises(ValueError):
        train_quality_classifier([], Population(bad))


def test_chunked_setup_equals_scoring_the_whole_token_streams(monkeypatch, reference, population):
    """The setup tokenizes a chunk of documents at a time (and the sampled negatives alone); the probabilities are
    bit for bit those of the classifier applied to the whole population's token streams."""
    from datasets import Dataset

    from data_juicer_hpo.data.texts import ArrowTexts
    from data_juicer_hpo.objectives import quality_score, tokens
    from data_juicer_hpo.objectives.features import hashed_ngram_features
    from data_juicer_hpo.objectives.logistic import sigmoid

    monkeypatch.setattr(quality_score, "SCORE_CHUNK_DOCS", 7)
    monkeypatch.setattr(tokens, "MEMO_TOKENS", 3)  # the memo is cleared between chunks too
    good = word_docs(GOOD, 25, seed=1)
    classifier = train_quality_classifier(good, population)
    chunked = population_probabilities(classifier, population)
    streams = tokens.token_streams(population.texts)
    rows = hashed_ngram_features(streams, np.arange(len(population)), quality_score.N_BUCKETS)
    logits = np.stack([model.logits(rows) for model in classifier.models])
    expected = logits.mean(axis=0)
    for i, (doc, fold) in enumerate(zip(classifier.negatives, classifier.negative_folds)):
        expected[doc] = logits[1 - fold, doc]  # a sampled negative: the model that did not see it
    assert np.array_equal(chunked, sigmoid(expected))
    # the texts read from an Arrow table (as a sweep gives them) train and score the same
    arrow = Population(ArrowTexts(Dataset.from_dict({"text": list(population.texts)})))
    from_arrow = train_quality_classifier(good, arrow)
    assert np.array_equal(from_arrow.models[0].weights, classifier.models[0].weights)
    assert np.array_equal(population_probabilities(from_arrow, arrow), chunked)
    # in two worker processes (each reads its chunks itself): the same numbers, in the same order
    assert np.array_equal(population_probabilities(from_arrow, arrow, processes=2), chunked)


def test_roc_auc_counts_pairs():
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 6, size=80).astype(float)  # many ties
    labels = (rng.random(80) < 0.4).astype(float)
    pos, neg = scores[labels == 1], scores[labels == 0]
    pairs = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    assert roc_auc(scores, labels) == pytest.approx(pairs / (len(pos) * len(neg)), abs=1e-12)
    assert roc_auc(np.array([0.1, 0.9]), np.array([0.0, 1.0])) == 1.0


def test_the_classifier_reports_its_held_out_auc_and_its_progress(monkeypatch, reference, population):
    from loguru import logger

    from data_juicer_hpo.objectives import quality_fit, quality_score

    updates = []

    class Recorded(quality_fit.Progress):
        def update(self, steps=1, note=""):
            updates.append(steps)
            super().update(steps, note)

    monkeypatch.setattr(quality_fit, "Progress", Recorded)
    lines = []
    sink = logger.add(lambda m: lines.append(m.record["message"]), level="INFO")
    try:
        objective = get_objective("quality_score", {"reference": reference, "text_key": "body"})
        objective.setup(Population(word_docs(BAD, 40, seed=3)))
    finally:
        logger.remove(sink)
    assert sum(updates) == 2 * quality_score.MAX_STEPS  # both folds' steps, each reported
    auc = [line for line in lines if "cross-validated AUC" in line]
    assert len(auc) == 1 and float(auc[0].split("[")[1].split("]")[0]) > 0.95  # good and bad text differ plainly
    half = train_quality_classifier(word_docs(GOOD, 25, seed=1), population)  # half the raw data is good
    alike = train_quality_classifier(word_docs(GOOD, 30, seed=1), Population(word_docs(GOOD, 30, seed=6)))
    # the same kind of text on both sides: about chance; half of the raw data like the reference: about 0.75
    assert 0.25 < alike.auc < 0.65 < half.auc < 0.9


def test_the_folds_fitted_beside_each_other_equal_one_featurisation_of_all(monkeypatch, reference, population):
    """Each fold tokenizes its own documents, the last in a forked worker (or a thread where this process may not
    fork): the models are bit for bit those fitted on the rows of all sampled documents featurised at once, and
    every step of both fits counts in the phase's progress."""
    from data_juicer_hpo.objectives import quality_fit, quality_score
    from data_juicer_hpo.objectives.features import hashed_ngram_features, stack_rows, take_rows
    from data_juicer_hpo.objectives.logistic import fit_logistic
    from data_juicer_hpo.objectives.tokens import token_streams

    phases = []

    class Recorded(quality_fit.Progress):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            phases.append(self)

    monkeypatch.setattr(quality_fit, "Progress", Recorded)
    good = word_docs(GOOD, 25, seed=1)
    forked = train_quality_classifier(good, population, seed=3)
    fit_phase = next(p for p in phases if p.what == "fitting the quality classifier")
    assert fit_phase.done == 2 * quality_score.MAX_STEPS  # both folds' steps, the worker's included
    monkeypatch.setattr(quality_fit, "may_fork", lambda: False)
    threaded = train_quality_classifier(good, population, seed=3)

    rng = np.random.default_rng(3)  # the sample and the folds, drawn as the function draws them
    n = min(len(good), len(population))
    positives = np.sort(rng.choice(len(good), n, replace=False))
    negatives = np.sort(rng.choice(len(population), n, replace=False))
    positive_folds, negative_folds = rng.permutation(n) % 2, rng.permutation(n) % 2
    features = [
        hashed_ngram_features(token_streams(texts), np.arange(n), quality_score.N_BUCKETS)
        for texts in ([good[i] for i in positives], [population.texts[i] for i in negatives])
    ]
    for fold in range(2):
        picked = [np.flatnonzero(positive_folds == fold), np.flatnonzero(negative_folds == fold)]
        rows = stack_rows(*(take_rows(f, p) for f, p in zip(features, picked)))
        labels = np.r_[np.ones(len(picked[0])), np.zeros(len(picked[1]))]
        expected = fit_logistic(rows, labels, max_iter=quality_score.MAX_STEPS)
        for classifier in (forked, threaded):
            assert np.array_equal(classifier.models[fold].weights, expected.weights)
            assert classifier.models[fold].intercept == expected.intercept
    assert np.array_equal(forked.negative_folds, negative_folds) and forked.auc == threaded.auc


def test_the_negatives_do_not_depend_on_the_documents_order(reference, population):
    """The negatives are the documents with the smallest keyed hashes (the same on every executor, whose blocks and
    files come in no fixed order): the population reversed gives the same classifier and the same probabilities."""
    from data_juicer_hpo.objectives.quality_score import document_keys, keyed_sample

    objective = get_objective("quality_score", {"reference": reference, "text_key": "body"})
    objective.setup(population)
    backwards = get_objective("quality_score", {"reference": reference, "text_key": "body"})
    backwards.setup(Population(list(population.texts)[::-1]))
    assert np.array_equal(backwards.probabilities[::-1], objective.probabilities)
    n = 9
    keys = document_keys(population.texts, 0)
    picked = keyed_sample(population.texts, n, 0)
    assert np.array_equal(keys[picked], np.sort(keys)[:n]) and len(set(picked.tolist())) == n
    assert not np.array_equal(keyed_sample(population.texts, n, 1), picked)  # the seed draws another sample


def test_population_keys_are_each_texts_key_however_they_are_read(monkeypatch):
    """From a list of strings or from Arrow buffers, a chunk at a time: every text's document_keys, in order
    (nulls and non-ASCII included)."""
    import datasets

    from data_juicer_hpo.data.texts import ArrowTexts
    from data_juicer_hpo.objectives import quality_score
    from data_juicer_hpo.objectives.quality_score import document_keys, population_keys

    texts = word_docs(GOOD, 60, seed=2) + ["", "é ü 漢字", "x" * 5000] + word_docs(BAD, 70, seed=4)
    arrow = ArrowTexts.of(datasets.Dataset.from_dict({"text": texts[:60] + [None] + texts[61:]}), "text")
    want = document_keys(texts, 5)
    assert len(set(want.tolist())) == len(set(texts))  # distinct texts, distinct keys
    for chunk in (quality_score.CHUNK_DOCS, 16):
        monkeypatch.setattr(quality_score, "CHUNK_DOCS", chunk)
        for seq in (texts, arrow):
            assert np.array_equal(population_keys(seq, 5), want)
    assert not np.array_equal(population_keys(texts, 6), want)


@pytest.mark.parametrize("fork", [True, False])
def test_the_draw_beside_the_worker_gives_the_classifier_of_the_drawn_negatives(monkeypatch, fork):
    """train_on_keyed_sample draws the keyed negatives while the worker tokenizes the positives: the classifier is
    bit for bit the one trained on those negatives given outright; with fewer distinct texts than reference
    documents (copies share a key), the one trained on the fewer negatives drawn."""
    from data_juicer_hpo.objectives import quality_fit
    from data_juicer_hpo.objectives.quality_score import population_keys, smallest_keyed, train_on_keyed_sample

    if not fork:
        monkeypatch.setattr(quality_fit, "may_fork", lambda: False)
    good = word_docs(GOOD, 30, seed=1)
    for population in (
        Population(word_docs(BAD, 50, seed=2) + word_docs(GOOD, 20, seed=8)),
        Population(word_docs(BAD, 12, seed=3) * 4),  # 12 distinct texts for 30 reference documents
    ):
        keys = population_keys(population.texts, 4)
        negatives = smallest_keyed(keys, min(len(good), len(population)))
        given = train_quality_classifier(good, population, 4, negatives, keys[negatives])
        classifier, drawn_keys = train_on_keyed_sample(good, population, 4)
        assert np.array_equal(drawn_keys, keys) and classifier.auc == given.auc
        assert len(classifier.negatives) == min(len(good), len(set(population.texts)))
        for mine, theirs in zip(classifier.models, given.models):
            assert np.array_equal(mine.weights, theirs.weights) and mine.intercept == theirs.intercept
        for field in ("negatives", "negative_folds", "negative_keys", "key_folds"):
            assert np.array_equal(getattr(classifier, field), getattr(given, field))
